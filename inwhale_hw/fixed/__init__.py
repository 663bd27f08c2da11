"""Fixed-point formats and exact operations on raw integer arrays.

The API follows APyTypes and Vivado ``ap_fixed`` (UG1399): a :class:`QFormat` ``(int_bits,
frac_bits, signed)`` with ``int_bits`` counting the sign bit; separate :class:`Rounding` and
:class:`Overflow` modes (ap_fixed names as aliases); arithmetic that never rounds implicitly.
Raw values are NumPy int64 arrays; formats are limited to 63 bits (:mod:`.format` says why) and
results that would need more raise :class:`~inwhale_hw.errors.WidthLimitError`.

==========================  ==============================================================
:func:`quantize`            float/int array -> raw (exact, one rounding); HALF_EVEN + ERROR
:func:`to_float`            raw -> float64 (exact up to 53 bits)
:func:`requantize`          raw -> raw of another format; FLOOR (``TRN``) + WRAP by default
:func:`shift_right`         ``round(raw / 2**k)``; FLOOR by default; per-element ``k`` allowed
:func:`shift_left`          ``raw * 2**k`` in a fixed-width register; WRAP by default
:func:`add` / :func:`sub`   exact, ``(raw, format)``; :func:`mul`, :func:`neg` likewise
:func:`matmul` / :func:`dot`  into an explicit accumulator format, overflow per partial sum,
                            counted (:class:`AccumResult`); WRAP by default
:func:`exact_matmul`        exact integer ``a @ b`` (BLAS when provably exact), int64
:class:`FixedArray`         raw + format with ``+ - * @ << >>`` operators
==========================  ==============================================================

The requantize/shift defaults are those of ap_fixed and APyTypes casts (drop low bits, drop
high bits); :func:`quantize` defaults to round-to-nearest-even and refuses out-of-range input
rather than wrapping it silently.
"""

from .accum import AccumResult, accumulator_format, dot, matmul
from .array import FixedArray
from .arith import add, add_format, mul, mul_format, neg, sub, sub_format
from .convert import quantize, requantize, to_float
from .format import MAX_BITS, QFormat
from .modes import Overflow, Rounding, as_overflow, as_rounding
from .overflow import apply_overflow, overflow_count
from .matmul import exact_matmul
from .shift import shift_left, shift_right

__all__ = [
    "AccumResult",
    "FixedArray",
    "MAX_BITS",
    "Overflow",
    "QFormat",
    "Rounding",
    "accumulator_format",
    "add",
    "add_format",
    "apply_overflow",
    "as_overflow",
    "as_rounding",
    "dot",
    "exact_matmul",
    "matmul",
    "mul",
    "mul_format",
    "neg",
    "overflow_count",
    "quantize",
    "requantize",
    "shift_left",
    "shift_right",
    "sub",
    "sub_format",
    "to_float",
]
