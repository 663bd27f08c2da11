"""Best-of-N timing shared by the benchmark scripts (imported as ``timing``; run them as scripts).

The functions run interleaved, one call each per round, so load from other processes on a
shared machine affects all of them alike; the shortest time of each is kept.  Ratios between
functions measured in the same call are the figures to compare across runs.
"""

from __future__ import annotations

import time
from typing import Callable


def best_times(
    fns: list[Callable[[], object]], repeat: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """Shortest ``clock`` time of each function over ``repeat`` interleaved rounds."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = clock()
            fn()
            best[i] = min(best[i], clock() - start)
    return best
