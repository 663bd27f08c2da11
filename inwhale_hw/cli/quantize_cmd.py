"""``inwhale-hw quantize``: float ONNX model + calibration data -> QDQ model (:mod:`inwhale_hw.ptq`).

Calibration data is a ``.npy`` array (one model input; batches of ``--batch`` rows) or a
``.npz`` whose keys are the input names.  ``--config`` reads the ``[static]`` table of a TOML
file (:class:`~inwhale_hw.ptq.PTQConfig`); ``--method``, ``--per-channel`` and ``--qoperator`` override it.
The file is written under a temporary name and renamed.
"""

from __future__ import annotations

import dataclasses

import click
import numpy as np

from ..errors import InputError

__all__ = ["command"]


def _calibration(path: str):
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"calibration data {path!r} cannot be read as .npy / .npz: {exc}") from None
    if isinstance(data, np.ndarray):
        return data
    return {k: data[k] for k in data.files}


@click.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", required=True, type=click.Path(dir_okay=False), metavar="DATA.npy|.npz",
              help="Calibration inputs.")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML file with a [static] table (PTQConfig fields).")
@click.option("--method", type=click.Choice(["minmax", "moving_average", "percentile", "entropy", "mse"]), default=None,
              help="Override the activation calibration method.")
@click.option("--per-channel/--per-tensor", default=None, help="Override per-channel weights.")
@click.option("--qoperator", is_flag=True, default=False, help="Write integer operators (QLinearConv, QGemm, ...).")
@click.option("--batch", type=int, default=64, show_default=True, help="Calibration batch size.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), metavar="OUT.onnx")
def command(model, calib, config_path, method, per_channel, qoperator, batch, output) -> None:
    """Quantize a float ONNX MODEL into a QDQ model calibrated on --calib."""
    from ..ptq import PTQConfig, load_config, quantize

    if batch < 1:
        raise InputError(f"--batch {batch} must be >= 1")
    config = load_config(config_path) if config_path else PTQConfig()
    changes = {k: v for k, v in (("calibration", method), ("per_channel", per_channel),
                                 ("qoperator", qoperator or None)) if v is not None}
    if changes:
        config = dataclasses.replace(config, **changes)
    quantize(model, _calibration(calib), config, output, batch=batch)
    click.echo(f"wrote {output} ({config.calibration}, {'per-channel' if config.per_channel else 'per-tensor'} weights)")
