"""Integer executors: the MAC operators (also MatMulInteger / ConvInteger, which stop at the
int32 accumulator), QLinearAdd, QLinearAveragePool, Quantize / DequantizeLinear (per tensor,
per axis, blocked; sub-byte and float8 inputs via :mod:`.low_bit`), DynamicQuantizeLinear.

MAC operators (ONNX QLinearConv / QLinearMatMul, com.microsoft QGemm) follow one pipeline:

1. subtract zero points exactly: ``x - x_zp`` (9-bit signed for uint8) and ``w - w_zp``;
2. accumulate ``bias + sum_k x_k w_k`` in the configured accumulator with
   :func:`inwhale_hw.nn.conv2d` (convolutions) or :func:`inwhale_hw.nn.matmul` (their stated
   order: bias first, then ``k = 0..K-1``, for a convolution ``k = (c * kH + i) * kW + j``;
   their ``wrap`` / ``sat`` / ``error`` policy and :class:`~inwhale_hw.nn.AccumulatorStats`);
3. requantize with the configured profile from :data:`inwhale_hw.nn.PROFILES`, count the
   outputs that saturate at the output type's range.

The accelerator runs the same kernels as :mod:`inwhale_hw.nn` (im2col with output pixels as
rows, exact BLAS where :mod:`inwhale_hw.fixed.matmul` proves it exact).  Padding contributes
the real value 0, i.e. ``x_zp`` before subtraction (ONNX QLinearConv).  With 32 bits, ``wrap``
and profile ``onnxruntime`` every result equals onnxruntime's (its int32 accumulation wraps
modulo 2^32 in any order, the same value).

QGemm's scales follow onnxruntime's ``QGemm::ComputeOutputScale``: the input scale fed to
the profile is ``f32(alpha * s_a)``; without ``y_scale`` the output is float32
``f32(acc) * f32(f32(alpha * s_a) * s_b)`` (``MLAS_QGEMM_SCALE_BIAS_OUTPUT_PROCESSOR``).
"""

from __future__ import annotations

import numpy as np

from ..errors import FixedPointOverflowError, InputError, ModelError, WidthLimitError
from ..nn import get_profile, matmul
from ..nn.profiles import onnxruntime_rounded
from ..nn.qlinear import minus_zero_point, qlinear_conv_accumulate
from ..nn.requant import integer_range
from .context import ExecContext, OpResult
from .f32 import dequantize_linear, qlinear_add, quantize_linear, quantize_pool_output
from .geometry import average_f32
from .graph import MAC_SLOTS, Op
from .low_bit import decode

__all__ = ["EXECUTORS", "axis_param"]


def _scalar_int(x: np.ndarray | None) -> int:
    return 0 if x is None else int(np.asarray(x).reshape(-1)[0])


def _out_dtype(y_zp: np.ndarray | None) -> np.dtype:
    return np.dtype(np.uint8) if y_zp is None else np.asarray(y_zp).dtype


def axis_param(param: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """A scale / zero point shaped to broadcast along ``axis`` of an ``ndim``-D tensor."""
    p = np.asarray(param)
    if p.size == 1:
        return p.reshape(())
    shape = [1] * ndim
    shape[axis % ndim] = p.size
    return p.reshape(shape)


def _accumulate(op: Op, ctx: ExecContext, kernel, *args, **kwargs):
    """``kernel(*args, **kwargs)`` (``nn.matmul`` or ``nn.qlinear_conv_accumulate``) in the configured
    accumulator; its errors name the layer."""
    layer = f"layer {op.name!r} ({op.kind})"
    try:
        return kernel(*args, acc_bits=ctx.acc_bits, overflow=ctx.overflow, track_partials=ctx.track_partials, **kwargs)
    except FixedPointOverflowError as exc:
        raise FixedPointOverflowError(f"{layer}: {exc}", count=exc.count, first_index=exc.first_index) from None
    except WidthLimitError as exc:
        raise WidthLimitError(f"{layer}: {exc}") from None
    except InputError as exc:
        raise ModelError(f"{layer}: {exc}") from None


def _requantize(acc, s_in, s_w, y_scale, y_zp, ctx: ExecContext):
    """``(y, (clamped_low, clamped_high))``: the profile's output and how many outputs it
    clamped at each end of the output type's range.

    Every profile clamps as its last step (``sat(... + zp)``), so evaluating it into the int32
    range and clamping afterwards gives the same values and tells which outputs saturate.  For a
    layer whose ReLU the quantizer folded into the output range (zero point at the type's
    minimum), the low clamps are that ReLU.
    """
    dtype = _out_dtype(y_zp)
    lo, hi = integer_range(dtype)
    if ctx.profile == "onnxruntime" and dtype.itemsize <= 2:
        return _requantize_onnxruntime(acc, s_in, s_w, y_scale, _scalar_int(y_zp), lo, hi, dtype)
    wide = get_profile(ctx.profile)(acc, s_in, s_w, np.asarray(y_scale).reshape(()), _scalar_int(y_zp), np.int32)
    low, high = int(np.count_nonzero(wide < lo)), int(np.count_nonzero(wide > hi))
    np.maximum(wide, lo, out=wide)
    np.minimum(wide, hi, out=wide)
    return wide.astype(dtype), (low, high)


def _requantize_onnxruntime(acc, s_in, s_w, y_scale, zp: int, lo: int, hi: int, dtype):
    """:func:`_requantize` for profile ``onnxruntime`` and an 8/16-bit output, in float32: the
    rounded ``r = rint(f32(acc) * m)`` clamps low where ``r < lo - zp`` and high where
    ``r > hi - zp`` (as in the int64 evaluation), and the clamped ``r + zp`` is an integer of at
    most 17 bits, exact in float32."""
    r = onnxruntime_rounded(acc, s_in, s_w, np.asarray(y_scale).reshape(()))
    f_lo, f_hi = np.float32(lo - zp), np.float32(hi - zp)
    low, high = int(np.count_nonzero(r < f_lo)), int(np.count_nonzero(r > f_hi))
    np.clip(r, f_lo, f_hi, out=r)
    r += np.float32(zp)
    return r.astype(dtype), (low, high)


def _slots(op: Op, args: list) -> list:
    return [args[i] if i is not None and i < len(args) else None for i in MAC_SLOTS[op.kind]]


def _weights_minus_zp(w: np.ndarray, w_zp: np.ndarray | None, axis: int) -> np.ndarray:
    return minus_zero_point(w, 0 if w_zp is None else axis_param(w_zp, w.ndim, axis))


def qlinear_conv(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, sx, zx, w, sw, zw, sy, zy, bias = _slots(op, args)
    if op.attrs.get("channels_last", 0):
        raise ModelError(f"{op.kind} {op.name!r}: channels_last=1 is not supported (give the NCHW model)")
    acc, stats = _accumulate(op, ctx, qlinear_conv_accumulate, x, _scalar_int(zx), w, zw, bias, op.attrs,
                             where=f"{op.kind} {op.name!r}", error=ModelError)
    y, clamped = _requantize(acc, sx, axis_param(sw, 4, 1), sy, zy, ctx)
    y = np.ascontiguousarray(y[:, :, 0, :] if x.ndim == 3 else y)
    n, o, ho, wo = acc.shape
    groups, p = int(op.attrs.get("group", 1)), n * ho * wo
    return OpResult([y], "mac", macs=p * o * stats.k, mac_shape=(groups, p, o // groups, stats.k), acc=stats,
                    clamped=clamped)


def qlinear_matmul(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, sa, za, b, sb, zb, sy, zy, _ = _slots(op, args)
    if a.ndim < 2 or b.ndim < 2:
        raise ModelError(f"{op.kind} {op.name!r}: operands must be at least 2-D, got {a.shape} and {b.shape}")
    za_arr = np.asarray(0 if za is None else za)
    a_int = minus_zero_point(a, za_arr.reshape(-1, 1) if za_arr.size > 1 else za_arr.reshape(()))
    b_int = _weights_minus_zp(b, zb, b.ndim - 1)
    acc, stats = _accumulate(op, ctx, matmul, a_int, b_int)
    sa_b = np.asarray(sa).reshape(-1, 1) if np.size(sa) > 1 else sa
    y, clamped = _requantize(acc, sa_b, np.asarray(sb).reshape(-1) if np.size(sb) > 1 else sb, sy, zy, ctx)
    m, k, nn = acc.shape[-2], a.shape[-1], acc.shape[-1]
    batch = int(np.prod(acc.shape[:-2], dtype=np.int64))
    return OpResult([y], "mac", macs=batch * m * nn * k, mac_shape=(batch, m, nn, k), acc=stats, clamped=clamped)


def qgemm(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, sa, za, b, sb, zb, sy, zy, bias = _slots(op, args)
    trans_a, trans_b = int(op.attrs.get("transA", 0)), int(op.attrs.get("transB", 0))
    alpha = np.float32(op.attrs.get("alpha", 1.0))
    a_int = minus_zero_point(a, _scalar_int(za))
    b_int = _weights_minus_zp(b, zb, 0 if trans_b else 1)
    a_mat = a_int.T if trans_a else a_int
    b_mat = b_int.T if trans_b else b_int
    if a_mat.ndim != 2 or b_mat.ndim != 2 or a_mat.shape[1] != b_mat.shape[0]:
        raise ModelError(f"QGemm {op.name!r}: A {a.shape} (transA={trans_a}) and B {b.shape} (transB={trans_b}) do not multiply")
    acc, stats = _accumulate(op, ctx, matmul, a_mat, b_mat, bias)
    s_in = np.float32(alpha * np.asarray(sa, dtype=np.float32).reshape(()))
    s_w = np.asarray(sb, dtype=np.float32).reshape(-1) if np.size(sb) > 1 else np.asarray(sb, dtype=np.float32).reshape(())
    m, k = a_mat.shape
    nn = b_mat.shape[1]
    result = OpResult([], "mac", macs=m * nn * k, mac_shape=(1, m, nn, k), acc=stats)
    if sy is None:
        result.outputs = [acc.astype(np.float32) * np.float32(s_in * s_w)]
        return result
    y, result.clamped = _requantize(acc, s_in, s_w, sy, zy, ctx)
    result.outputs = [y]
    return result


def qlinear_add_op(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, sa, za, b, sb, zb, sc, zc = (args + [None] * 8)[:8]
    if a.dtype != b.dtype:
        raise ModelError(f"QLinearAdd {op.name!r}: inputs have different types {a.dtype} and {b.dtype}")
    dtype = _out_dtype(zc)
    y = qlinear_add(a, sa, _scalar_int(za), b, sb, _scalar_int(zb), sc, _scalar_int(zc), dtype)
    return OpResult([y], "vector", vector_elements=y.size)


def qlinear_average_pool(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """com.microsoft QLinearAveragePool: dequantize, float32 window sums in row-major window
    order, divide by the count, ``quantize_pool_output`` (``qlinear_pool.cc``)."""
    x, sx, zx, sy, zy = (args + [None] * 5)[:5]
    if op.attrs.get("channels_last", 0):
        raise ModelError(f"QLinearAveragePool {op.name!r}: channels_last=1 is not supported (give the NCHW model)")
    xf = dequantize_linear(x, sx, _scalar_int(zx))
    y = average_f32(xf, op.attrs, f"QLinearAveragePool {op.name!r}")
    out = quantize_pool_output(y, sy, _scalar_int(zy), _out_dtype(zy))
    return OpResult([out], "vector", vector_elements=out.size * int(np.prod(op.attrs["kernel_shape"])))


def _params(op: Op, scale, zp, shape: tuple[int, ...]):
    """Scale and zero point shaped to broadcast against a tensor of ``shape``: per tensor, per
    ``axis``, or blocked (opset 21 ``block_size``: each parameter covers ``block_size``
    consecutive elements along ``axis``, the last block possibly shorter)."""
    ndim = len(shape)
    axis = int(op.attrs.get("axis", 1)) % max(ndim, 1)
    block = int(op.attrs.get("block_size", 0) or 0)
    scale = np.asarray(scale)
    if not block:
        return axis_param(scale, ndim, axis), (None if zp is None else axis_param(zp, ndim, axis))
    expect = tuple(-(-d // block) if i == axis else d for i, d in enumerate(shape))
    if scale.shape != expect or (zp is not None and np.shape(zp) != expect):
        raise ModelError(f"{op.kind} {op.name!r}: block_size={block} on axis {axis} of {shape} needs scale and zero "
                         f"point of shape {expect}, got {scale.shape}" + ("" if zp is None else f" and {np.shape(zp)}"))

    def expand(p: np.ndarray) -> np.ndarray:
        return np.take(np.repeat(p, block, axis=axis), np.arange(shape[axis]), axis=axis)
    return expand(scale), (None if zp is None else expand(np.asarray(zp)))


def quantize_op(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, scale, zp = (args + [None] * 3)[:3]
    dtype = np.dtype(np.uint8) if zp is None else np.asarray(zp).dtype
    if dtype not in (np.uint8, np.int8, np.uint16, np.int16):
        raise ModelError(f"QuantizeLinear {op.name!r}: output type {dtype.name} is not supported (uint8, int8, "
                         "uint16, int16); sub-byte and float8 outputs are refused rather than approximated")
    s_b, zp_b = _params(op, scale, zp, x.shape)
    y = quantize_linear(x, s_b, np.zeros((), dtype) if zp_b is None else zp_b, dtype)
    return OpResult([y], "vector", vector_elements=y.size)


def dequantize_op(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """DequantizeLinear on 8/16/32-bit, sub-byte integer and minifloat inputs (decoded by
    :mod:`.low_bit`): ``f32(q - zp) * s`` for integers, ``f32(q) * s`` for minifloats (whose
    zero point must be 0); with a float16 scale the float32 product is rounded to float16."""
    q, scale, zp = (args + [None] * 3)[:3]
    s_b, zp_b = _params(op, scale, zp, q.shape)
    values, is_float = decode(q)
    zero = 0 if zp_b is None else decode(zp_b)[0]
    if is_float:
        if np.any(zero != 0):
            raise ModelError(f"DequantizeLinear {op.name!r}: a {q.dtype.name} zero point must be 0")
        y = values * np.asarray(s_b).astype(np.float32)
    else:
        y = (values - zero).astype(np.float32) * np.asarray(s_b).astype(np.float32)
    if np.asarray(scale).dtype == np.float16:
        y = y.astype(np.float16)
    return OpResult([y], "vector", vector_elements=y.size)


def matmul_integer(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """ONNX MatMulInteger: ``(A - a_zp) @ (B - b_zp)`` as int32, in the configured accumulator
    (a_zp scalar or per row of A, b_zp scalar or per column of B)."""
    a, b, za, zb = (args + [None] * 4)[:4]
    if a.ndim < 2 or b.ndim < 2:
        raise ModelError(f"MatMulInteger {op.name!r}: operands must be at least 2-D, got {a.shape} and {b.shape}")
    za_arr = np.asarray(0 if za is None else za)
    a_int = minus_zero_point(a, za_arr.reshape(-1, 1) if za_arr.size > 1 else za_arr.reshape(()))
    b_int = _weights_minus_zp(b, zb, b.ndim - 1)
    acc, stats = _accumulate(op, ctx, matmul, a_int, b_int)
    m, k, nn = acc.shape[-2], a.shape[-1], acc.shape[-1]
    batch = int(np.prod(acc.shape[:-2], dtype=np.int64))
    return OpResult([acc.astype(np.int32)], "mac", macs=batch * m * nn * k, mac_shape=(batch, m, nn, k), acc=stats)


def conv_integer(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """ONNX ConvInteger: ``conv(x - x_zp, w - w_zp)`` as int32 (no bias, no requantization)."""
    x, w, zx, zw = (args + [None] * 4)[:4]
    acc, stats = _accumulate(op, ctx, qlinear_conv_accumulate, x, _scalar_int(zx), w, zw, None, op.attrs,
                             where=f"ConvInteger {op.name!r}", error=ModelError)
    y = np.ascontiguousarray(acc[:, :, 0, :] if x.ndim == 3 else acc).astype(np.int32)
    n, o, ho, wo = acc.shape
    groups, p = int(op.attrs.get("group", 1)), n * ho * wo
    return OpResult([y], "mac", macs=p * o * stats.k, mac_shape=(groups, p, o // groups, stats.k), acc=stats)


def dynamic_quantize(op: Op, args: list, ctx: ExecContext) -> OpResult:
    """ONNX DynamicQuantizeLinear (uint8) as onnxruntime's ``GetQuantizationParameter``: range
    ``[min(x_min, 0), max(x_max, 0)]``, ``s = f32(max - min) / 255`` (1 when the range is
    empty), ``zp = rint(clamp(f32(0 - f32(min / s)), 0, 255))``, then MLAS QuantizeLinear."""
    x = args[0]
    if x.dtype != np.float32:
        raise ModelError(f"DynamicQuantizeLinear {op.name!r}: input must be float32, got {x.dtype}")
    lo = np.float32(min(np.float32(x.min()) if x.size else np.float32(0), np.float32(0)))
    hi = np.float32(max(np.float32(x.max()) if x.size else np.float32(0), np.float32(0)))
    scale = np.float32(1.0) if hi == lo else np.float32(np.float32(hi - lo) / np.float32(255.0))
    zp = np.uint8(np.rint(np.clip(np.float32(np.float32(0) - np.float32(lo / scale)), 0, 255)))
    y = quantize_linear(x, scale, zp, np.uint8)
    return OpResult([y, np.asarray(scale, np.float32), np.asarray(zp, np.uint8)], "vector", vector_elements=x.size)


EXECUTORS = {
    "MatMulInteger": matmul_integer,
    "ConvInteger": conv_integer,
    "DynamicQuantizeLinear": dynamic_quantize,
    "QLinearConv": qlinear_conv,
    "QLinearMatMul": qlinear_matmul,
    "QGemm": qgemm,
    "QLinearAdd": qlinear_add_op,
    "QLinearAveragePool": qlinear_average_pool,
    "QuantizeLinear": quantize_op,
    "DequantizeLinear": dequantize_op,
}
