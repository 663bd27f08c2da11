"""com.microsoft QLinearSoftmax as onnxruntime's CPU kernel computes it (``qlinear_softmax.cc``).

A 256-entry float32 table of scaled exponentials is built from the input scale ``s_x`` and the
reduced length ``D``: ``shift = max(0, ln(FLT_MAX / D) - 5) / s_x`` (float32 division and
logarithm, the headroom that keeps the sum finite), ``T[i] = f32(exp((i - 255 + shift) * s_x))``
in double for ``i = 0..255``, stored at byte ``i`` (uint8) or ``i - 128`` (int8).

Per row (opset >= 13: along ``axis``; before: the flattened axes from ``axis`` on), with
``m = max(x)``: ``e_j = T[x_j - m + 255]`` (uint8) or ``T[byte(x_j - m + 127)]`` (int8);
``S = e_0 + e_1 + ...`` in float32, left to right; ``y_j = nearbyint(f32(e_j * f32(floor(1 / s_y)))
/ S) + z_y``, saturated to the output type (onnxruntime 1.32 saturates int8 at 127; older
sources cast ``v > 255 ? 255 : v`` to int8, which wraps 128 to -128).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from ..nn.requant import integer_range
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS", "softmax_table"]

_FLT_MAX = np.float32(np.finfo(np.float32).max)


def softmax_table(x_scale: float, reduce_len: int, signed: bool) -> np.ndarray:
    """The kernel's exponential table (float32, indexed by the byte described above)."""
    s = np.float32(x_scale)
    shift = float(np.float32(math.log(np.float32(_FLT_MAX / np.float32(reduce_len)))))
    shift = max(0.0, shift - 5.0) / float(s)
    i = np.arange(256, dtype=np.float64)
    values = np.exp((i - 255 + shift) * float(s)).astype(np.float32)
    table = np.empty(256, dtype=np.float32)
    table[(np.arange(256) - 128) % 256 if signed else np.arange(256)] = values
    return table


def qlinear_softmax(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, sx, zx, sy, zy = (args + [None] * 5)[:5]
    if x.dtype not in (np.uint8, np.int8):
        raise ModelError(f"QLinearSoftmax {op.name!r}: expected uint8 or int8, got {x.dtype}")
    signed = x.dtype == np.int8
    opset = int(op.attrs.get("opset", 13))
    axis = int(op.attrs.get("axis", 1 if opset < 13 else -1)) % x.ndim
    if opset < 13:
        rows = x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)
    else:
        rows = np.moveaxis(x, axis, -1)
    d = rows.shape[-1]
    table = softmax_table(float(np.asarray(sx).reshape(-1)[0]), d, signed)
    xi = rows.astype(np.int32)
    m = xi.max(axis=-1, keepdims=True)
    idx = (xi - m + 127) & 0xFF if signed else xi - m + 255
    e = table[idx]
    total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
    if np.any(total == 0):
        raise ModelError(f"QLinearSoftmax {op.name!r}: a row's exponential sum underflowed to 0")
    y_scale = np.float32(math.floor(np.float32(1.0) / np.float32(np.asarray(sy).reshape(-1)[0])))
    q = np.rint((e * y_scale) / total).astype(np.int64) + (0 if zy is None else int(np.asarray(zy).reshape(-1)[0]))
    lo, hi = integer_range(x.dtype)
    y = np.clip(q, lo, hi).astype(x.dtype)
    y = y.reshape(x.shape) if opset < 13 else np.ascontiguousarray(np.moveaxis(y, -1, axis))
    return OpResult([y], "vector", vector_elements=x.size)


EXECUTORS = {"QLinearSoftmax": qlinear_softmax}
