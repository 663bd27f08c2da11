"""``inwhale-hw accel run``: simulate a quantized ONNX model on a modelled integer accelerator;
``inwhale-hw accel ops`` lists the operators it runs (form and exactness);
``inwhale-hw accel formats`` rewrites a float model's MatMul/Gemm weights to block formats
(:mod:`inwhale_hw.accel.weight_formats`) and prints bits per weight and output error.

::

    inwhale-hw accel run model_qdq.onnx --input x.npy -o y.npy [--config accel.toml]
        [--float-model model.onnx] [--labels y.npy] [--reference/--no-reference] [--report r.json]
    inwhale-hw accel formats model.onnx --input x.npy -f q4_0 -f mxfp4 -f nf4 [--activations q8_0] [--layers] [--json]

Prints the per-layer report (:class:`inwhale_hw.accel.Report`) and writes the model's output
(``.npy``; ``.npz`` holds every output by name).  Options such as ``--acc-bits`` override the
configuration file.  Files are written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import click
import numpy as np

from ..audio.atomic import atomic_write
from ..errors import InputError, ParameterError
from .sweep_cmd import sweep

__all__ = ["command"]


def _load_npy(path: str, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{what} file {path!r} does not exist") from None
    except ValueError as exc:
        raise InputError(f"{what} file {path!r} is not a plain .npy array: {exc}") from None


def _inputs(items: tuple[str, ...]):
    if len(items) == 1 and "=" not in items[0]:
        return _load_npy(items[0], "input")
    feeds = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name:
            raise ParameterError(f"--input {item!r} is not allowed; give X.npy for a single-input model or NAME=X.npy per input")
        feeds[name] = _load_npy(path, "input")
    return feeds


def _check_output_name(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise ParameterError(f"-o {path!r} is not allowed; the output file must end in .npy or .npz")
    return suffix


def _save(path: str, outputs: dict[str, np.ndarray]) -> None:
    suffix = _check_output_name(path)
    if suffix == ".npy" and len(outputs) != 1:
        raise ParameterError(f"the model has {len(outputs)} outputs {sorted(outputs)}; write them to an .npz file")
    with atomic_write(path) as handle:
        if suffix == ".npy":
            np.save(handle, next(iter(outputs.values())), allow_pickle=False)
        else:
            np.savez(handle, **outputs)


@click.group("accel")
def accel() -> None:
    """Run quantized ONNX models in exact integer arithmetic on a modelled accelerator."""


@accel.command("run")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--input", "-i", "inputs", multiple=True, required=True, metavar="X.npy | NAME=X.npy",
              help="Input array (.npy); NAME=X.npy once per input for multi-input models.")
@click.option("--output", "-o", required=True, metavar="OUT.npy", help="Where to write the output (.npy, or .npz for all).")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Accelerator configuration (TOML); see inwhale_hw.accel.config.")
@click.option("--acc-bits", type=int, default=None, help="Override the accumulator width.")
@click.option("--overflow", type=click.Choice(["wrap", "sat", "error"]), default=None, help="Override the overflow policy.")
@click.option("--profile", default=None, help="Override the requantization profile (inwhale_hw.nn.PROFILES).")
@click.option("--weights", default=None, help="Override the weight format: int8, int2..int7, pow2, or for float models a block format (q4_0, mxfp4, nf4 ...).")
@click.option("--float-model", type=click.Path(dir_okay=False), default=None,
              help="Float ONNX model to measure the error against (run on onnxruntime when installed).")
@click.option("--labels", type=click.Path(dir_okay=False), default=None, help="Integer class labels (.npy) for accuracy.")
@click.option("--reference/--no-reference", default=True, show_default=True,
              help="Compare every integer tensor with onnxruntime (when installed).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None, help="Also write the report as JSON.")
def run(model, inputs, output, config_path, acc_bits, overflow, profile, weights, float_model, labels, reference,
        report_path) -> None:
    """Simulate MODEL on the input and print the per-layer report."""
    from ..accel import AccelConfig, load_config, simulate

    _check_output_name(output)
    config = load_config(config_path) if config_path else AccelConfig()
    overrides = {k: v for k, v in (("acc_bits", acc_bits), ("overflow", overflow), ("profile", profile),
                                   ("weights", weights)) if v is not None}
    config = dataclasses.replace(config, **overrides)
    y = _load_npy(labels, "labels") if labels else None
    outputs, report = simulate(model, _inputs(inputs), config, reference=reference, float_model=float_model, labels=y)
    _save(output, outputs)
    if report_path:
        report.save_json(report_path)
    click.echo(report.to_text())


@accel.command("ops")
def ops() -> None:
    """List the operators the simulator runs, with form and exactness against onnxruntime."""
    from ..accel.supported import describe

    click.echo(describe())


@accel.command("formats")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--input", "-i", "inputs", multiple=True, required=True, metavar="X.npy | NAME=X.npy",
              help="Input array (.npy); NAME=X.npy once per input for multi-input models.")
@click.option("--format", "-f", "formats", multiple=True, metavar="FMT",
              help="Weight format (repeatable; default: all): see inwhale_hw.accel.WEIGHT_FORMATS.")
@click.option("--activations", type=click.Choice(["float", "q8_0"]), default="float", show_default=True,
              help="float: weight-only (W4A16/W8A16); q8_0: layer inputs through GGUF Q8_0 too (W4A8/W8A8).")
@click.option("--layers", is_flag=True, help="Also print each layer's bits per weight and weight SQNR.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def formats(model, inputs, formats, activations, layers, as_json) -> None:
    """Block weight formats on a float MODEL: output SQNR against the float run, bits per weight."""
    from ..accel.weight_compare import compare_weight_formats
    from ..accel.weight_formats import WEIGHT_FORMATS

    _, results = compare_weight_formats(model, _inputs(inputs), list(formats) or list(WEIGHT_FORMATS), activations)
    if as_json:
        def num(v):
            return v if math.isfinite(v) else None

        click.echo(json.dumps([{"format": r.format, "bits_per_weight": r.bits_per_weight, "weight_bytes": r.weight_bytes,
                                "output_sqnr_db": num(r.output_sqnr_db), "max_abs_error": r.max_abs_error,
                                "layers": [{**dataclasses.asdict(c), "weight_sqnr_db": num(c.weight_sqnr_db)}
                                           for c in r.layers]} for r in results], indent=2))
        return
    click.echo(f"{'format':<8} {'bits/w':>7} {'weight kB':>10} {'out SQNR dB':>12} {'max|err|':>10}")
    for r in results:
        click.echo(f"{r.format:<8} {r.bits_per_weight:>7.3f} {r.weight_bytes / 1000:>10.2f} {r.output_sqnr_db:>12.2f} "
                   f"{r.max_abs_error:>10.3g}")
        for c in r.layers if layers else ():
            click.echo(f"  {c.node:<20} {c.op:<6} K={c.k:<5} N={c.n:<5} {c.bits_per_weight:>7.3f} bits/w "
                       f"{c.weight_sqnr_db:>7.2f} dB")


accel.add_command(sweep)
command = accel
