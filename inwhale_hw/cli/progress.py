"""A progress line on stderr for long commands: label, percentage, bar, elapsed time and ETA.

Shown only when stderr is a terminal and ``--quiet`` is not given; redrawn at most five times
a second, cleared when the task ends.  The commands pass :meth:`Progress.task`'s callback down
to the streaming pipeline (:mod:`inwhale_hw.audio.pipeline`), which calls it with the number
of frames each block held.

``progress_bar(total, label, quiet=...)`` is the simpler step-count bar of the batch
commands: ``advance(done)`` takes the number of finished steps so far.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator

import click

__all__ = ["Progress", "quiet_option", "progress_bar"]

_WIDTH = 24


def quiet_option(fn):
    """The ``-q/--quiet`` flag: no progress line."""
    return click.option("-q", "--quiet", is_flag=True, default=False, help="Show no progress line on stderr.")(fn)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress lines for one command; inert unless stderr is a terminal and not ``quiet``."""

    def __init__(self, quiet: bool = False) -> None:
        self.enabled = not quiet and sys.stderr.isatty()

    @contextlib.contextmanager
    def task(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        """Yield a ``tick(n)`` callback counting ``n`` more of ``total`` units done."""
        if not self.enabled or total <= 0:
            yield lambda n: None
            return
        start = time.monotonic()
        state = {"done": 0, "drawn": 0.0}

        def draw() -> None:
            now = time.monotonic()
            done = min(state["done"], total)
            part = done / total
            elapsed = now - start
            eta = elapsed / part - elapsed if part > 0 else 0.0
            bar = "#" * int(part * _WIDTH)
            sys.stderr.write(
                f"\r{label}: {part * 100:3.0f}% [{bar:<{_WIDTH}}] {_clock(elapsed)} ETA {_clock(eta)}\x1b[K"
            )
            sys.stderr.flush()
            state["drawn"] = now

        def tick(n: int) -> None:
            state["done"] += n
            if time.monotonic() - state["drawn"] >= 0.2:
                draw()

        draw()
        try:
            yield tick
        finally:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


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
