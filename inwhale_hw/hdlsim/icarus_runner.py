"""Run a component's generated Verilog on vectors in Icarus Verilog.

:func:`run_icarus` writes the component as Verilog with the testbench of :mod:`.testbench`,
compiles it with ``iverilog -g2005`` (in the SystemVerilog modes Icarus does not run the
generated ``always @*`` blocks at time 0) and runs ``vvp``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from amaranth.lib import wiring

from ..errors import ToolNotFoundError
from .testbench import collect, prepare, run_tool
from .vectors import SimRun

__all__ = ["run_icarus", "find_icarus"]


def find_icarus() -> tuple[str, str]:
    """Paths of ``iverilog`` and ``vvp``, or ToolNotFoundError naming the package to install."""
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iverilog is None or vvp is None:
        raise ToolNotFoundError(
            "Icarus Verilog (iverilog and vvp) is not installed; install the Debian/Ubuntu "
            "package 'iverilog' (or see https://steveicarus.github.io/iverilog/)"
        )
    return iverilog, vvp


def run_icarus(
    design: wiring.Component | Callable[[], wiring.Component],
    inputs: Mapping[str, Any],
    *,
    outputs: int | None = None,
    vcd: str | os.PathLike | None = None,
    max_cycles: int | None = None,
    workdir: str | os.PathLike | None = None,
    seed: int = 0,
    stalls: bool = True,
) -> SimRun:
    """Simulate the Verilog of ``design`` on ``inputs`` in Icarus Verilog.

    Arguments as for :func:`~inwhale_hw.hdlsim.amaranth_runner.run_amaranth`; ``workdir``
    keeps the generated files (testbench, Verilog, hex vectors, outputs) in that directory
    instead of a temporary one.
    """
    start = time.perf_counter()
    iverilog, vvp = find_icarus()
    component = design() if callable(design) and not isinstance(design, wiring.Component) else design
    with tempfile.TemporaryDirectory(prefix="inwhale_icarus_") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        bench = prepare(component, inputs, work, outputs=outputs, max_cycles=max_cycles,
                        vcd=vcd is not None, seed=seed if stalls else None)
        run_tool([iverilog, "-g2005", "-o", "sim.vvp", "tb.v", "dut.v"], work, "iverilog")
        t0 = time.perf_counter()
        run_tool([vvp, "-n", "sim.vvp"], work, "vvp")
        sim_seconds = time.perf_counter() - t0
        result, reset = collect(bench, "Icarus")
        if vcd is not None:
            shutil.copyfile(work / "wave.vcd", f"{os.fspath(vcd)}.tmp{os.getpid()}")
            os.replace(f"{os.fspath(vcd)}.tmp{os.getpid()}", vcd)
    return SimRun("icarus", result, time.perf_counter() - start, sim_seconds, reset_outputs=reset)
