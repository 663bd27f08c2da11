"""Run a component's generated Verilog on vectors in Verilator.

:func:`run_verilator` uses the same testbench text and vector files as the Icarus runner
(:mod:`.testbench`): Verilator 5 compiles the testbench with its ``#`` delays
(``--binary --timing``) into a C++ executable and runs it.  Verilator is two-state, so
``x``/``z`` never appear (undefined bits read as 0 or random, per its ``--x-initial``
default of 0 here).  Compilation takes several seconds per design; the simulation itself is
much faster than Icarus, which pays off on long runs.  Needs ``verilator`` >= 5 (the Debian
package ``verilator``; CI installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from amaranth.lib import wiring

from ..errors import ToolNotFoundError
from .testbench import TB, collect, prepare, run_tool
from .vectors import SimRun

__all__ = ["run_verilator", "find_verilator", "compile_verilator"]

_INSTALL = "install the Debian/Ubuntu package 'verilator' (version 5 or later; see https://verilator.org)"


def find_verilator() -> str:
    """Path of ``verilator`` (version >= 5), or ToolNotFoundError naming the package."""
    path = shutil.which("verilator")
    if path is None:
        raise ToolNotFoundError(f"Verilator is not installed; {_INSTALL}")
    text = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"Verilator (\d+)\.", text)
    if match is None or int(match.group(1)) < 5:
        raise ToolNotFoundError(f"Verilator {text.strip()!r} cannot run timing testbenches; {_INSTALL}")
    return path


def compile_verilator(work: Path, sources: list[str], top: str = TB) -> Path:
    """Compile ``sources`` in ``work`` with top module ``top``; the path of the executable."""
    verilator = find_verilator()
    run_tool([verilator, "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
              "--x-assign", "0", "--x-initial", "0", "--top-module", top, "-O2",
              "--Mdir", "obj_dir", "-o", "sim", *sources], work, "verilator")
    return work / "obj_dir" / "sim"


def run_verilator(
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
    """Simulate the Verilog of ``design`` on ``inputs`` in Verilator.

    Arguments as for :func:`~inwhale_hw.hdlsim.icarus_runner.run_icarus`; a VCD is written
    with ``--trace`` (the testbench's ``$dumpvars``).
    """
    start = time.perf_counter()
    find_verilator()
    component = design() if callable(design) and not isinstance(design, wiring.Component) else design
    with tempfile.TemporaryDirectory(prefix="inwhale_verilator_") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        bench = prepare(component, inputs, work, outputs=outputs, max_cycles=max_cycles,
                        vcd=vcd is not None, seed=seed if stalls else None)
        extra = ["--trace"] if vcd is not None else []
        executable = compile_verilator(work, [*extra, "tb.v", "dut.v"])
        t0 = time.perf_counter()
        run_tool([str(executable)], work, "Verilator simulation")
        sim_seconds = time.perf_counter() - t0
        result, reset = collect(bench, "Verilator")
        if vcd is not None:
            shutil.copyfile(work / "wave.vcd", f"{os.fspath(vcd)}.tmp{os.getpid()}")
            os.replace(f"{os.fspath(vcd)}.tmp{os.getpid()}", vcd)
    return SimRun("verilator", result, time.perf_counter() - start, sim_seconds, reset_outputs=reset)
