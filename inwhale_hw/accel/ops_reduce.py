"""Float32 reductions and normalizations (onnxruntime runs them in float; tolerances are stated
in :data:`inwhale_hw.accel.SUPPORTED`).

The sums are taken in float64 and rounded once to float32 (the exactly rounded value), where
onnxruntime sums vectorized in float32; the difference is a few float32 ULPs of the result.

* GlobalAveragePool: mean over the spatial axes, ``(N, C, 1, ...)``.
* ReduceMean: ``axes`` input (opset 18) or attribute, ``keepdims``, ``noop_with_empty_axes``.
* Softmax (opset 13): ``exp(x - max) / sum`` along ``axis``.
* LayerNormalization (opset 17): ``(x - mean) / sqrt(var + eps) * scale + bias`` over the axes
  from ``axis`` on (biased variance).
* BatchNormalization (inference): exact, in onnxruntime's float32 order (see the function).
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS"]


def _f32(x: np.ndarray, op: Op) -> np.ndarray:
    if x.dtype != np.float32:
        raise ModelError(f"{op.kind} {op.name!r}: float operator got a {x.dtype} tensor; only float32 is supported")
    return x.astype(np.float64)


def _out(y: np.ndarray, elements: int) -> OpResult:
    return OpResult([np.asarray(y).astype(np.float32)], "host", vector_elements=elements)


def global_average_pool(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = _f32(args[0], op)
    if x.ndim < 3:
        raise ModelError(f"GlobalAveragePool {op.name!r}: expected N x C x spatial..., got shape {x.shape}")
    return _out(x.mean(axis=tuple(range(2, x.ndim)), keepdims=True), x.size)


def reduce_mean(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = _f32(args[0], op)
    raw = args[1] if len(args) > 1 and args[1] is not None else op.attrs.get("axes")
    axes = None if raw is None or np.size(raw) == 0 else tuple(int(a) % x.ndim for a in np.asarray(raw).reshape(-1))
    if axes is None and op.attrs.get("noop_with_empty_axes", 0):
        return _out(x, x.size)
    return _out(x.mean(axis=axes, keepdims=bool(op.attrs.get("keepdims", 1))), x.size)


def softmax(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = _f32(args[0], op)
    axis = int(op.attrs.get("axis", -1)) % x.ndim
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return _out(e / e.sum(axis=axis, keepdims=True), x.size)


def layer_normalization(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = _f32(args[0], op)
    scale = args[1].astype(np.float64)
    bias = args[2].astype(np.float64) if len(args) > 2 and args[2] is not None else 0.0
    axis = int(op.attrs.get("axis", -1)) % x.ndim
    axes = tuple(range(axis, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    eps = float(np.float32(op.attrs.get("epsilon", 1e-5)))
    return _out((x - mean) / np.sqrt(var + eps) * scale + bias, x.size)


def batch_normalization(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """Inference BatchNormalization in onnxruntime's float32 order (``batch_norm.h``):
    ``s' = f32(f32(1 / sqrt(var + eps)) * scale)``, ``b' = f32(B - f32(mean * s'))``,
    ``y = f32(f32(x * s') + b')``."""
    x = args[0]
    _f32(x, op)
    if op.attrs.get("training_mode", 0):
        raise ModelError(f"BatchNormalization {op.name!r}: training_mode=1 is not supported (inference only)")
    scale, b, mean, var = (np.asarray(a, dtype=np.float32).reshape((1, -1) + (1,) * (x.ndim - 2)) for a in args[1:5])
    inv_std = np.float32(1) / np.sqrt(var + np.float32(op.attrs.get("epsilon", 1e-5)))
    new_scale = inv_std * scale
    new_bias = b - mean * new_scale
    return OpResult([(x * new_scale + new_bias).astype(np.float32)], "host", vector_elements=x.size)


EXECUTORS = {
    "GlobalAveragePool": global_average_pool,
    "ReduceMean": reduce_mean,
    "Softmax": softmax,
    "LayerNormalization": layer_normalization,
    "BatchNormalization": batch_normalization,
}
