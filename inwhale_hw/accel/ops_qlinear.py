"""Integer executors of the com.microsoft quantized operators beyond the MAC array.

Each reproduces onnxruntime's CPU kernel (x86-64, MLAS SSE2/AVX2 paths) bit for bit:

* QLinearMul (``core/mlas/lib/qlmul.cpp``): ``r = f32(f32(s_a * s_b) / s_c)``, the exact
  integer product ``(a - z_a)(b - z_b)`` converted to float32, ``v = f32(f32(p) * r) + f32(z_c)``
  (separate multiply and add), rounded to nearest even (``cvtps2dq``: out-of-range -> INT32_MIN)
  and saturated (pack instructions).  The broadcaster's scalar mode changes no value (the
  product commutes).
* QLinearGlobalAveragePool (``qlgavgpool.cpp``): exact int32 sum of each channel plus
  ``-z_x * HW``, ``f32(acc) * f32(s_x / f32(s_y * f32(HW)))`` clamped to
  ``[qmin - z_y, qmax - z_y]``, rounded, plus ``z_y``.
* Lookup-table operators (``qlinear_lookup_table.cc``): QLinearSigmoid, QLinearLeakyRelu and each
  input of QLinearConcat whose (scale, zero point) differ from the output's build a 256-entry
  table: dequantize every code ``f32(s_x * f32(q - z_x))``, apply the float function, quantize
  with MLAS QuantizeLinear; the output is ``table[x]``.  Concat inputs with the output's
  parameters are copied.  Sigmoid is MLAS's logistic (:mod:`.mlas_math`), LeakyRelu
  ``v >= 0 ? v : f32(alpha * v)``.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..nn.requant import integer_range
from .context import ExecContext, OpResult
from .f32 import dequantize_linear, quantize_linear
from .graph import Op
from .mlas_math import logistic_f32

__all__ = ["EXECUTORS", "lookup_table"]


def _zp(z) -> int:
    return 0 if z is None else int(np.asarray(z).reshape(-1)[0])


def _scale(s, op: Op, name: str) -> np.float32:
    arr = np.asarray(s)
    if arr.size != 1:
        raise ModelError(f"{op.kind} {op.name!r}: {name} must be a single value, got shape {arr.shape}")
    return np.float32(arr.reshape(()))


def _dtype(x: np.ndarray, op: Op) -> np.dtype:
    if x.dtype not in (np.uint8, np.int8):
        raise ModelError(f"{op.kind} {op.name!r}: expected a uint8 or int8 tensor, got {x.dtype}")
    return x.dtype


def _cvt_sat(v: np.ndarray, dtype) -> tuple[np.ndarray, tuple[int, int]]:
    """``cvtps2dq`` (nearest even; NaN and |v| >= 2^31 give INT32_MIN) then saturating packs;
    also how many results saturated low and high."""
    lo, hi = integer_range(dtype)
    r = np.rint(v.astype(np.float64))
    bad = ~(np.abs(r) < 2.0**31)
    r[bad] = -(2.0**31)
    clamped = (int(np.count_nonzero(r < lo)), int(np.count_nonzero(r > hi)))
    return np.clip(r, lo, hi).astype(dtype), clamped


def lookup_table(fn, x_scale, x_zp: int, y_scale, y_zp: int, dtype) -> np.ndarray:
    """onnxruntime's 256-entry table ``quantize(fn(dequantize(code)))``, indexed by the code's
    byte (``table[np.uint8(code)]``)."""
    dtype = np.dtype(dtype)
    codes = np.arange(256, dtype=np.uint8).view(dtype)
    deq = dequantize_linear(codes, np.float32(x_scale), np.int32(x_zp))
    return quantize_linear(np.asarray(fn(deq), dtype=np.float32), np.float32(y_scale), np.int32(y_zp), dtype)


def _apply(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    return table[x.view(np.uint8)]


def qlinear_mul(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, sa, za, b, sb, zb, sc, zc = (args + [None] * 8)[:8]
    dtype = _dtype(a, op)
    if b.dtype != dtype:
        raise ModelError(f"QLinearMul {op.name!r}: inputs have different types {a.dtype} and {b.dtype}")
    ratio = np.float32(np.float32(_scale(sa, op, "A_scale") * _scale(sb, op, "B_scale")) / _scale(sc, op, "C_scale"))
    prod = (a.astype(np.int32) - _zp(za)) * (b.astype(np.int32) - _zp(zb))
    v = prod.astype(np.float32) * ratio + np.float32(_zp(zc))
    y, clamped = _cvt_sat(v, dtype)
    return OpResult([y], "vector", vector_elements=y.size, clamped=clamped)


def qlinear_global_average_pool(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, sx, zx, sy, zy = (args + [None] * 5)[:5]
    dtype = _dtype(x, op)
    if op.attrs.get("channels_last", 0):
        raise ModelError(f"QLinearGlobalAveragePool {op.name!r}: channels_last=1 is not supported (give the NCHW model)")
    if x.ndim < 3:
        raise ModelError(f"QLinearGlobalAveragePool {op.name!r}: expected N x C x spatial..., got shape {x.shape}")
    size = int(np.prod(x.shape[2:], dtype=np.int64))
    scale = np.float32(_scale(sx, op, "x_scale") / np.float32(_scale(sy, op, "y_scale") * np.float32(size)))
    if not (2.0**-32 <= scale < 256.0) or size >= 1 << 24:
        raise ModelError(f"QLinearGlobalAveragePool {op.name!r}: scale ratio {scale} or image size {size} outside "
                         "onnxruntime's range (2^-32 <= s_x / (s_y * HW) < 256, HW < 2^24)")
    acc = x.reshape(x.shape[0], x.shape[1], -1).astype(np.int64).sum(axis=2) - _zp(zx) * size
    lo, hi = integer_range(dtype)
    z = _zp(zy)
    v = acc.astype(np.int32).astype(np.float32) * scale
    clamped = (int(np.count_nonzero(np.rint(v) < lo - z)), int(np.count_nonzero(np.rint(v) > hi - z)))
    v = np.clip(v, np.float32(lo - z), np.float32(hi - z))
    y = (np.rint(v).astype(np.int32) + z).astype(dtype)
    y = y.reshape(x.shape[:2] + (1,) * (x.ndim - 2))
    return OpResult([y], "vector", vector_elements=x.size, clamped=clamped)


def _leaky(alpha: float):
    a = np.float32(alpha)

    def fn(v: np.ndarray) -> np.ndarray:
        return np.where(v >= 0, v, a * v).astype(np.float32)
    return fn


def _lookup_op(fn_of_op):
    def run(op: Op, args: list, ctx: ExecContext) -> OpResult:
        x, sx, zx, sy, zy = (args + [None] * 5)[:5]
        dtype = _dtype(x, op)
        table = lookup_table(fn_of_op(op), _scale(sx, op, "X_scale"), _zp(zx), _scale(sy, op, "Y_scale"), _zp(zy), dtype)
        y = _apply(table, x)
        return OpResult([y], "vector", vector_elements=y.size)
    return run


def qlinear_concat(op: Op, args: list, ctx: ExecContext) -> OpResult:
    sy, zy = args[0], args[1]
    if (len(args) - 2) % 3 or len(args) < 5:
        raise ModelError(f"QLinearConcat {op.name!r}: inputs must be Y_scale, Y_zero_point, then (X, scale, zero point) triples")
    dtype = np.asarray(zy).dtype
    s_y, z_y = _scale(sy, op, "Y_scale"), _zp(zy)
    parts = []
    for i in range(2, len(args), 3):
        x, sx, zx = args[i], args[i + 1], args[i + 2]
        if x.dtype != dtype:
            raise ModelError(f"QLinearConcat {op.name!r}: input {(i - 2) // 3} is {x.dtype}, the output {dtype}")
        s_x, z_x = _scale(sx, op, "X_scale"), _zp(zx)
        if s_x == s_y and z_x == z_y:
            parts.append(x)
        else:
            parts.append(_apply(lookup_table(lambda v: v, s_x, z_x, s_y, z_y, dtype), x))
    axis = int(op.attrs["axis"])
    y = np.concatenate(parts, axis=axis)
    return OpResult([y], "vector", vector_elements=y.size)


EXECUTORS = {
    "QLinearMul": qlinear_mul,
    "QLinearGlobalAveragePool": qlinear_global_average_pool,
    "QLinearSigmoid": _lookup_op(lambda op: logistic_f32),
    "QLinearLeakyRelu": _lookup_op(lambda op: _leaky(op.attrs.get("alpha", 0.01))),
    "QLinearConcat": qlinear_concat,
}
