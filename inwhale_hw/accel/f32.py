"""Single-precision arithmetic of onnxruntime's CPU kernels, reproduced bit for bit in NumPy.

NumPy float32 operations round once to nearest-even, like the SSE/AVX instructions the kernels
use, so writing the same sequence of float32 operations gives the same bits.  The sources read
for each function are named in its docstring (onnxruntime 1.17 - 1.22, ``onnxruntime/core/mlas``
and ``onnxruntime/contrib_ops/cpu``); ``rint`` is round-to-nearest, ties to even (the default
MXCSR mode that ``_mm_cvtps_epi32`` and ``nearbyintf`` use).

The one operation NumPy lacks is a fused multiply-add (IEEE 754-2019 §5.4.1: ``a * b + c``
rounded once), which the AVX2 QLinearAdd kernel uses; :func:`fma_f32` computes it exactly.
"""

from __future__ import annotations

import numpy as np

from ..nn.requant import integer_range

__all__ = [
    "dequantize_linear",
    "fma_f32",
    "quantize_linear",
    "quantize_pool_output",
    "qlinear_add",
]


def _f32(x: object) -> np.ndarray:
    return np.asarray(x).astype(np.float32, copy=False)


def quantize_linear(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, dtype) -> np.ndarray:
    """ONNX QuantizeLinear as MLAS computes it: ``y = rint(clamp(x / s, qmin - zp, qmax - zp)) + zp``.

    ``x / s`` is one float32 division; the clamp happens in float before the conversion (so it
    equals saturating after rounding, the bounds being integers), and a NaN becomes ``qmin``
    (``_mm_max_ps(x, lo)`` returns its second operand for a NaN).  ``scale`` and ``zero_point``
    broadcast against ``x`` (per-axis parameters are shaped by the caller).

    Source: ``core/mlas/lib/quantize.cpp`` ``MlasQuantizeLinearVector`` (divide, max, min,
    ``_mm_cvtps_epi32``, add zero point).
    """
    lo, hi = integer_range(dtype)
    zp = np.asarray(zero_point).astype(np.float32)
    v = _f32(x) / _f32(scale)
    if v.shape != np.broadcast_shapes(v.shape, zp.shape):
        v = np.broadcast_to(v, np.broadcast_shapes(v.shape, zp.shape)).copy()
    np.fmax(v, np.float32(lo) - zp, out=v)  # fmax returns the bound for a NaN, like MAXPS(x, lo)
    np.fmin(v, np.float32(hi) - zp, out=v)
    np.rint(v, out=v)
    v += zp  # integers of at most 17 bits: exact in float32
    return v.astype(dtype)


def dequantize_linear(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    """ONNX DequantizeLinear: ``y = f32(int32(q) - zp) * s``, one float32 rounding.

    Source: ``core/providers/cpu/quantization/quantize_linear.cc`` (``static_cast<float>(
    static_cast<int32_t>(input) - zero_point) * scale``).
    """
    diff = np.asarray(q).astype(np.int32) - np.asarray(zero_point).astype(np.int32)
    return diff.astype(np.float32) * _f32(scale)


def _f64_of_f32(x: object) -> np.ndarray:
    """float64 holding the float32 value of ``x`` (8/16-bit integers convert exactly directly)."""
    arr = np.asarray(x)
    if arr.dtype in (np.float32, np.int8, np.uint8, np.int16, np.uint16):
        return arr.astype(np.float64)
    return arr.astype(np.float32).astype(np.float64)


#: The 29 float64 significand bits below float32's 24: a float64 whose low bits equal ``_HALF``
#: lies exactly half-way between two adjacent (normal) float32 values.
_LOW29, _HALF = np.uint64((1 << 29) - 1), np.uint64(1 << 28)


def fma_f32(a: object, b: object, c: object) -> np.ndarray:
    """Exactly rounded float32 ``a * b + c`` (IEEE 754 fusedMultiplyAdd), vectorized.

    ``p = a * b`` is exact in float64 (24 + 24 significand bits <= 53).  ``s = fl64(p + c)``
    and its error ``e = (p + c) - s`` (Knuth's TwoSum, exact) give the exact sum ``s + e``.
    Rounding ``s`` to float32 equals rounding the exact sum (``|e|`` is below half a float64
    ulp, so no float32 rounding boundary lies strictly between them) unless ``s`` lies exactly
    half-way between two float32 neighbours (its 29 low significand bits are ``100...0``)
    while ``e != 0`` (double rounding); there the sign of ``e`` decides.  Only those half-way
    candidates (found from the bits of ``s``) get the TwoSum.  Finite inputs whose result is
    a normal float32 are assumed (true for the quantized-kernel operands this module handles).
    """
    p = _f64_of_f32(a) * _f64_of_f32(b)
    c64 = _f64_of_f32(c)
    s = np.asarray(p + c64)
    r = s.astype(np.float32)
    halfway = np.flatnonzero((s.view(np.uint64) & _LOW29) == _HALF)
    if halfway.size == 0:
        return r
    si = s.reshape(-1)[halfway]
    pi = np.broadcast_to(p, s.shape).reshape(-1)[halfway]
    ci = np.broadcast_to(c64, s.shape).reshape(-1)[halfway]
    bv = si - pi
    ei = (pi - (si - bv)) + (ci - bv)
    inexact = ei != 0
    if not inexact.any():
        return r
    halfway, si, ei = halfway[inexact], si[inexact], ei[inexact]
    ri = r.reshape(-1)[halfway]
    r64 = ri.astype(np.float64)
    lower = np.where(r64 <= si, ri, np.nextafter(ri, np.float32(-np.inf)))
    upper = np.where(r64 >= si, ri, np.nextafter(ri, np.float32(np.inf)))
    r = r.copy()
    r.reshape(-1)[halfway] = np.where(ei > 0, upper, lower)
    return r


def qlinear_add(a, a_scale, a_zp, b, b_scale, b_zp, c_scale, c_zp, dtype) -> np.ndarray:
    """com.microsoft QLinearAdd as the AVX2 MLAS kernel computes it (every x86-64 CPU with AVX2).

    With ``r_a = f32(s_a / s_c)``, ``r_b = f32(s_b / s_c)`` and the constant
    ``F = f32(z_c) - fma(r_a, z_a, f32(r_b * z_b))`` (GCC contracts the C expression
    ``ScaleRatio_AC * ZeroPointA + ScaleRatio_BC * ZeroPointB`` into one FMA; checked against
    onnxruntime), each output is ``sat(rint(fma(a, r_a, fma(b, r_b, F))))`` for two vectors.
    When one operand is a single value per call (a scalar, or constant over the innermost
    broadcast span, as onnxruntime's broadcaster hands it to the kernel) it is folded into the
    constant first: ``F' = F + f32(x * r_x)`` (separate multiply and add), then
    ``fma(other, r_other, F')``.  Saturation is the int32 -> int16 -> 8-bit pack chain.

    Sources: ``core/mlas/lib/intrinsics/avx2/qladd_avx2.cpp``
    (``MlasQLinearAddKernelAvx2Helper``), ``contrib_ops/cpu/quantization/qlinear_binary_op.cc``.
    """
    lo, hi = integer_range(dtype)
    r_a = np.float32(_f32(a_scale).reshape(()) / _f32(c_scale).reshape(()))
    r_b = np.float32(_f32(b_scale).reshape(()) / _f32(c_scale).reshape(()))
    za, zb, zc = (np.float32(int(np.asarray(z).reshape(()))) for z in (a_zp, b_zp, c_zp))
    fixed = np.float32(zc - fma_f32(r_a, za, np.float32(r_b * zb)))
    a, b = np.asarray(a), np.asarray(b)
    mode = broadcast_mode(a.shape, b.shape)
    if mode == "a-scalar":
        v = fma_f32(b, r_b, fixed + a.astype(np.float32) * r_a)
    elif mode == "b-scalar":
        v = fma_f32(a, r_a, fixed + b.astype(np.float32) * r_b)
    else:
        v = fma_f32(a, r_a, fma_f32(b, r_b, fixed))
    return np.clip(np.rint(v), lo, hi).astype(dtype)


def broadcast_mode(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> str:
    """How onnxruntime's binary broadcaster feeds the kernel: ``"vectors"``, ``"a-scalar"`` or
    ``"b-scalar"``.

    The broadcaster (``core/providers/cpu/math/element_wise_ops.h`` ``InputBroadcaster``) walks
    the output in spans of the innermost axes over which the two inputs are either both
    varying or one is constant; within a span an input that is constant is passed as a scalar.
    So an input is scalar per span when it has one element, or when the innermost output axis
    of length > 1 is one along which it does not vary.
    """
    if int(np.prod(shape_a)) == 1 and int(np.prod(shape_b)) != 1:
        return "a-scalar"
    if int(np.prod(shape_b)) == 1:
        return "b-scalar" if int(np.prod(shape_a)) != 1 else "vectors"
    ndim = max(len(shape_a), len(shape_b))
    pa = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    pb = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    for da, db in zip(reversed(pa), reversed(pb)):
        if da == db == 1:
            continue
        if da == db:
            return "vectors"
        return "a-scalar" if da == 1 else "b-scalar"
    return "vectors"


def quantize_pool_output(y: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, dtype) -> np.ndarray:
    """QLinearAveragePool's output rounding: ``sat(nearbyint(f32(f32(y / s) + zp)))``.

    Unlike QuantizeLinear the zero point is added in float before rounding.  Source:
    ``contrib_ops/cpu/quantization/qlinear_pool.cc`` ``quantize_value``.
    """
    lo, hi = integer_range(dtype)
    v = _f32(y) / _f32(scale).reshape(()) + np.float32(int(np.asarray(zero_point).reshape(())))
    return np.clip(np.rint(v), lo, hi).astype(dtype)
