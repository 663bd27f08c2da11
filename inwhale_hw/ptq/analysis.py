"""Error analysis of a QDQ model against its float model, layer by layer.

For every quantized tensor ``t`` (a QuantizeLinear / DequantizeLinear pair, or a weight's
DequantizeLinear) with float values ``x`` and dequantized values ``x_hat = s (q - z)``:

* ``SQNR = 10 log10(sum x^2 / sum (x - x_hat)^2)`` dB (``inf`` when exact);
* the *theoretical* SQNR of a uniform quantizer with step ``s`` and no clipping,
  ``10 log10(mean(x^2) / (s^2 / 12))`` (the step-squared-over-twelve noise model,
  Widrow & Kollar, *Quantization Noise*, ch. 4; ``6.02 b + 1.76`` dB for a full-scale sine);
* the *outlier impact*: the SQNR recomputed without the elements whose ``|x|`` is in the top
  0.1 % (the gap shows how much of the error the largest values cause).

Activations are evaluated on the float model's own values of the tensor (quantized with that
tensor's scale and zero point, so each layer's error is its own, not accumulated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .static import iter_batches, load_float_model, simulator_runner

__all__ = ["TensorError", "sqnr_db", "tensor_error", "layer_errors"]


def sqnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
    """``10 log10(sum x^2 / sum (x - x_hat)^2)`` in float64."""
    x = np.asarray(x, np.float64)
    noise = float(np.sum((x - np.asarray(x_hat, np.float64)) ** 2))
    signal = float(np.sum(x**2))
    if noise == 0:
        return float("inf")
    return 10 * np.log10(signal / noise) if signal > 0 else float("-inf")


@dataclass
class TensorError:
    name: str
    kind: str  # "weight" or "activation"
    sqnr_db: float
    theory_db: float
    sqnr_without_outliers_db: float
    clipped_fraction: float


def tensor_error(name: str, kind: str, x: np.ndarray, scale, zero_point, qmin: int, qmax: int) -> TensorError:
    """The figures of the module doc for one tensor and its (broadcastable) scale / zero point."""
    x = np.asarray(x, np.float64)
    s = np.asarray(scale, np.float64)
    z = np.asarray(zero_point, np.float64)
    raw = np.rint(x / s) + z
    q = np.clip(raw, qmin, qmax)
    x_hat = s * (q - z)
    mean_sq = float(np.mean(x**2))
    noise = float(np.mean(np.broadcast_to(s, x.shape) ** 2)) / 12
    theory = 10 * np.log10(mean_sq / noise) if mean_sq > 0 and noise > 0 else float("inf")
    flat, flat_hat = x.ravel(), x_hat.ravel()
    keep = np.abs(flat) <= np.quantile(np.abs(flat), 0.999)
    return TensorError(name, kind, float(sqnr_db(x, x_hat)), float(theory), float(sqnr_db(flat[keep], flat_hat[keep])),
                       float(np.mean(raw != q)))


def _ints(proto) -> dict:
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}


def layer_errors(qdq_model: Any, float_model: Any, data: Any, *, runner=None, batch: int = 256) -> list[TensorError]:
    """Per-tensor errors of ``qdq_model`` (see module doc); activations on the first batch of ``data``."""
    q = load_float_model(qdq_model)
    f = load_float_model(float_model)
    inits = _ints(q)
    float_inits = _ints(f)
    out: list[TensorError] = []
    acts: dict[str, tuple[str, str]] = {}
    for n in q.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits and len(n.input) > 2:
            base = n.input[0][: -len("_quantized")] if n.input[0].endswith("_quantized") else None
            if base in float_inits and inits[n.input[0]].dtype != np.int32:
                qv = inits[n.input[0]]
                s, z = inits[n.input[1]], inits[n.input[2]]
                axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
                shape = [1] * qv.ndim
                if s.ndim == 1 and s.size > 1:
                    shape[axis] = -1
                lo, hi = (int(np.iinfo(qv.dtype).min), int(np.iinfo(qv.dtype).max))
                out.append(tensor_error(base, "weight", float_inits[base], s.reshape(shape) if s.ndim else s,
                                        z.reshape(shape) if z.ndim else z, lo, hi))
        elif n.op_type == "QuantizeLinear" and n.input[1] in inits:
            src = n.input[0][: -len("_QuantizeLinear_Input")] if n.input[0].endswith("_QuantizeLinear_Input") else n.input[0]
            acts.setdefault(src, (n.input[1], n.input[2]))
    inputs = [i.name for i in f.graph.input if i.name not in float_inits]
    names = [t for t in acts if t in {v for node in f.graph.node for v in [*node.input, *node.output]}]
    values = (runner or simulator_runner)(f, names)(next(iter(iter_batches(data, inputs, batch))))
    for t in names:
        s, z = inits[acts[t][0]], inits[acts[t][1]]
        info = np.iinfo(z.dtype)
        out.append(tensor_error(t, "activation", values[t], s, z, int(info.min), int(info.max)))
    return out
