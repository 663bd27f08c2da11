"""A progress bar on stderr for long commands, shown only when stderr is a terminal.

``with progress_bar(total, "batch", quiet=quiet) as advance: advance(done)`` draws click's bar
with position and ETA; ``advance`` takes the number of finished steps so far.  With ``quiet``
or a non-terminal stderr (a pipe, a log file, CI) it draws nothing.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import click

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(total: int, label: str, *, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(done)``; see the module docstring."""
    if quiet or not sys.stderr.isatty() or total <= 0:
        yield lambda done: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True) as bar:
        def advance(done: int) -> None:
            bar.update(done - bar.pos)

        yield advance
