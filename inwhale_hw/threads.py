"""How many threads this process's own parallel kernels may use.

``INWHALE_HW_THREADS`` (an integer >= 1) when set, else the number of CPUs the process may run
on (its affinity mask, so ``taskset`` and container CPU sets are respected), capped at
``cap``.  Dask workers started by :mod:`inwhale_hw.scale` get ``INWHALE_HW_THREADS=1`` (and
one thread for numba and BLAS), since their parallelism is one process per core.
"""

from __future__ import annotations

import os

from .errors import ParameterError

__all__ = ["thread_count", "THREADS_ENV"]

THREADS_ENV = "INWHALE_HW_THREADS"


def thread_count(cap: int = 4) -> int:
    """The thread budget the module docstring describes."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ParameterError(f"{THREADS_ENV}={text!r} is not allowed; expected an integer >= 1")
        return min(value, cap)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cap, cpus))
