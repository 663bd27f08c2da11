"""Shifts of raw integers with explicit rounding: the kernel behind :func:`requantize`.

``shift_right(v, s, rounding)`` computes ``round(v / 2**s)`` exactly for int64 ``v`` and
``s >= 0``.  With ``q = v >> s`` (arithmetic shift = floor division) and the remainder
``r = v & (2**s - 1)`` in ``[0, 2**s)``, every mode is ``q + ((r + bias) >> s)`` where the
carry ``(r + bias) >> s`` is 0 or 1 and, with ``half = 2**(s-1)``:

====================  ====================================================
FLOOR                 bias = 0
CEIL                  bias = 2**s - 1
TOWARD_ZERO           bias = 2**s - 1 if v < 0 else 0
AWAY_FROM_ZERO        bias = 2**s - 1 if v > 0 else 0
HALF_UP               bias = half
HALF_DOWN             bias = half - 1
HALF_TOWARD_ZERO      bias = half if v < 0 else half - 1
HALF_AWAY             bias = half if v >= 0 else half - 1
HALF_EVEN             bias = half - 1 + (q & 1)
HALF_ODD              bias = half - (q & 1)
STOCHASTIC            bias = U, U uniform on [0, 2**s): carry with probability r / 2**s
====================  ====================================================

``r + bias < 2**(s+1) <= 2**63`` and ``q + 1`` cannot wrap for ``s >= 1``, so nothing
overflows.  For ``s > 62`` the shift is first reduced to ``s = 62`` by "jamming": the bits
shifted out beyond 62 are OR-ed into the new LSB (a sticky bit).  The jammed LSB lies below the
half-LSB decision point, so every deterministic mode gives the exact result; STOCHASTIC then
rounds with a probability that differs from the exact one by less than ``2**-62``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ParameterError
from .format import QFormat
from .modes import Overflow, Rounding, as_overflow, as_rounding
from .overflow import apply_overflow_counted, as_raw, overflow_error, wrap

__all__ = ["shift_right", "shift_left", "round_shift", "as_rng", "as_int64"]

_JAM = 62


def as_rng(rng: object, rounding: Rounding) -> np.random.Generator | None:
    """The Generator STOCHASTIC rounding draws from (``rng`` is a seed or a Generator)."""
    if rounding is not Rounding.STOCHASTIC:
        return None
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise ParameterError(
            "rounding=STOCHASTIC needs rng=<int seed or numpy.random.Generator>; got rng=None "
            "(results must be reproducible)"
        )
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ParameterError(f"rng={rng!r} is not allowed; expected a non-negative int seed or numpy.random.Generator")


def _jam(v: np.ndarray, s: np.ndarray | int) -> tuple[np.ndarray, np.ndarray | int]:
    """Reduce shifts above 62 to 62, folding the dropped bits into a sticky LSB."""
    if np.ndim(s) == 0:
        k = min(int(s) - _JAM, 63)
        low = np.bitwise_and(v, (1 << k) - 1)
        return np.right_shift(v, k) | (low != 0), _JAM
    big = s > _JAM
    k = np.where(big, np.minimum(s - _JAM, 63), 0)
    low = np.bitwise_and(v, np.left_shift(np.int64(1), k) - 1)
    return np.right_shift(v, k) | (low != 0), np.where(big, _JAM, s)


def round_shift(v: np.ndarray, s: np.ndarray | int, mode: Rounding, rng: np.random.Generator | None) -> np.ndarray:
    """``round(v / 2**s)`` for int64 ``v`` and ``s >= 0`` (scalar or array); new int64 array."""
    if np.ndim(s) == 0:
        if int(s) == 0:
            return np.array(v, dtype=np.int64, copy=True)
        if int(s) > _JAM:
            v, s = _jam(v, s)
        s = int(s)
        one = 1 << s
        half = one >> 1
    else:
        if np.any(s > _JAM):
            v, s = _jam(v, s)
        one = np.left_shift(np.int64(1), s)
        half = one >> 1
    q = np.right_shift(v, s)
    carry = np.bitwise_and(v, one - 1)
    if mode is Rounding.FLOOR:
        return q
    if mode is Rounding.CEIL:
        carry += one - 1
    elif mode is Rounding.TOWARD_ZERO:
        np.add(carry, one - 1, out=carry, where=v < 0)
    elif mode is Rounding.AWAY_FROM_ZERO:
        np.add(carry, one - 1, out=carry, where=v > 0)
    elif mode is Rounding.HALF_UP:
        carry += half
    elif mode is Rounding.HALF_DOWN:
        carry += half - 1
    elif mode is Rounding.HALF_TOWARD_ZERO:
        carry += half - 1
        carry += v < 0
    elif mode is Rounding.HALF_AWAY:
        carry += half - 1
        carry += v >= 0
    elif mode is Rounding.HALF_EVEN:
        carry += half - 1
        carry += q & 1
    elif mode is Rounding.HALF_ODD:
        carry += half
        carry -= q & 1
    else:
        assert rng is not None
        carry += rng.integers(0, one, size=np.shape(carry), dtype=np.int64)
    np.right_shift(carry, s, out=carry)
    if np.ndim(s):
        carry[np.broadcast_to(s == 0, carry.shape)] = 0
    q += carry
    return q


def as_int64(raw: object, where: str) -> np.ndarray:
    arr = np.asarray(raw)
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or (arr.dtype == np.uint64 and arr.size and int(arr.max()) >> 63):
        raise InputError(f"{where}: expected an int64-range integer array, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _as_shift(k: object, where: str) -> np.ndarray | int:
    arr = np.asarray(k)
    if arr.dtype.kind not in "iu" or (arr.size and int(arr.min()) < 0):
        raise ParameterError(f"{where}: shift k={k!r} is not allowed; expected non-negative integers")
    return int(arr) if arr.ndim == 0 else arr.astype(np.int64)


def shift_right(raw: object, k: object, rounding: Rounding | str = Rounding.FLOOR, rng: object = None) -> np.ndarray:
    """``round(raw / 2**k)`` on raw integers, exactly, with ``rounding`` (default FLOOR = TRN).

    ``k`` is a non-negative int or an integer array broadcastable against ``raw`` (per-channel
    shifts).  The result always fits int64; the binary point does not move (the caller keeps
    the format).  STOCHASTIC needs ``rng`` (a seed or Generator).
    """
    mode = as_rounding(rounding)
    v = as_int64(raw, "shift_right")
    s = _as_shift(k, "shift_right")
    if np.ndim(s):
        v, s = np.broadcast_arrays(v, s)
    return round_shift(v, s, mode, as_rng(rng, mode))


def shift_left(raw: object, k: object, fmt: QFormat, overflow: Overflow | str = Overflow.WRAP) -> np.ndarray:
    """``raw * 2**k`` kept in ``fmt`` (a fixed-width register), overflow by ``overflow``.

    ``raw`` must be raw values of ``fmt``; ``k >= 0`` is an int or an integer array
    broadcastable against ``raw``.  Default WRAP is what a hardware shifter does (ap_fixed
    ``AP_WRAP``): the low ``bits`` bits of the exact product are kept.
    """
    mode = as_overflow(overflow)
    v = as_raw(raw, fmt, "shift_left")
    s = _as_shift(k, "shift_left")
    v, s = np.broadcast_arrays(v, np.asarray(s, dtype=np.int64))
    s_in = np.minimum(s, 63)
    # v * 2**s fits int64 iff the bits shifted out (plus the new sign bit) are all copies of the sign
    top = np.right_shift(v, 63 - s_in)
    safe = ((top == 0) | (top == -1)) & ((s < 64) | (v == 0))
    shifted = np.where(s < 64, np.left_shift(v, s_in), 0)  # exact modulo 2**64
    if mode is Overflow.WRAP:
        return wrap(shifted, fmt)
    shifted = np.where(safe, shifted, np.where(v > 0, fmt.raw_max + 1, fmt.raw_min - 1))
    out, count, first = apply_overflow_counted(shifted, fmt, mode)
    if count and mode is Overflow.ERROR:
        value = f"{int(v.flat[first])} << {int(s.flat[first])}"
        raise overflow_error(fmt, count, first, value, v.size)
    return out
