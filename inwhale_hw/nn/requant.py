"""Integer and float primitives the requantization profiles are built from.

Every function is vectorized and exact: float steps are done in the precision the runtime
uses (NumPy float32 operations round to nearest even exactly like IEEE-754 single precision
in C), integer steps in int64 (an int32 accumulator times an int32 multiplier is < 2^62).

Sources (read for this module):
* TFLite ``tensorflow/lite/kernels/internal/quantization_util.cc`` ``QuantizeMultiplier``:
  ``q = frexp(m)``, ``q_fixed = TfLiteRound(q * 2^31)`` (std::round, half away from zero),
  ``q_fixed == 2^31 -> q_fixed /= 2, ++shift``; ``shift < -31 -> (0, 0)``; with
  ``TFLITE_SINGLE_ROUNDING`` a shift above 30 saturates to ``(2^31 - 1, 30)``.
* gemmlowp ``fixedpoint/fixedpoint.h`` ``SaturatingRoundingDoublingHighMul`` (nudge
  ``2^30`` or ``1 - 2^30`` by sign, then a truncating division by ``2^31``; equal to
  ``(a*b + 2^30) >> 31``, i.e. round half up, except that ``INT32_MIN * INT32_MIN``
  saturates to ``INT32_MAX``) and ``RoundingDivideByPOT`` (``(x >> e) + (remainder >
  (mask >> 1) + [x < 0])``: round half away from zero).
* ruy ``ruy/apply_multiplier.cc`` ``MultiplyByQuantizedMultiplier`` (single rounding:
  ``(x * q + 2^(30 - shift)) >> (31 - shift)``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "integer_range",
    "multiply_by_quantized_multiplier_double",
    "quantize_multiplier",
    "rint_f32",
    "rounding_divide_by_pot",
    "round_half_away",
    "saturate",
    "saturating_rounding_doubling_high_mul",
    "shift_round_half_up",
    "to_f32",
]

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

_RANGES = {
    np.dtype(np.int8): (-128, 127),
    np.dtype(np.uint8): (0, 255),
    np.dtype(np.int16): (-32768, 32767),
    np.dtype(np.uint16): (0, 65535),
    np.dtype(np.int32): (INT32_MIN, INT32_MAX),
}


def integer_range(dtype: object) -> tuple[int, int]:
    """(min, max) of an output dtype among int8, uint8, int16, uint16, int32."""
    dt = np.dtype(dtype)
    if dt not in _RANGES:
        raise ParameterError(f"output dtype must be one of int8, uint8, int16, uint16, int32, got {dt}")
    return _RANGES[dt]


def to_f32(x: object) -> np.ndarray:
    """Integer or float array rounded to float32 (nearest even, as C's (float) conversion)."""
    return np.asarray(x).astype(np.float32)


def rint_f32(x: np.ndarray) -> np.ndarray:
    """Round float32 to the nearest integer, ties to even (``_mm_cvtps_epi32`` / ``lrintf``
    in the default rounding mode), returned as int64."""
    return np.rint(x).astype(np.int64)


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (C ``std::round``, TFLite ``TfLiteRound``) as int64."""
    x = np.asarray(x, dtype=np.float64)
    mag = np.abs(x)
    whole = np.floor(mag)
    rounded = whole + (mag - whole >= 0.5)
    return np.where(x < 0, -rounded, rounded).astype(np.int64)


def saturate(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Clamp int64 ``x`` into ``[lo, hi]``."""
    return np.clip(x, lo, hi)


def quantize_multiplier(multiplier: object, single_rounding: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """TFLite ``QuantizeMultiplier`` vectorized: ``m ~= q * 2^(shift - 31)``, q in [2^30, 2^31).

    ``multiplier`` is float64 (the runtime's double).  Returns int64 arrays ``(q, shift)``.
    """
    m = np.asarray(multiplier, dtype=np.float64)
    if np.any(~np.isfinite(m)) or np.any(m < 0):
        raise ParameterError(f"requantization multipliers must be finite and >= 0, got {m[(~np.isfinite(m)) | (m < 0)].ravel()[:3]}")
    mant, exp = np.frexp(m)
    q = round_half_away(mant * float(1 << 31))
    shift = exp.astype(np.int64)
    full = q == (1 << 31)
    q = np.where(full, q // 2, q)
    shift = np.where(full, shift + 1, shift)
    tiny = shift < -31
    q = np.where(tiny, 0, q)
    shift = np.where(tiny, 0, shift)
    zero = m == 0
    q = np.where(zero, 0, q)
    shift = np.where(zero, 0, shift)
    if single_rounding:
        big = shift > 30
        q = np.where(big, INT32_MAX, q)
        shift = np.where(big, 30, shift)
    return q.astype(np.int64), shift.astype(np.int64)


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, dtype=np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32 values held in int64.

    ``(a*b + nudge) / 2^31`` with C truncating division and ``nudge = 2^30`` for ``a*b >= 0``,
    ``1 - 2^30`` otherwise; ``a == b == INT32_MIN`` gives ``INT32_MAX``.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudged = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: ``x / 2^exponent`` rounded half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


#: left shifts saturate here, far beyond any int8/int16 output, so int64 never wraps
_LEFT_SHIFT_RAIL = np.int64(1) << 62


def shift_round_half_up(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``(x + 2^(k-1)) >> k`` (round half up, arithmetic shift); ``k <= 0`` shifts left.

    A left shift whose exact result leaves ``[-2^62, 2^62]`` gives ``±2^62`` instead, so a
    later ``+ zp`` and saturation to the output type see the right sign (int64 never wraps).
    """
    x = np.asarray(x, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    right = np.maximum(k, 0)
    rounded = (x + np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)) >> right
    left = np.minimum(np.maximum(-k, 0), 62)
    fits = np.abs(rounded) <= (_LEFT_SHIFT_RAIL >> left)
    return np.where(fits, rounded << left, np.sign(rounded) * _LEFT_SHIFT_RAIL)


def multiply_by_quantized_multiplier_double(x: np.ndarray, q: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier`` (common.h, default double rounding):
    ``RoundingDivideByPOT(SRDHM(x * 2^left, q), right)``, left/right = max(+-shift, 0).

    The int32 product ``x * 2^left`` wraps as the x86 ``imul`` the C code compiles to.
    """
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    scaled = _wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, q), right)
