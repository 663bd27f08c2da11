"""A thin array wrapper, raw int64 values plus their :class:`QFormat`, for readable arithmetic.

``+``, ``-``, ``*``, unary ``-`` and ``@`` are exact and grow the format exactly as the
functions in :mod:`.arith` and :func:`~inwhale_hw.fixed.accumulator_format` do; ``<<`` and ``>>``
move the binary point (``x << 2`` is ``x * 4``: same raw values, ``frac_bits - 2``), as in
APyTypes.  Nothing rounds or saturates unless you call :meth:`FixedArray.requantize`.  Mixing
with plain numbers is refused (``TypeError``): quantize them first, choosing a rounding.
"""

from __future__ import annotations

import numpy as np

from .accum import matmul
from .arith import add, mul, neg, sub
from .convert import quantize, requantize, to_float
from .format import QFormat
from .modes import Overflow, Rounding
from .overflow import as_raw

__all__ = ["FixedArray"]


class FixedArray:
    """Raw int64 values ``raw`` of format ``fmt`` (checked to lie in the format's range)."""

    __slots__ = ("raw", "fmt")
    __array_ufunc__ = None  # numpy must not turn ``ndarray + FixedArray`` into float math

    def __init__(self, raw: object, fmt: QFormat) -> None:
        if not isinstance(fmt, QFormat):
            raise TypeError(f"FixedArray: fmt must be a QFormat, got {fmt!r}")
        self.raw = as_raw(raw, fmt, "FixedArray")
        self.fmt = fmt

    @classmethod
    def from_float(
        cls,
        x: object,
        fmt: QFormat,
        rounding: Rounding | str = Rounding.HALF_EVEN,
        overflow: Overflow | str = Overflow.ERROR,
        rng: object = None,
    ) -> "FixedArray":
        """Quantize ``x`` into ``fmt`` (see :func:`~inwhale_hw.fixed.quantize` for the defaults)."""
        return cls._wrap(quantize(x, fmt, rounding, overflow, rng), fmt)

    @classmethod
    def _wrap(cls, raw: np.ndarray, fmt: QFormat) -> "FixedArray":
        obj = object.__new__(cls)
        obj.raw, obj.fmt = raw, fmt
        return obj

    # -- conversions -----------------------------------------------------------------------

    def to_float(self) -> np.ndarray:
        """float64 values (exact up to 53 bits)."""
        return to_float(self.raw, self.fmt)

    def requantize(
        self,
        fmt: QFormat,
        rounding: Rounding | str = Rounding.FLOOR,
        overflow: Overflow | str = Overflow.WRAP,
        rng: object = None,
    ) -> "FixedArray":
        """Convert to ``fmt`` (defaults TRN + WRAP, as ap_fixed/APyTypes casts)."""
        return FixedArray._wrap(requantize(self.raw, self.fmt, fmt, rounding, overflow, rng), fmt)

    # -- exact arithmetic ------------------------------------------------------------------

    def _binary(self, other: object, fn, swap: bool = False):
        if not isinstance(other, FixedArray):
            return NotImplemented
        left, right = (other, self) if swap else (self, other)
        raw, fmt = fn(left.raw, left.fmt, right.raw, right.fmt)
        return FixedArray._wrap(raw, fmt)

    def __add__(self, other: object):
        return self._binary(other, add)

    def __radd__(self, other: object):
        return self._binary(other, add, swap=True)

    def __sub__(self, other: object):
        return self._binary(other, sub)

    def __rsub__(self, other: object):
        return self._binary(other, sub, swap=True)

    def __mul__(self, other: object):
        return self._binary(other, mul)

    def __rmul__(self, other: object):
        return self._binary(other, mul, swap=True)

    def __neg__(self) -> "FixedArray":
        raw, fmt = neg(self.raw, self.fmt)
        return FixedArray._wrap(raw, fmt)

    def __matmul__(self, other: object):
        if not isinstance(other, FixedArray):
            return NotImplemented
        return self.matmul(other)[0]

    def matmul(
        self, other: "FixedArray", acc: QFormat | None = None, overflow: Overflow | str = Overflow.WRAP
    ) -> tuple["FixedArray", int]:
        """``(self @ other, overflow count)`` accumulated in ``acc`` (default: exact) under ``overflow``."""
        raw, fmt, count = matmul(self.raw, self.fmt, other.raw, other.fmt, acc, overflow)
        return FixedArray._wrap(raw, fmt), count

    def __lshift__(self, k: int) -> "FixedArray":
        return FixedArray._wrap(self.raw, QFormat(self.fmt.int_bits + int(k), self.fmt.frac_bits - int(k), self.fmt.signed))

    def __rshift__(self, k: int) -> "FixedArray":
        return self << -int(k)

    # -- array protocol --------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.raw.shape

    @property
    def ndim(self) -> int:
        return self.raw.ndim

    @property
    def size(self) -> int:
        return self.raw.size

    @property
    def T(self) -> "FixedArray":  # noqa: N802 - NumPy's name
        return FixedArray._wrap(self.raw.T, self.fmt)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: object) -> "FixedArray":
        return FixedArray._wrap(np.asarray(self.raw[index]), self.fmt)

    def reshape(self, *shape: object) -> "FixedArray":
        return FixedArray._wrap(self.raw.reshape(*shape), self.fmt)

    def same_as(self, other: "FixedArray") -> bool:
        """True when formats and raw values are identical."""
        return self.fmt == other.fmt and np.array_equal(self.raw, other.raw)

    def __repr__(self) -> str:
        values = np.array2string(self.to_float(), separator=", ", threshold=12, edgeitems=3)
        return f"FixedArray({values}, {self.fmt.name}, shape={self.shape})"

