"""Overflow handling on raw int64 arrays, and raw-array validation.

:func:`apply_overflow` maps integers that may lie outside a format's raw range back into it
according to an :class:`~inwhale_hw.fixed.Overflow` mode (table in :mod:`.modes`).  WRAP keeps
the low ``bits`` bits: ``raw mod 2**bits``, read as two's complement for signed formats.  Because
int64 arithmetic is exact modulo ``2**64`` and ``2**bits`` divides ``2**64``, wrapping an int64
that itself wrapped during an exact computation still gives the exact modular result.
"""

from __future__ import annotations

import numpy as np

from ..errors import FixedPointOverflowError, InputError, ParameterError
from .format import QFormat
from .modes import Overflow, as_overflow

__all__ = ["apply_overflow", "overflow_count", "as_raw"]


def as_raw(raw: object, fmt: QFormat, where: str) -> np.ndarray:
    """``raw`` as an int64 array after checking it is integer and inside ``fmt``'s raw range."""
    if not isinstance(fmt, QFormat):
        raise ParameterError(f"{where}: format {fmt!r} is not allowed; expected a QFormat, e.g. QFormat(1, 15)")
    arr = np.asarray(raw)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{where}: expected an integer array of raw {fmt.name} values, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        index = int(np.argmax(arr > np.iinfo(np.int64).max))
        raise InputError(f"{where}: raw value {int(arr.flat[index])} at flat index {index} exceeds int64")
    arr = arr.astype(np.int64, copy=False)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < fmt.raw_min or hi > fmt.raw_max:
            index = int(np.argmax((arr < fmt.raw_min) | (arr > fmt.raw_max)))
            raise InputError(
                f"{where}: raw value {int(arr.flat[index])} at flat index {index} is outside the "
                f"{fmt.name} raw range [{fmt.raw_min}, {fmt.raw_max}]"
            )
    return arr


def wrap(v: np.ndarray, fmt: QFormat) -> np.ndarray:
    """``v mod 2**bits`` as a raw value of ``fmt`` (two's complement when signed); new array."""
    mask = (1 << fmt.bits) - 1
    if not fmt.signed:
        return np.bitwise_and(v, mask)
    offset = 1 << (fmt.bits - 1)
    out = np.add(v, offset)  # may wrap in int64: harmless, the result is taken mod 2**bits
    np.bitwise_and(out, mask, out=out)
    out -= offset
    return out


def _limits(fmt: QFormat, mode: Overflow) -> tuple[int, int]:
    if mode is Overflow.SAT_SYM and fmt.signed:
        return -fmt.raw_max, fmt.raw_max
    return fmt.raw_min, fmt.raw_max


def overflow_count(v: np.ndarray, fmt: QFormat, overflow: Overflow | str = Overflow.SAT) -> tuple[int, int | None]:
    """(number of values of ``v`` outside the range ``overflow`` enforces, first flat index)."""
    lo, hi = _limits(fmt, as_overflow(overflow))
    v = np.asarray(v)
    if v.size == 0 or (int(v.min()) >= lo and int(v.max()) <= hi):
        return 0, None
    bad = (v < lo) | (v > hi)
    return int(np.count_nonzero(bad)), int(np.argmax(bad))


def overflow_error(fmt: QFormat, count: int, first: int, value: object, total: int) -> FixedPointOverflowError:
    return FixedPointOverflowError(
        f"{count} of {total} values overflowed {fmt.name} (raw range [{fmt.raw_min}, {fmt.raw_max}], "
        f"value range [{float(fmt.min):.6g}, {float(fmt.max):.6g}]); the first is {value} at flat index "
        f"{first}; choose overflow=WRAP, SAT, SAT_SYM or SAT_ZERO to accept it",
        count=count,
        first_index=first,
    )


def apply_overflow_counted(v: np.ndarray, fmt: QFormat, mode: Overflow) -> tuple[np.ndarray, int, int | None]:
    """Apply ``mode`` to int64 ``v``; return (result, overflow count, first flat index).

    ERROR does not raise here (callers combine chunks first); the result is then ``v``.
    """
    lo, hi = _limits(fmt, mode)
    if v.size == 0:
        return v, 0, None
    if int(v.min()) >= lo and int(v.max()) <= hi:
        return v, 0, None
    bad = (v < lo) | (v > hi)
    count, first = int(np.count_nonzero(bad)), int(np.argmax(bad))
    if mode is Overflow.WRAP:
        return wrap(v, fmt), count, first
    if mode is Overflow.SAT or mode is Overflow.SAT_SYM:
        return np.clip(v, lo, hi), count, first
    if mode is Overflow.SAT_ZERO:
        return np.where(bad, 0, v), count, first
    return v, count, first


def apply_overflow(raw: object, fmt: QFormat, overflow: Overflow | str = Overflow.WRAP) -> np.ndarray:
    """Bring integers ``raw`` (any int64 values) into ``fmt`` by ``overflow`` (default WRAP).

    ERROR raises :class:`~inwhale_hw.errors.FixedPointOverflowError` with ``count`` and
    ``first_index`` set.  Returns a new int64 array (or ``raw`` itself when nothing overflowed).
    """
    mode = as_overflow(overflow)
    arr = np.asarray(raw)
    if arr.dtype.kind not in "iub":
        raise InputError(f"apply_overflow: expected an integer array, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    out, count, first = apply_overflow_counted(arr, fmt, mode)
    if count and mode is Overflow.ERROR:
        raise overflow_error(fmt, count, first, int(arr.flat[first]), arr.size)
    return out
