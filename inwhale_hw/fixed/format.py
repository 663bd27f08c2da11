"""Fixed-point formats: :class:`QFormat`.

A format is the triple ``(int_bits, frac_bits, signed)`` used by APyTypes (``APyFixed``) and
Vivado HLS ``ap_fixed<W, I>`` / ``ap_ufixed<W, I>`` (UG1399, "Arbitrary Precision Fixed-Point
Data Types"): ``int_bits`` counts the bits left of the binary point *including the sign bit*,
``frac_bits`` the bits right of it, and the word length is ``bits = int_bits + frac_bits``.
A value is stored as its raw integer ``raw`` and means ``raw * 2**-frac_bits``:

* signed:   ``raw`` in ``[-2**(bits-1), 2**(bits-1) - 1]`` (two's complement);
* unsigned: ``raw`` in ``[0, 2**bits - 1]``.

As in APyTypes, ``frac_bits`` may be negative (the LSB weighs more than one) or larger than
``bits`` (``int_bits`` is then negative: every value is small).

Width limit: ``1 <= bits <= 63``.  Raw values live in NumPy ``int64`` arrays; 63 bits keep
every unsigned raw value non-negative in int64 and leave the rounding kernels one spare bit
so their intermediate values (quotient + 1, remainders, the sum of an accumulator and a
product) cannot wrap.  Results that would need more bits raise
:class:`~inwhale_hw.errors.WidthLimitError`; nothing wraps silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import ParameterError

__all__ = ["QFormat", "MAX_BITS", "MAX_FRAC_BITS"]

#: Largest word length a format may have (int64 raw storage, one spare bit).
MAX_BITS = 63
#: Largest |frac_bits|: keeps 2**frac_bits and every raw * 2**-frac_bits inside float64 range.
MAX_FRAC_BITS = 900

_Q_TEXT = re.compile(r"^\s*(u?)q(-?\d+)\.(-?\d+)\s*$", re.IGNORECASE)


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ParameterError(f"QFormat: {name}={value!r} is not allowed; expected an integer")
    return int(value.__index__())  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QFormat:
    """A fixed-point format ``(int_bits, frac_bits, signed)``; frozen and hashable.

    ``QFormat(4, 12)`` is a signed 16-bit word with 12 fractional bits (Q4.12 in the
    convention where the integer part includes the sign bit, ``ap_fixed<16, 4>``).
    ``bits`` must lie in ``1..63`` and ``|frac_bits| <= 900``.

    The value properties ``resolution``, ``min`` and ``max`` are exact
    :class:`fractions.Fraction` objects (``float(fmt.max)`` gives the nearest float64);
    ``raw_min`` / ``raw_max`` are Python ints.
    """

    int_bits: int
    frac_bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        int_bits = _as_int(self.int_bits, "int_bits")
        frac_bits = _as_int(self.frac_bits, "frac_bits")
        if not isinstance(self.signed, bool):
            raise ParameterError(f"QFormat: signed={self.signed!r} is not allowed; expected True or False")
        if abs(frac_bits) > MAX_FRAC_BITS:
            raise ParameterError(
                f"QFormat: frac_bits={frac_bits} is not allowed; expected |frac_bits| <= {MAX_FRAC_BITS}"
            )
        bits = int_bits + frac_bits
        if not 1 <= bits <= MAX_BITS:
            raise ParameterError(
                f"QFormat: int_bits={int_bits} + frac_bits={frac_bits} gives bits={bits}, which is "
                f"not allowed; expected 1 <= bits <= {MAX_BITS} (raw values are stored in int64)"
            )
        object.__setattr__(self, "int_bits", int_bits)
        object.__setattr__(self, "frac_bits", frac_bits)

    @classmethod
    def from_bits(cls, bits: int, frac_bits: int, signed: bool = True) -> "QFormat":
        """The format of word length ``bits`` with ``frac_bits`` fractional bits."""
        bits = _as_int(bits, "bits")
        frac_bits = _as_int(frac_bits, "frac_bits")
        if not 1 <= bits <= MAX_BITS:
            raise ParameterError(f"QFormat.from_bits: bits={bits} is not allowed; expected 1 <= bits <= {MAX_BITS}")
        return cls(bits - frac_bits, frac_bits, signed)

    @classmethod
    def parse(cls, text: str) -> "QFormat":
        """Parse ``"Q4.12"`` (signed, 4 integer bits including the sign) or ``"UQ8.0"``."""
        match = _Q_TEXT.match(str(text))
        if match is None:
            raise ParameterError(
                f"QFormat.parse: {text!r} is not allowed; expected 'Q<int_bits>.<frac_bits>' or "
                "'UQ<int_bits>.<frac_bits>', e.g. 'Q4.12'"
            )
        return cls(int(match.group(2)), int(match.group(3)), signed=not match.group(1))

    # -- derived quantities -------------------------------------------------------------------

    @property
    def bits(self) -> int:
        """Word length ``int_bits + frac_bits``."""
        return self.int_bits + self.frac_bits

    @property
    def raw_min(self) -> int:
        """Smallest raw integer: ``-2**(bits-1)`` (signed) or 0."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        """Largest raw integer: ``2**(bits-1) - 1`` (signed) or ``2**bits - 1``."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def resolution(self) -> Fraction:
        """Weight of one LSB, ``2**-frac_bits``, exactly."""
        return Fraction(2) ** -self.frac_bits

    @property
    def min(self) -> Fraction:
        """Smallest representable value, exactly."""
        return self.raw_min * self.resolution

    @property
    def max(self) -> Fraction:
        """Largest representable value, exactly."""
        return self.raw_max * self.resolution

    @property
    def name(self) -> str:
        """Short Q-notation name, e.g. ``Q4.12`` or ``UQ8.0`` (int_bits include the sign)."""
        return f"{'' if self.signed else 'U'}Q{self.int_bits}.{self.frac_bits}"

    def contains(self, value: Fraction | int | float) -> bool:
        """True when ``value`` is exactly representable in this format."""
        scaled = Fraction(value) / self.resolution
        return scaled.denominator == 1 and self.raw_min <= scaled <= self.raw_max

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return (
            f"QFormat(int_bits={self.int_bits}, frac_bits={self.frac_bits}, signed={self.signed})"
            f"  # {self.name}, {self.bits} bits"
        )
