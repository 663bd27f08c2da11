"""Print the README's table of accelerator hardware: iCE40 LUT4, FF, carry, Fmax, throughput.

Usage::

    python scripts/accel_synth_table.py [-o table.md] [--device hx8k] [--rows 4 --cols 4] [--no-fmax]
                                        [--only pe array requant]

Rows: the int8 processing element (wrap, saturate, with the product register), the
multiplier-free pow2 and apot elements, an R x C MAC array of each weight format, and the
gemmlowp and shift-only requantizers, all with 32-bit accumulators and int8 outputs.  Each
is built through the ``mac`` / ``requant`` block sets of :mod:`inwhale_hw.plugins.accel_blocks.hardware`
(the blocks ``inwhale-hw verify`` proves) and synthesized with
:func:`inwhale_hw.hdlsim.synthesize` (Yosys ``synth_ice40``; Fmax from nextpnr-ice40 with
every port registered, seed 1).  An array has more ports than an iCE40 package has pins,
so its Fmax is measured on :class:`ScanHarness` (inputs shifted in, outputs captured and
shifted out through three pins; the harness adds one LUT per output bit and no logic in
the array's paths) while its LUT4/FF/carry are the bare array's.  Throughput is Fmax times
the work per clock: MACs for the elements and arrays, outputs for the requantizers.  Below the table, the LUT4 of each
power-of-two design as a share of its int8 counterpart.  Needs the ``synth`` extra; the
gemmlowp unit (a 32 x 31 multiplier) takes minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw import get_hardware
from inwhale_hw.hdlsim import SynthReport, synthesize
from inwhale_hw.hdlsim.synth import DEVICES

GROUPS = ("pe", "array", "requant")


class ScanHarness(wiring.Component):
    """``inner`` behind three pins, for place and route of designs with too many ports.

    Every input port of ``inner`` is driven by a register of a shift chain fed from
    ``scan_in``; every output port is captured into a second chain (``capture`` high) or
    shifted towards ``scan_out`` (``capture`` low).  All of ``inner``'s logic stays observable,
    and its register-to-register paths are exactly its own.
    """

    def __init__(self, inner: wiring.Component) -> None:
        self.inner = inner
        super().__init__({"scan_in": In(1), "capture": In(1), "scan_out": Out(1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        m.submodules.inner = self.inner
        ports = [(member.flow, Value.cast(value)) for _, member, value in self.inner.signature.flatten(self.inner)]
        inputs = [value for flow, value in ports if flow == wiring.In]
        outputs = [value for flow, value in ports if flow == wiring.Out]
        chain_in = Signal(sum(len(v) for v in inputs), name="chain_in")
        m.d.sync += chain_in.eq(Cat(self.scan_in, chain_in[:-1]))
        m.d.comb += Cat(*inputs).eq(chain_in)
        captured = Cat(*outputs)
        chain_out = Signal(len(captured), name="chain_out")
        m.d.sync += chain_out.eq(Mux(self.capture, captured, Cat(chain_out[1:], 0)))
        m.d.comb += self.scan_out.eq(chain_out[0])
        return m


@dataclass
class Row:
    group: str
    name: str
    block: str
    label: str
    per_clock: int
    unit: str
    params: dict[str, Any] = field(default_factory=dict)
    hw: dict[str, Any] = field(default_factory=dict)

    def build(self):
        return get_hardware(self.name, **self.params).datapath(self.block, **self.hw)


def rows(r: int, c: int, only: tuple[str, ...] = GROUPS) -> list[Row]:
    """The table's rows, in order."""
    table = [
        Row("pe", "mac", "pe", "PE int8 x int8, wrap", 1, "MMAC/s"),
        Row("pe", "mac", "pe", "PE int8 x int8, saturate", 1, "MMAC/s", {"overflow": "sat"}),
        Row("pe", "mac", "pe", "PE int8 x int8, wrap, product register", 1, "MMAC/s", hw={"pipeline": 1}),
        Row("pe", "mac", "pe", "PE pow2 (4-bit codes), wrap", 1, "MMAC/s", {"weights": "pow2"}),
        Row("pe", "mac", "pe", "PE apot (4-bit codes), wrap", 1, "MMAC/s", {"weights": "apot"}),
    ]
    for weights in ("int8", "pow2", "apot"):
        table.append(Row("array", "mac", "array", f"{r} x {c} array, {weights}, wrap", r * c, "MMAC/s",
                         {"weights": weights, "rows": r, "cols": c}))
    table += [
        Row("requant", "requant", "gemmlowp", "requant gemmlowp -> int8", 1, "Mout/s"),
        Row("requant", "requant", "shift", "requant shift-only -> int8", 1, "Mout/s"),
    ]
    return [row for row in table if row.group in only]


def savings(results: list[tuple[Row, SynthReport]]) -> list[str]:
    """One line per power-of-two design: its LUT4 as a share of the int8 design of its group."""
    lines = []
    for group in ("pe", "array"):
        base = next((rep for row, rep in results if row.group == group and row.params.get("weights", "int8") == "int8"
                     and not row.hw and row.params.get("overflow", "wrap") == "wrap"), None)
        for row, rep in results:
            weights = row.params.get("weights", "int8")
            if base is None or row.group != group or weights == "int8":
                continue
            lines.append(f"- {row.label}: {rep.lut4} LUT4 = {100 * rep.lut4 / base.lut4:.0f}% of the int8 design's "
                         f"{base.lut4} ({base.lut4 - rep.lut4} fewer)")
    return lines


def render(results: list[tuple[Row, SynthReport]], device: str) -> str:
    lines = [
        f"| Block | LUT4 | FF | Carry | Fmax (MHz, iCE40 {device}) | Throughput |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row, rep in results:
        fmax = f"{rep.fmax_mhz:.0f}" if rep.fmax_mhz is not None else "n/a"
        rate = f"{rep.fmax_mhz * row.per_clock:.0f} {row.unit}" if rep.fmax_mhz is not None else "n/a"
        lines.append(f"| {row.label} | {rep.lut4} | {rep.ff} | {rep.carry} | {fmax} | {rate} |")
    lines += ["", *savings(results)]
    last = results[-1][1] if results else None
    tools = (last.yosys + (f", {last.nextpnr}" if last.nextpnr else "")) if last else ""
    lines += [
        "",
        f"Produced by `python scripts/accel_synth_table.py` ({tools}; Yosys `synth_ice40` defaults, no DSP "
        "blocks; Fmax with every port registered, arrays through a 3-pin scan harness, nextpnr seed 1). "
        "32-bit accumulators; requantizers combinational with run-time multiplier, shift and zero point.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", help="write the markdown here (default: stdout)")
    parser.add_argument("--device", choices=list(DEVICES), default="hx8k")
    parser.add_argument("--rows", type=int, default=4, help="MAC array rows (default 4)")
    parser.add_argument("--cols", type=int, default=4, help="MAC array columns (default 4)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS), help="row groups to include")
    parser.add_argument("--no-fmax", action="store_true", help="skip place and route")
    args = parser.parse_args(argv)
    results = []
    for row in rows(args.rows, args.cols, tuple(args.only)):
        scan = row.group == "array"
        report = synthesize(row.build, device=args.device, fmax=not (args.no_fmax or scan), label=row.label)
        if scan and not args.no_fmax:
            report.fmax_mhz = synthesize(lambda: ScanHarness(row.build()), device=args.device).fmax_mhz
        print(f"  {report} ({report.seconds:.0f} s)", file=sys.stderr, flush=True)
        results.append((row, report))
    text = render(results, args.device)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
