"""Conversions: float or integer arrays to raw fixed-point (:func:`quantize`), back
(:func:`to_float`), and between formats (:func:`requantize`).

Exactness of :func:`quantize` for float input (one rounding, never two):

1. ``y = x * 2**frac_bits`` multiplies by a power of two, which is exact in binary64
   (IEEE 754-2019 §4.3) unless it overflows (then ``|y|`` is far beyond every format: an
   overflow) or underflows (then ``|y| < 2**-1022``, so only its sign and whether it is zero
   matter; a nonzero input that underflowed to zero is replaced by ``±2**-1074`` to keep both).
2. ``rint``, ``floor``, ``ceil`` and ``trunc`` of a binary64 value are exact integers.
   HALF_EVEN is ``rint``.  HALF_ODD and HALF_TOWARD_ZERO start from ``t = rint(y)``;
   ``e = y - t`` is exact because ``|e| <= 1/2`` is a multiple of ``ulp(y)`` (Sterbenz-style
   argument), ``y`` is a tie exactly when ``|e| == 1/2``, and the tie moves to the neighbour
   ``t + 2e`` when the mode asks for it.  HALF_UP, HALF_DOWN and HALF_AWAY compare the exact
   fractional part ``d`` (``y - floor(y)``, ``ceil(y) - y``, ``y - trunc(y)``) with 1/2 through
   ``floor(2d)`` / ``trunc(2d)`` (see ``_round_float``).  So 0.49999999999999994 LSB gives 0
   under HALF_UP and exact ties honour the mode.
3. The range check compares the integer-valued ``t`` with ``raw_min`` and ``raw_max + 1``,
   which are 0 or powers of two and therefore exact in binary64; values out of range are never
   cast to int64 directly (WRAP reduces them with the exact ``fmod`` first).

STOCHASTIC rounds ``y`` up with probability ``y - floor(y)`` using a 53-bit uniform draw, so
its bias is below ``2**-53`` LSB.  Integer input is converted with integer arithmetic only.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ParameterError
from ._parallel import CHUNK, chunk_map
from .format import QFormat
from .modes import Overflow, Rounding, as_overflow, as_rounding
from .overflow import apply_overflow_counted, as_raw, overflow_error, wrap
from .shift import as_int64, as_rng, round_shift

__all__ = ["quantize", "to_float", "requantize"]

_FAR = 2.0**1000  # a multiple of 2**bits far beyond every format: stands in for scaling overflow
_DIRECTED = (Rounding.FLOOR, Rounding.CEIL, Rounding.AWAY_FROM_ZERO, Rounding.STOCHASTIC)


def _round_float(y: np.ndarray, mode: Rounding, u: np.ndarray | None) -> np.ndarray:
    """Round integer-exactly, in place where possible; returns the rounded array."""
    if mode is Rounding.HALF_EVEN:
        return np.rint(y, out=y)
    if mode is Rounding.FLOOR:
        return np.floor(y, out=y)
    if mode is Rounding.CEIL:
        return np.ceil(y, out=y)
    if mode is Rounding.TOWARD_ZERO:
        return np.trunc(y, out=y)
    if mode is Rounding.AWAY_FROM_ZERO:
        t = np.abs(y)
        np.ceil(t, out=t)
        return np.copysign(t, y, out=t)
    if mode is Rounding.STOCHASTIC:
        t = np.floor(y)
        np.subtract(y, t, out=y)
        t += u < y
        return t
    if mode is Rounding.HALF_AWAY:
        # f = trunc(y); d = y - f is exact (same sign as y, |d| < 1); trunc(2d) is +-1 iff |d| >= 1/2
        f = np.trunc(y)
        np.subtract(y, f, out=y)
        np.add(y, y, out=y)
        np.trunc(y, out=y)
        f += y
        return f
    if mode is Rounding.HALF_UP or mode is Rounding.HALF_DOWN:
        # HALF_UP: f = floor(y), up iff d = y - f >= 1/2.  HALF_DOWN mirrors it with c = ceil(y),
        # down iff c - y >= 1/2.  d is exact when |y| >= 1/2; otherwise d is 1 - |y| rounded, which
        # stays in [1/2, 1], on the correct side of 1/2.
        up = mode is Rounding.HALF_UP
        f = np.floor(y) if up else np.ceil(y)
        d = np.subtract(y, f, out=y) if up else np.subtract(f, y, out=y)
        if up:
            f += d >= 0.5
        else:
            f -= d >= 0.5
        return f
    t = np.rint(y)
    e = np.subtract(y, t, out=y)
    step = np.trunc(np.add(e, e))  # +-1 exactly at ties, 0 elsewhere: the other neighbour is t + step
    if mode is Rounding.HALF_TOWARD_ZERO:
        step *= e * t < 0  # a tie moves toward zero when e and t have opposite signs
    t += step  # HALF_ODD: every tie moves off the even neighbour
    return t


def _scale_and_round(x, fmt, mode, u, clamp):
    y = np.multiply(x, 2.0**fmt.frac_bits)
    if clamp:  # x is finite: an infinite y came from scaling overflow; keep it far out of range
        np.clip(y, -_FAR, _FAR, out=y)
    if fmt.frac_bits < 0 and mode in _DIRECTED:
        lost = (y == 0) & (x != 0)
        if lost.any():
            y[lost] = np.copysign(5e-324, x[lost])
    return _round_float(y, mode, u)


def _quantize_block(x, out, fmt, mode, ovf, u):
    """Quantize float64 ``x`` into int64 ``out``; returns (count, first, first_nonfinite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        t = _scale_and_round(x, fmt, mode, u, clamp=False)
        top = float(2 ** (fmt.bits - 1 if fmt.signed else fmt.bits))  # raw_max + 1, exact
        bottom = -top if fmt.signed else 0.0  # raw_min, exact
        sym = ovf is Overflow.SAT_SYM and fmt.signed
        if t.size:
            lo, hi = t.min(), t.max()
            if np.isnan(lo) or np.isnan(hi) or not (hi < top and (lo > bottom if sym else lo >= bottom)):
                finite = np.isfinite(x)
                if not finite.all():
                    return 0, None, int(np.argmin(finite))
                if not np.isfinite(t).all():
                    t = _scale_and_round(x, fmt, mode, u, clamp=True)
                return _quantize_overflow(t, out, fmt, ovf, top, bottom, sym)
        np.copyto(out, t, casting="unsafe")
    return 0, None, None


def _quantize_overflow(t, out, fmt, ovf, top, bottom, sym):
    high = t >= top
    low = t <= bottom if sym else t < bottom
    bad = high | low
    count, first = int(np.count_nonzero(bad)), int(np.argmax(bad))
    if ovf is Overflow.WRAP:
        w = np.fmod(t, 2.0**fmt.bits)  # exact, |w| < 2**bits
        np.copyto(out, wrap(w.astype(np.int64), fmt))
        return count, first, None
    np.copyto(out, np.where(bad, 0.0, t), casting="unsafe")
    if ovf is Overflow.SAT:
        out[high] = fmt.raw_max
        out[low] = fmt.raw_min
    elif ovf is Overflow.SAT_SYM:
        out[high] = fmt.raw_max
        out[low] = -fmt.raw_max if fmt.signed else 0
    return count, first, None


def _float_input(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind == "f":
        return np.asarray(arr, dtype=np.float64, order="C")  # (ascontiguousarray would make 0-d 1-d)
    raise InputError(f"quantize: expected a real float or integer array, got dtype {arr.dtype}")


def quantize(
    x: object,
    fmt: QFormat,
    rounding: Rounding | str = Rounding.HALF_EVEN,
    overflow: Overflow | str = Overflow.ERROR,
    rng: object = None,
) -> np.ndarray:
    """Raw int64 values of ``x`` in ``fmt``: ``overflow(round(x * 2**frac_bits))``, exactly.

    Defaults: ``rounding=HALF_EVEN`` (round to nearest, ties to even: unbiased, IEEE 754's
    default) and ``overflow=ERROR`` (values that do not fit raise
    :class:`~inwhale_hw.errors.FixedPointOverflowError`; pass SAT or WRAP to accept them).
    ``x`` may be any float dtype (converted to float64 exactly), an integer or bool array.
    NaN or inf raise :class:`~inwhale_hw.errors.InputError` naming the first flat index.
    STOCHASTIC needs ``rng`` (an int seed or a Generator).  The result has ``x``'s shape.
    """
    mode, ovf = as_rounding(rounding), as_overflow(overflow)
    if not isinstance(fmt, QFormat):
        raise ParameterError(f"quantize: fmt={fmt!r} is not allowed; expected a QFormat")
    generator = as_rng(rng, mode)
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        v = as_int64(arr, "quantize")
        return _rescale(v, -fmt.frac_bits, fmt, mode, ovf, generator, "value ")
    xf = _float_input(arr)
    out = np.empty(xf.shape, dtype=np.int64)
    flat_x, flat_out = xf.reshape(-1), out.reshape(-1)

    def block(a: int, b: int):
        u = generator.random(b - a) if generator is not None else None
        return _quantize_block(flat_x[a:b], flat_out[a:b], fmt, mode, ovf, u)

    starts = range(0, max(flat_x.size, 1), CHUNK)
    results = chunk_map(block, flat_x.size, parallel=generator is None)
    total, first = 0, None
    for start, (count, index, nonfinite) in zip(starts, results):
        if nonfinite is not None:
            where = start + nonfinite
            raise InputError(
                f"quantize: value {flat_x[where]} at flat index {where} is not finite; "
                "expected finite real numbers"
            )
        if count:
            total += count
            first = start + index if first is None else first
    if total and ovf is Overflow.ERROR:
        raise overflow_error(fmt, total, first, repr(float(flat_x[first])), flat_x.size)
    return out


def to_float(raw: object, fmt: QFormat) -> np.ndarray:
    """float64 values ``raw * 2**-frac_bits`` of raw values of ``fmt``.

    Exact when ``|raw| < 2**53`` (every format up to 53 bits); wider raw values are rounded
    once, to nearest even, by the int64 -> float64 conversion.  Raw values outside ``fmt``
    raise :class:`~inwhale_hw.errors.InputError`.
    """
    arr = as_raw(raw, fmt, "to_float")
    out = np.empty(arr.shape, dtype=np.float64)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    scale = 2.0**-fmt.frac_bits

    def block(a: int, b: int) -> None:
        np.multiply(flat_in[a:b], scale, out=flat_out[a:b])

    chunk_map(block, flat_in.size)
    return out


def _rescale_block(v, s, dst, mode, ovf, generator):
    """``overflow(round(v * 2**-s))`` of one chunk: (result, overflow count, first index)."""
    if s > 0:
        out = round_shift(v, s, mode, generator)
    elif s < 0:
        k = -s
        top = np.right_shift(v, max(63 - k, 0))
        safe = ((top == 0) | (top == -1)) if k < 64 else (v == 0)
        out = np.left_shift(v, min(k, 63)) if k < 64 else np.zeros_like(v)
        if ovf is not Overflow.WRAP and not safe.all():
            out = np.where(safe, out, np.where(v > 0, dst.raw_max + 1, dst.raw_min - 1))
    else:
        out = v
    return apply_overflow_counted(out, dst, ovf)


def _rescale(v, s, dst, mode, ovf, generator, label):
    """``overflow(round(v * 2**-s))`` into ``dst`` for int64 ``v`` and a shift ``s`` (any sign)."""
    v = np.ascontiguousarray(v)
    out = np.empty(v.shape, dtype=np.int64)
    flat_v, flat_out = v.reshape(-1), out.reshape(-1)

    def block(a: int, b: int):
        part, count, first = _rescale_block(flat_v[a:b], s, dst, mode, ovf, generator)
        flat_out[a:b] = part
        return count, first

    total, first = 0, None
    for start, (count, index) in zip(range(0, max(flat_v.size, 1), CHUNK), chunk_map(block, flat_v.size, generator is None)):
        if count:
            total += count
            first = start + index if first is None else first
    if total and ovf is Overflow.ERROR:
        raise overflow_error(dst, total, first, f"{label}{int(flat_v[first])}", v.size)
    return out


def requantize(
    raw: object,
    src: QFormat,
    dst: QFormat,
    rounding: Rounding | str = Rounding.FLOOR,
    overflow: Overflow | str = Overflow.WRAP,
    rng: object = None,
) -> np.ndarray:
    """Raw values of ``src`` converted to ``dst``: ``overflow(round(raw * 2**(dst.f - src.f)))``.

    Defaults follow ap_fixed and APyTypes casts: ``rounding=FLOOR`` (``TRN``: drop the low
    bits) and ``overflow=WRAP`` (drop the high bits).  Computed exactly in integers (see
    :func:`~inwhale_hw.fixed.shift_right`); a conversion to a format with at least as many
    fractional bits and a range covering ``src`` is exact and never overflows.
    """
    mode, ovf = as_rounding(rounding), as_overflow(overflow)
    v = as_raw(raw, src, "requantize")
    return _rescale(v, src.frac_bits - dst.frac_bits, dst, mode, ovf, as_rng(rng, mode), "raw ")
