"""Requantization profiles: int32 accumulator -> 8/16-bit output, bit-exact per runtime.

Each profile is a function ``f(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=uint8,
*, float_bias=None) -> int64 array`` where ``acc`` is the integer accumulator (the int32 bias,
if the model has one, already loaded into it, see :mod:`inwhale_hw.nn.accumulate`), the three
scales are float32 (as stored in ONNX, TFLite and PyTorch packed weights) and broadcast against
``acc`` (per-channel ``w_scale`` must be shaped to the channel axis by the caller), and the
result is saturated to ``dtype``'s range.  ``float_bias`` is accepted only by the PyTorch
profiles, whose packed weights keep a float bias.

Notation: ``f32(.)`` is one IEEE single-precision rounding (nearest even), ``rint`` rounds to
nearest with ties to even, ``sat`` clamps to the output range, ``zp`` is the output zero point.
``PROFILES`` maps each name to its function; the docstring of each gives the formula and the
source files it was read from.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ParameterError
from .requant import (
    integer_range,
    multiply_by_quantized_multiplier_double,
    quantize_multiplier,
    rint_f32,
    round_half_away,
    shift_round_half_up,
    to_f32,
)

__all__ = ["PROFILES", "get_profile", "onnxruntime_rounded"]


def _prepare(acc, zero_point, dtype, float_bias, name, bias_ok=False):
    if float_bias is not None and not bias_ok:
        raise ParameterError(f"profile {name!r} takes an int32 bias inside acc, not float_bias")
    lo, hi = integer_range(dtype)
    zp = np.asarray(zero_point, dtype=np.int64)
    if np.any((zp < lo) | (zp > hi)):
        raise ParameterError(f"zero_point {zero_point!r} is outside the {np.dtype(dtype)} range [{lo}, {hi}]")
    return np.asarray(acc, dtype=np.int64), zp, lo, hi


def _f32_scale(in_scale, w_scale, out_scale):
    """m = f32(f32(in_scale * w_scale) / out_scale)."""
    return (to_f32(in_scale) * to_f32(w_scale)) / to_f32(out_scale)


def _f64_multiplier(in_scale, w_scale, out_scale):
    """double(in_scale) * double(w_scale) / double(out_scale), as TFLite's per-channel path."""
    return (
        to_f32(in_scale).astype(np.float64) * to_f32(w_scale).astype(np.float64)
    ) / to_f32(out_scale).astype(np.float64)


def onnxruntime(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.uint8, *, float_bias=None):
    """onnxruntime CPU QLinearMatMul / QLinearConv (MLAS).

    ``m = f32(f32(s_a * s_b) / s_y)`` per output column/channel, ``y = sat(rint(f32(acc) * m)
    + zp)`` with ``acc`` including the int32 bias, ties to even.

    Sources: ``onnxruntime/core/providers/cpu/quantization/quantize_linear_matmul.cc``
    (``output_scales[i] = a_scale * b_scale[i] / y_scale`` in float),
    ``onnxruntime/core/mlas/lib/requantize.cpp`` ``MlasRequantizeOutput`` (bias added to the
    int32, ``_mm_cvtepi32_ps``, multiply, clamp to ``[qmin - zp, qmax - zp]`` in float,
    ``_mm_cvtps_epi32`` round-to-nearest-even, add zp).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "onnxruntime")
    return np.clip(onnxruntime_rounded(acc, in_scale, w_scale, out_scale).astype(np.int64), lo - zp, hi - zp) + zp


def onnxruntime_rounded(acc, in_scale, w_scale, out_scale) -> np.ndarray:
    """The float32 ``rint(f32(acc) * m)`` of :func:`onnxruntime` before the zero point and the
    clamp (integer-valued float32; callers that clamp to an 8- or 16-bit range can finish in
    float32, every value involved being an integer below 2**24 in magnitude)."""
    scaled = to_f32(acc) * _f32_scale(in_scale, w_scale, out_scale)
    return np.rint(scaled, out=scaled)


def onnx_reference(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.uint8, *, float_bias=None):
    """The ONNX reference evaluator (``onnx.reference``) QLinearMatMul / QLinearConv.

    ``m = f32(f32(s_a * s_b) / s_y)``; ``D = f64(acc) * f64(m)`` (NumPy promotes int32 x
    float32 to float64, one rounding), ``D = D + zp`` in float64, ``y = sat(rint(D))``.

    Sources: ``onnx/reference/ops/op_qlinear_matmul.py`` (``C * (a_scale * b_scale /
    y_scale)``, ``D += y_zero_point``, ``np.clip(np.rint(D))``) and ``op_qlinear_conv.py``
    (same, ``np.round`` after the clip; rounding ties to even either way).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "onnx-reference")
    m = _f32_scale(in_scale, w_scale, out_scale).astype(np.float64)
    d = acc.astype(np.float64) * m + zp.astype(np.float64)
    return np.clip(np.rint(d), lo, hi).astype(np.int64)


def xnnpack(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """XNNPACK QS8/QU8 GEMM and convolution, "fp32" requantization (also TFLite's default
    delegate for quantized FULLY_CONNECTED / CONV_2D on x86 and ARM).

    ``m = f32(f32(s_in * s_w) / s_out)``, ``y = sat(rint(f32(acc) * m) + zp)``, ties to even.

    Sources: XNNPACK ``src/operators/fully-connected-nc.c`` / ``convolution-nhwc.c``
    (``requantization_scale = input_scale * kernel_scale / output_scale`` in float),
    ``src/qs8-gemm/*fp32*`` micro-kernels (``vfpacc = (float) vacc * vscale``, clamp to
    ``output_min/max - zero_point``, magic-bias or ``lrintf`` round to nearest even, add zp).

    Verified: bit-exact with LiteRT's default XNNPACK delegate (``OpResolverType.BUILTIN``) on
    int8 FULLY_CONNECTED and per-channel CONV_2D, ties included (tests/nn/test_nn_tflite.py).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "xnnpack")
    scaled = to_f32(acc) * _f32_scale(in_scale, w_scale, out_scale)
    return np.clip(rint_f32(scaled), lo - zp, hi - zp) + zp


def tflite_reference(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """The real-valued TFLite requantization, rounded half away from zero.

    ``y = sat(round_half_away(f64(acc) * f64(s_in) * f64(s_w) / f64(s_out)) + zp)``, evaluated
    left to right in float64: the effective scale of the TFLite quantization spec
    (``tensorflow/lite/kernels/kernel_util.cc`` ``PopulateConvolutionQuantizationParams``:
    ``effective_output_scale = double(input_scale) * filter_scale / double(output_scale)``)
    applied without the Q31 multiplier approximation, with ``TfLiteRound`` (std::round,
    ``tensorflow/lite/kernels/internal/cppmath.h``) as in TFLite's own ``Quantize`` helper.

    Verified: bit-exact with the LiteRT (ai-edge-litert 2.3) reference kernel of int8
    FULLY_CONNECTED (``OpResolverType.BUILTIN_REF``), per-tensor and per-channel, ties included
    (tests/nn/test_nn_tflite.py).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "tflite-reference")
    real = acc.astype(np.float64) * to_f32(in_scale).astype(np.float64)
    real = real * to_f32(w_scale).astype(np.float64) / to_f32(out_scale).astype(np.float64)
    return np.clip(round_half_away(real) + zp, lo, hi)


def gemmlowp(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """gemmlowp / TFLite reference kernels (default double rounding).

    ``(q, shift) = QuantizeMultiplier(f64(s_in) * f64(s_w) / f64(s_out))`` (frexp, Q31
    significand rounded half away from zero), then ``y = sat(RoundingDivideByPOT(
    SaturatingRoundingDoublingHighMul(acc * 2^max(shift, 0), q), max(-shift, 0)) + zp)``:
    first rounding half up (the high 32 bits of ``2 acc q``), second half away from zero.

    Sources: gemmlowp ``fixedpoint/fixedpoint.h`` (``SaturatingRoundingDoublingHighMul``,
    ``RoundingDivideByPOT``), TFLite ``kernels/internal/common.h``
    ``MultiplyByQuantizedMultiplier`` (non-``TFLITE_SINGLE_ROUNDING`` branch),
    ``kernels/internal/quantization_util.cc`` ``QuantizeMultiplier``,
    ``kernels/internal/reference/integer_ops/fully_connected.h`` / ``conv.h`` (multiply, add
    output offset, clamp).

    Verified: bit-exact with the LiteRT (ai-edge-litert 2.3) reference kernel of int8 per-channel
    CONV_2D (``OpResolverType.BUILTIN_REF``), ties included (tests/nn/test_nn_tflite.py).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "gemmlowp")
    q, shift = quantize_multiplier(_f64_multiplier(in_scale, w_scale, out_scale))
    return np.clip(multiply_by_quantized_multiplier_double(acc, q, shift) + zp, lo, hi)


def tflite_ruy(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """TFLite optimized kernels on ARM NEON / ruy's pre-2020 kernels: two roundings, both
    half up.

    ``(q, shift)`` as :func:`gemmlowp`; ``x = acc * 2^max(shift, 0)``;
    ``y1 = (x * q + 2^30) >> 31`` (SQRDMULH); ``y = (y1 + 2^(r-1)) >> r`` with
    ``r = max(-shift, 0)`` (SRSHL by a negative amount: rounding shift, ties toward +inf,
    without gemmlowp's negative-value fix-up); ``sat(y + zp)``.

    Sources: ARM ``SQRDMULH``/``SRSHL`` semantics (Arm A64 ISA), as used by the ruy NEON
    kernels (``ruy/kernel_arm64.cc``) and TFLite ``optimized_ops`` NEON paths; the scalar
    reference of the same double rounding is gemmlowp's, which differs only at negative ties
    of the second step (there half away from zero).

    Verified: bit-exact with LiteRT's (ai-edge-litert 2.3, x86-64) optimized int8
    FULLY_CONNECTED and CONV_2D kernels (``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``),
    ties included (tests/nn/test_nn_tflite.py).  Note that current ruy
    (``ruy/apply_multiplier.cc``) documents a single rounding instead: that is :func:`dyadic`.
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "tflite-ruy")
    q, shift = quantize_multiplier(_f64_multiplier(in_scale, w_scale, out_scale))
    x = acc << np.maximum(shift, 0)
    x = ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    y1 = (x * q + (1 << 30)) >> 31
    return np.clip(shift_round_half_up(y1, np.maximum(-shift, 0)) + zp, lo, hi)


def dyadic(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """Dyadic requantization ``y = sat(((acc * b + 2^(c-1)) >> c) + zp)``, one rounding, ties
    toward +inf (round half up).

    ``m ~= b / 2^c`` with ``b`` the Q31 significand and ``c = 31 - shift`` from
    ``QuantizeMultiplier(f64(s_in) * f64(s_w) / f64(s_out))`` in its single-rounding form
    (shift saturated at 30).  This is the dyadic arithmetic of HAWQ-V3 (Yao et al., ICML 2021,
    §3.2) and exactly ruy's ``ruy/apply_multiplier.cc`` ``MultiplyByQuantizedMultiplier``
    (``(x * q + 2^(total_shift-1)) >> total_shift``, ``total_shift = 31 - shift``), which TFLite
    uses when built with ``TFLITE_SINGLE_ROUNDING``.
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "dyadic")
    b, shift = quantize_multiplier(_f64_multiplier(in_scale, w_scale, out_scale), single_rounding=True)
    return np.clip(shift_round_half_up(acc * b, 31 - shift) + zp, lo, hi)


def shift_only(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.int8, *, float_bias=None):
    """Power-of-two scales: ``y = sat(((acc + 2^(k-1)) >> k) + zp)`` with
    ``2^-k = s_in * s_w / s_out`` exactly (round half up; ``k <= 0`` is an exact left shift).

    The multiplier-free datapath of power-of-two quantized accelerators (e.g. the shift
    requantization of INQ / LogQuant hardware); scales that are not exact powers of two raise
    :class:`~inwhale_hw.errors.ParameterError`.
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "shift-only")
    m = _f64_multiplier(in_scale, w_scale, out_scale)
    mant, exp = np.frexp(m)
    if np.any(mant != 0.5):
        bad = np.asarray(m)[np.asarray(mant != 0.5)].ravel()[:3]
        raise ParameterError(f"shift-only needs s_in*s_w/s_out to be a power of two, got {bad}")
    k = 1 - exp.astype(np.int64)
    return np.clip(shift_round_half_up(acc, k) + zp, lo, hi)


def pytorch_fbgemm(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.uint8, *, float_bias=None):
    """PyTorch quantized linear / conv on the fbgemm engine (``ReQuantizeOutput``).

    ``s = f32(s_in * s_w)``, ``m = f32(s / s_out)``; with a float bias
    ``v = f32(acc) + f32(bias / s)``, otherwise ``v = f32(acc)`` (int32 bias already in acc);
    ``y = sat(rint(f32(v * m)) + zp)`` (``lrintf``, ties to even).

    Sources: PyTorch ``aten/src/ATen/native/quantized/cpu/qlinear.cpp``
    (``act_times_w_scale``, ``output_multiplier_float``), fbgemm
    ``include/fbgemm/OutputProcessing-inl.h`` / ``src/QuantUtilsAvx2.cc``
    ``requantizeOutputProcessingAvx2`` (float bias divided by ``act_times_w_scale`` and added
    to the float accumulator, multiply, ``_mm256_cvtps_epi32``, add zp, pack with saturation).

    Verified: bit-exact with torch 2.13 ``torch.ao.nn.quantized.functional.linear`` / ``conv2d``
    on the fbgemm engine, float bias and ties included (tests/nn/test_nn_torch.py).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "pytorch-fbgemm", bias_ok=True)
    s = to_f32(in_scale) * to_f32(w_scale)
    m = s / to_f32(out_scale)
    v = to_f32(acc)
    if float_bias is not None:
        v = v + to_f32(float_bias) / s
    return np.clip(rint_f32(v * m), lo - zp, hi - zp) + zp


def pytorch_qnnpack(acc, in_scale, w_scale, out_scale, zero_point=0, dtype=np.uint8, *, float_bias=None):
    """PyTorch quantized linear / conv on the QNNPACK engine.

    The float bias is first quantized to int32 with scale ``s_in * s_w``:
    ``b_q = rint(bias / f32(s_in * s_w))`` and added to the accumulator; then
    ``m = f32(f32(s_w * s_in) * f32(1 / s_out))`` and ``y = sat(rint(f32(acc + b_q) * m) + zp)``.

    Sources: PyTorch ``aten/src/ATen/native/quantized/cpu/qlinear.cpp`` (bias re-quantized with
    ``at::quantize_per_tensor(bias, weight_scale * input_scale, 0, kQInt32)``),
    ``quant_utils.h`` ``generate_requantization_scales`` (``(weight_scale * input_scale) *
    (1.f / output_scale)``), QNNPACK ``src/q8gemm`` fp32 requantization (``_mm_cvtps_epi32``).

    Verified: bit-exact with torch 2.13 ``torch.ao.nn.quantized.functional.linear`` / ``conv2d``
    on the qnnpack engine, float bias and ties included (tests/nn/test_nn_torch.py).
    """
    acc, zp, lo, hi = _prepare(acc, zero_point, dtype, float_bias, "pytorch-qnnpack", bias_ok=True)
    if float_bias is not None:
        acc = acc + rint_f32(to_f32(float_bias) / (to_f32(in_scale) * to_f32(w_scale)))
    m = (to_f32(w_scale) * to_f32(in_scale)) * (np.float32(1) / to_f32(out_scale))
    return np.clip(rint_f32(to_f32(acc) * m), lo - zp, hi - zp) + zp


PROFILES: dict[str, Callable[..., np.ndarray]] = {
    "onnxruntime": onnxruntime,
    "onnx-reference": onnx_reference,
    "tflite-reference": tflite_reference,
    "tflite-ruy": tflite_ruy,
    "xnnpack": xnnpack,
    "gemmlowp": gemmlowp,
    "pytorch-fbgemm": pytorch_fbgemm,
    "pytorch-qnnpack": pytorch_qnnpack,
    "shift-only": shift_only,
    "dyadic": dyadic,
}


def get_profile(name: str) -> Callable[..., np.ndarray]:
    """The profile function called ``name``, or ParameterError listing the known names."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown requantization profile {name!r}; known: {', '.join(PROFILES)}") from None
