"""Where the tasks of ``batch`` and ``accel sweep`` run: Dask, or this process.

:func:`open_engine` returns an :class:`Engine` for one of three places:

``scheduler=None`` with ``dask[distributed]`` installed
    an embedded ``distributed.LocalCluster`` with one single-threaded worker *process* per
    core (``workers`` overrides the count); its dashboard address is announced.
``scheduler="tcp://host:8786"`` (or the ``DASK_SCHEDULER_ADDRESS`` environment variable,
    Dask's own convention)
    a running cluster: ``dask scheduler`` / ``dask worker`` by hand, ``dask-jobqueue`` on a
    batch system, a Kubernetes operator, ... anything a ``distributed.Client`` can reach.
``serial=True``, or ``distributed`` not installed
    every task runs here, one after the other, with the same task functions and therefore
    the same results; a note says how to get parallelism (``pip install 'inwhale_hw[cluster]'``).

Tasks are plain functions of plain arguments (paths or bytes, parameter dicts), so a worker
never receives an open handle.  Results are handed to a callback *as each task completes*
(callers store them at once, so an interrupted run keeps what finished).  A worker process that
dies is replaced and its tasks rescheduled by the scheduler (``distributed.scheduler.allowed-failures``);
a task that raises an :class:`~inwhale_hw.errors.InwhaleError` is a result (recorded as failed),
any other exception is retried ``retries`` times and then reported.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ..errors import InwhaleError, ParameterError

__all__ = ["Engine", "TaskFailure", "open_engine", "wait_for_workers", "dask_available", "SCHEDULER_ENV"]

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: one thread per worker process for our kernels, numba and BLAS (parallelism is one process per core)
WORKER_ENV = {"INWHALE_HW_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
INSTALL_HINT = "pip install 'inwhale_hw[cluster]' (dask[distributed] and pyarrow)"


def dask_available() -> bool:
    """True when ``distributed`` imports."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class TaskFailure:
    """A task that ended in an error: its key and the one-line message."""

    key: str
    error: str


@dataclass
class Engine:
    """Runs ``fn(*args)`` for many argument tuples; see the module docstring."""

    kind: str  # "local", "remote" or "serial"
    client: Any = None
    cluster: Any = None
    description: str = ""
    retries: int = 2
    notes: list[str] = field(default_factory=list)

    @property
    def parallel(self) -> bool:
        return self.client is not None

    @property
    def workers(self) -> int:
        if self.client is None:
            return 1
        return len(self.client.scheduler_info().get("workers", {}))

    def share(self, value: Any) -> Any:
        """Send a large value to the workers once (``Client.scatter``, broadcast); here: itself."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True, hash=False)

    def run(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[str, tuple[Any, ...]]],
        on_result: Callable[[str, Any], None],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[TaskFailure]:
        """Run ``fn(*args)`` for each ``(key, args)``; call ``on_result(key, value)`` as each ends.

        Returns the tasks that failed (an :class:`InwhaleError` from the task, or an exception
        left after the retries).  ``progress(n)`` is called with the number of finished tasks.
        """
        failures: list[TaskFailure] = []
        if not tasks:
            return failures
        if self.client is None:
            for done, (key, args) in enumerate(tasks, 1):
                try:
                    on_result(key, fn(*args))
                except InwhaleError as exc:
                    failures.append(TaskFailure(key, str(exc)))
                if progress:
                    progress(done)
            return failures
        from distributed import as_completed

        futures = {
            self.client.submit(fn, *args, key=f"inwhale-{key}", pure=False, retries=self.retries): key
            for key, args in tasks
        }
        for done, future in enumerate(as_completed(futures), 1):
            key = futures[future]
            try:
                value = future.result()
            except InwhaleError as exc:
                failures.append(TaskFailure(key, str(exc)))
            except Exception as exc:  # noqa: BLE001 - a task's unexpected error is reported, the rest go on
                failures.append(TaskFailure(key, f"{type(exc).__name__}: {exc}"))
            else:
                on_result(key, value)
            future.release()
            if progress:
                progress(done)
        return failures

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _check_workers(workers: int | None) -> None:
    if workers is not None and not (isinstance(workers, int) and 1 <= workers <= 1024):
        raise ParameterError(f"workers {workers!r} is not allowed; expected an integer from 1 to 1024")


@contextlib.contextmanager
def open_engine(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    serial: bool = False,
    retries: int = 2,
    announce: Callable[[str], None] | None = None,
) -> Iterator[Engine]:
    """The engine the module docstring describes, closed when the ``with`` block ends."""
    _check_workers(workers)
    say = announce or (lambda text: print(text, file=sys.stderr))
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if serial or not dask_available():
        if address and not serial:
            raise ParameterError(f"scheduler {address!r} given, but dask.distributed is not installed: {INSTALL_HINT}")
        engine = Engine("serial", description="serial, in this process", retries=retries)
        if not serial:
            engine.notes.append(f"ran serially in this process; for parallel workers: {INSTALL_HINT}")
        yield engine
        return
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
        engine = Engine("remote", client=client, description=f"Dask scheduler {address}", retries=retries)
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=40, env=dict(WORKER_ENV),
        )
        client = Client(cluster)
        engine = Engine("local", client=client, cluster=cluster, retries=retries,
                        description=f"local Dask cluster, {n} worker process(es) x 1 thread")
        say(f"dask: {engine.description}; dashboard {client.dashboard_link}")
    try:
        yield engine
    finally:
        engine.close()


def wait_for_workers(engine: Engine, count: int, timeout: float = 30.0) -> None:
    """Block until ``count`` workers have joined (for tests and remote clusters)."""
    if engine.client is None:
        return
    deadline = time.monotonic() + timeout
    while engine.workers < count:
        if time.monotonic() > deadline:
            raise ParameterError(f"only {engine.workers} of {count} Dask workers joined within {timeout:g} s")
        time.sleep(0.1)
