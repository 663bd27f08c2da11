"""A progress bar on stderr for long commands, shown only when stderr is a terminal.

``with progress_bar(total, "batch", quiet=quiet) as advance: advance(done)`` draws click's bar
with position and ETA; ``advance`` takes the number of finished steps so far.  With ``quiet``
or a non-terminal stderr (a pipe, a log file, CI) it draws nothing.

:class:`Progress` is the same bar for the audio commands, one per task (``"tone.wav: cvsd"``):
its ``task(label, total)`` yields ``tick(n)``, which counts ``n`` more frames done; the
streaming pipeline (:mod:`inwhale_hw.audio.pipeline`) calls it once per block.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import click

__all__ = ["progress_bar", "Progress", "quiet_option"]


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


def quiet_option(fn):
    """The ``-q/--quiet`` flag: no progress bar."""
    return click.option("-q", "--quiet", is_flag=True, default=False, help="No progress bar.")(fn)


class Progress:
    """Progress bars for one command's tasks; inert unless stderr is a terminal and not ``quiet``."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.enabled = not quiet and sys.stderr.isatty()

    @contextlib.contextmanager
    def task(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        """Yield ``tick(n)``: ``n`` more of ``total`` units done."""
        with progress_bar(total, label, quiet=self.quiet) as advance:
            done = [0]

            def tick(n: int) -> None:
                done[0] = min(total, done[0] + n)
                advance(done[0])

            yield tick
