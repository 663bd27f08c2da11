"""Write the README's table of hardware blocks: iCE40 LUT4, FF, carry, Fmax, throughput.

Usage::

    python scripts/resource_table.py [-o table.md] [--device hx8k] [--pipeline 0 2] [--no-fmax]

Every registered quantizer that declares ``blocks`` is built with each combination of its
string-choice parameters (e.g. every G.711 ``flavor``; at most 8 combinations, else the
defaults only) and each requested ``pipeline`` depth (blocks that do not take ``pipeline``
get one row; variants without hardware, ``UnsupportedError``, get none).  Variants that elaborate to identical hardware (same RTLIL) share a row.
Each row is synthesized with :func:`inwhale_hw.hdlsim.synthesize` (Yosys ``synth_ice40``;
Fmax from nextpnr-ice40 with every port registered).  Throughput is Fmax times samples
per clock: 1 for a map block; for a stream block, outputs per cycle measured in Amaranth's
simulator on the first 2000 of its default vectors.  Needs the ``synth`` extra.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amaranth.back import rtlil

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hdlsim import describe, golden_vectors, run_amaranth, synthesize
from inwhale_hw.hdlsim.synth import DEVICES
from inwhale_hw.host import get_host

MAX_VARIANTS = 8
STREAM_SAMPLES = 2000


@dataclass
class Row:
    quantizer: str
    block: str
    pipeline: int | None
    kind: str
    variants: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def _variants(cls) -> list[dict[str, Any]]:
    """Parameter sets: every combination of string-choice parameters (defaults if too many)."""
    choice = [spec for spec in cls.param_specs() if spec.choices and spec.type is str]
    combos = list(itertools.product(*(spec.choices for spec in choice)))
    if not choice or len(combos) > MAX_VARIANTS:
        return [{}]
    return [dict(zip((spec.name for spec in choice), combo)) for combo in combos]


def collect_rows(depths: list[int]) -> list[Row]:
    """One row per distinct piece of hardware."""
    host = get_host()
    rows: list[Row] = []
    for name in host.registry.names():
        cls = host.registry.get(name)
        for block in cls.blocks:
            for depth in depths:
                seen: dict[str, Row] = {}
                for params in _variants(cls):
                    quantizer = cls(**params)
                    try:
                        component = quantizer.datapath(block, pipeline=depth)
                        pipeline: int | None = depth
                    except UnsupportedError:
                        continue  # a software-only variant (e.g. G.711 flavor "sox" encoder)
                    except ParameterError:
                        if depth != depths[0]:
                            continue
                        component, pipeline = quantizer.datapath(block), None
                    key = hashlib.sha256(rtlil.convert(component, emit_src=False).encode()).hexdigest()
                    label = ", ".join(f"{v}" for v in params.values()) or "default"
                    if key in seen:
                        seen[key].variants.append(label)
                        continue
                    seen[key] = Row(name, block, pipeline, describe(component).kind, [label], params)
                    rows.append(seen[key])
    return rows


def _samples_per_cycle(row: Row) -> float:
    if row.kind == "map":
        return 1.0
    quantizer = get_host().registry.create(row.quantizer, **row.params)
    hw = {} if row.pipeline is None else {"pipeline": row.pipeline}
    component = quantizer.datapath(row.block, **hw)
    vectors = golden_vectors(quantizer, row.block, component)
    inputs = {key: value[:STREAM_SAMPLES] for key, value in vectors.inputs.items()}
    count = len(inputs["i"])
    run = run_amaranth(component, inputs, outputs=count)
    return len(run.outputs["o"]) / max(run.cycles, 1)


def render(rows: list[Row], device: str, fmax: bool) -> str:
    lines = [
        f"| Quantizer | Block | Variant | Pipeline | LUT4 | FF | Carry | Fmax (MHz, iCE40 {device}) | Throughput (Msamples/s) |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        quantizer = get_host().registry.create(row.quantizer, **row.params)
        hw = {} if row.pipeline is None else {"pipeline": row.pipeline}
        report = synthesize(lambda: quantizer.datapath(row.block, **hw), device=device, fmax=fmax)
        spc = _samples_per_cycle(row)
        fmax_text = f"{report.fmax_mhz:.0f}" if report.fmax_mhz is not None else "n/a"
        throughput = f"{report.fmax_mhz * spc:.0f}" if report.fmax_mhz is not None else "n/a"
        depth = "—" if row.pipeline is None else str(row.pipeline)
        lines.append(
            f"| {row.quantizer} | {row.block} | {' / '.join(row.variants)} | {depth} | {report.lut4} | "
            f"{report.ff} | {report.carry} | {fmax_text} | {throughput} |"
        )
        print(f"  {row.quantizer} {row.block} {row.variants} pipeline={depth}: {report}", file=sys.stderr)
    tools = f"{report.yosys}" + (f", {report.nextpnr}" if report.nextpnr else "") if rows else ""
    lines += [
        "",
        f"Produced by `python scripts/resource_table.py` ({tools}; Yosys `synth_ice40` defaults; Fmax "
        "with every port registered, nextpnr seed 1). Pipeline = register stages (latency in cycles).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", help="write the markdown here (default: stdout)")
    parser.add_argument("--device", choices=list(DEVICES), default="hx8k")
    parser.add_argument("--pipeline", type=int, nargs="+", default=[0, 2], help="pipeline depths (default: 0 2)")
    parser.add_argument("--no-fmax", action="store_true", help="skip place and route")
    args = parser.parse_args(argv)
    text = render(collect_rows(args.pipeline), args.device, not args.no_fmax)
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
