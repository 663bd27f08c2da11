"""A real Dask cluster for the tests: one ``dask scheduler`` and worker processes on loopback.

Random ports (``--port 0``, the address read from the scheduler file), no dashboards, every
process in its own process group and killed at teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def kill_worker(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(10)

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def start_cluster(tmp: Path, workers: int = 2) -> Cluster:
    """Scheduler plus ``workers`` single-threaded worker processes (no nanny), all joined."""
    file = tmp / "scheduler.json"
    scheduler = _spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(file)], tmp / "scheduler.log")
    cluster = Cluster("", scheduler)
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: {(tmp / 'scheduler.log').read_text()[-2000:]}")
            time.sleep(0.1)
        cluster.address = json.loads(file.read_text())["address"]
        for i in range(workers):
            cluster.workers.append(_spawn(
                ["worker", cluster.address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                tmp / f"worker{i}.log"))
        from distributed import Client

        with Client(cluster.address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
    except BaseException:
        cluster.close()
        raise
    return cluster
