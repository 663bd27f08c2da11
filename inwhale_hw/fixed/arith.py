"""Exact fixed-point arithmetic on raw int64 arrays: :func:`add`, :func:`sub`, :func:`mul`, :func:`neg`.

Nothing rounds and nothing overflows: each function returns the raw result together with the
smallest-rule format that holds every possible result exactly (APyTypes' word-length rules,
which are also ap_fixed's for same-signedness operands):

* ``add``/``sub``: ``frac = max(fa, fb)``; ``int = max(ia, ib) + 1``, where an unsigned operand
  counts ``int + 1`` when the result is signed.  ``add`` of two unsigned operands is unsigned;
  ``sub`` is always signed.
* ``mul``: ``frac = fa + fb``; ``int = ia + ib``; signed unless both operands are unsigned.
  (Unsigned x signed fits: ``(2**ia - lsb) * -2**(ib-1) > -2**(ia+ib-1)``.)
* ``neg``: ``frac = fa``; ``int = ia + 1``, signed (``-raw_min`` needs one more bit).

Operands are aligned to the common binary point by exact left shifts.  When the result format
would exceed 63 bits, :class:`~inwhale_hw.errors.WidthLimitError` is raised: requantize an
operand first.  Arrays broadcast as in NumPy.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError, WidthLimitError
from ._parallel import chunk_map
from .format import MAX_BITS, QFormat
from .overflow import as_raw

__all__ = ["add", "sub", "mul", "neg", "add_format", "sub_format", "mul_format"]


def _check_formats(*fmts: object) -> None:
    for fmt in fmts:
        if not isinstance(fmt, QFormat):
            raise ParameterError(f"expected a QFormat, got {fmt!r}")


def _result(int_bits: int, frac_bits: int, signed: bool, what: str) -> QFormat:
    if int_bits + frac_bits > MAX_BITS:
        raise WidthLimitError(
            f"{what} needs {int_bits + frac_bits} bits (int_bits={int_bits}, frac_bits={frac_bits}), "
            f"more than the {MAX_BITS} bits of int64 raw storage; requantize an operand to fewer bits first"
        )
    return QFormat(int_bits, frac_bits, signed)


def _signed_int_bits(fmt: QFormat) -> int:
    return fmt.int_bits if fmt.signed else fmt.int_bits + 1


def add_format(fa: QFormat, fb: QFormat) -> QFormat:
    """Format of the exact sum of values of ``fa`` and ``fb``."""
    _check_formats(fa, fb)
    signed = fa.signed or fb.signed
    ia, ib = (_signed_int_bits(fa), _signed_int_bits(fb)) if signed else (fa.int_bits, fb.int_bits)
    return _result(max(ia, ib) + 1, max(fa.frac_bits, fb.frac_bits), signed, f"{fa} + {fb}")


def sub_format(fa: QFormat, fb: QFormat) -> QFormat:
    """Format of the exact difference of values of ``fa`` and ``fb`` (always signed)."""
    _check_formats(fa, fb)
    if not (fa.signed or fb.signed):
        int_bits = max(fa.int_bits, fb.int_bits) + 1
    else:
        int_bits = max(_signed_int_bits(fa), _signed_int_bits(fb)) + 1
    return _result(int_bits, max(fa.frac_bits, fb.frac_bits), True, f"{fa} - {fb}")


def mul_format(fa: QFormat, fb: QFormat) -> QFormat:
    """Format of the exact product of values of ``fa`` and ``fb``."""
    _check_formats(fa, fb)
    return _result(fa.int_bits + fb.int_bits, fa.frac_bits + fb.frac_bits, fa.signed or fb.signed, f"{fa} * {fb}")


def _int64(x: object, fmt: QFormat, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == np.int64:
        return arr
    return as_raw(arr, fmt, where)  # converts, or raises naming the problem


def _in_range(x: np.ndarray, fmt: QFormat) -> bool:
    return x.size == 0 or (x.min() >= fmt.raw_min and x.max() <= fmt.raw_max)


def _binary(a: object, fa: QFormat, b: object, fb: QFormat, out_fmt: QFormat, op, where: str):
    """``op(a << sa, b << sb)`` with range checks fused into cache-sized chunks when shapes agree."""
    ra, rb = _int64(a, fa, where), _int64(b, fb, where)
    sa, sb = out_fmt.frac_bits - fa.frac_bits, out_fmt.frac_bits - fb.frac_bits
    if op is np.multiply:
        sa = sb = 0
    if ra.shape == rb.shape and ra.flags.c_contiguous and rb.flags.c_contiguous:
        out = np.empty(ra.shape, dtype=np.int64)
        flat_a, flat_b, flat_o = ra.reshape(-1), rb.reshape(-1), out.reshape(-1)

        def block(lo: int, hi: int) -> bool:
            x, y = flat_a[lo:hi], flat_b[lo:hi]
            if not (_in_range(x, fa) and _in_range(y, fb)):
                return False
            op(np.left_shift(x, sa) if sa else x, np.left_shift(y, sb) if sb else y, out=flat_o[lo:hi])
            return True

        if all(chunk_map(block, flat_o.size)):
            return out, out_fmt
    ra, rb = as_raw(ra, fa, where), as_raw(rb, fb, where)
    x = np.left_shift(ra, sa) if sa else ra
    y = np.left_shift(rb, sb) if sb else rb
    return op(x, y), out_fmt


def add(a: object, fa: QFormat, b: object, fb: QFormat) -> tuple[np.ndarray, QFormat]:
    """Exact ``a + b``: returns ``(raw, add_format(fa, fb))``."""
    return _binary(a, fa, b, fb, add_format(fa, fb), np.add, "add")


def sub(a: object, fa: QFormat, b: object, fb: QFormat) -> tuple[np.ndarray, QFormat]:
    """Exact ``a - b``: returns ``(raw, sub_format(fa, fb))``."""
    return _binary(a, fa, b, fb, sub_format(fa, fb), np.subtract, "sub")


def mul(a: object, fa: QFormat, b: object, fb: QFormat) -> tuple[np.ndarray, QFormat]:
    """Exact ``a * b``: returns ``(raw, mul_format(fa, fb))`` (raw product of raw values)."""
    return _binary(a, fa, b, fb, mul_format(fa, fb), np.multiply, "mul")


def neg(a: object, fa: QFormat) -> tuple[np.ndarray, QFormat]:
    """Exact ``-a``: returns ``(raw, QFormat(ia + 1, fa, signed=True))``."""
    _check_formats(fa)
    fmt = _result(fa.int_bits + 1, fa.frac_bits, True, f"-{fa}")
    return np.negative(as_raw(a, fa, "neg")), fmt
