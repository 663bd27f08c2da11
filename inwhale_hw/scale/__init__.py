"""Scale-out: corpus codec evaluation and accelerator design sweeps on Dask.

``run_batch`` (``inwhale-hw batch``) and ``run_sweep`` (``inwhale-hw accel sweep``) turn a job
into independent tasks and run them on an :class:`Engine` from :func:`open_engine`: an embedded
local Dask cluster (one single-threaded worker process per core), any running cluster by
address, or this process when ``dask[distributed]`` is not installed.  Results are stored per
task as they finish, keyed by input bytes, configuration and code, so runs resume.
"""

from .batch import BatchResult, CodecConfig, expand_grid, load_grid, run_batch
from .corpus import CorpusItem, discover
from .engine import Engine, TaskFailure, dask_available, open_engine

__all__ = [
    "BatchResult", "CodecConfig", "CorpusItem", "Engine", "TaskFailure", "dask_available", "discover",
    "expand_grid", "load_grid", "open_engine", "run_batch",
]
