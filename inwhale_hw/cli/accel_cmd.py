"""``inwhale-hw accel run``: simulate a quantized ONNX model on a modelled integer accelerator.

::

    inwhale-hw accel run model_qdq.onnx --input x.npy -o y.npy [--config accel.toml]
        [--float-model model.onnx] [--labels y.npy] [--reference/--no-reference] [--report r.json]

Prints the per-layer report (:class:`inwhale_hw.accel.Report`) and writes the model's output
(``.npy``; ``.npz`` holds every output by name).  Options such as ``--acc-bits`` override the
configuration file.  Files are written atomically.
"""

from __future__ import annotations

import dataclasses
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
@click.option("--weights", default=None, help="Override the weight format: int8, int2..int7 or pow2.")
@click.option("--float-model", type=click.Path(dir_okay=False), default=None,
              help="Float ONNX model to measure the error against.")
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


accel.add_command(sweep)
command = accel
