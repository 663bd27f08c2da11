"""Fixed-point formats and exact operations on raw integer arrays.

The API follows APyTypes and Vivado ``ap_fixed``: a :class:`QFormat` ``(int_bits, frac_bits,
signed)`` with ``int_bits`` counting the sign bit; separate :class:`Rounding` and
:class:`Overflow` modes; arithmetic that never rounds implicitly.  Raw values are NumPy int64
arrays (formats are limited to 63 bits, see :mod:`.format`).

Defaults: :func:`quantize` rounds HALF_EVEN and raises on overflow (ERROR);
:func:`requantize` and :func:`shift_right` truncate (FLOOR = ``TRN``) and :func:`requantize`,
:func:`shift_left` wrap (WRAP), as ap_fixed and APyTypes casts do.
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
