"""Multiplier-free processing element for power-of-two (``pow2``/``inq``) and additive
powers-of-two (``apot``) weights: shifts and adds instead of an 8 x 8 multiplier.

Ports as :class:`~inwhale_hw.hdl.pe.ProcessingElement` (``bias``, ``clear``, ``accumulate``,
``acc``, ``overflowed``, same per-clock behaviour and latency), except that ``b`` is the
weight's ``bits``-bit code (``unsigned(bits)``) from :mod:`inwhale_hw.plugins.tensor.pow2`: bit
``bits-1`` is the sign ``s``, the low ``B = bits-1`` bits the magnitude field ``E``.
``a`` is the int8 activation (``signed(8)``).  The accumulated product is the integer the
model's multiply functions define:

``weights="pow2"`` (also ``inq`` codes, which use the same layout) — ``pow2_multiply``:
    ``P = (-1)^s * (a << (E - 1))`` for ``E >= 1``, ``0`` for ``E = 0``; the real product is
    ``P * 2^e_min``.  Hardware: ``(a << E)[1:]`` (one ``B``-stage barrel shifter; bit 0 of
    ``a << E`` is 0 whenever ``E >= 1``), gated to 0 by ``E == 0``; the magnitude is
    ``8 + 2^B - 2`` bits.  ``bits`` in [2, 6].
``weights="apot"`` — ``apot_multiply`` (Li et al., ICLR 2020, §3.1 eq. 5):
    ``P = (-1)^s * sum_i (a << (K - k_i))`` over the term sets of ``APOT_TERMS[B]``, where the
    field holds one selector per set (set 0 in the lowest bits; selector 0 = no term,
    ``j`` = the set's ``j``-th exponent) and ``K`` is the largest exponent of any set;
    the real product is ``P * gamma * 2^-K``.  Hardware: per set a one-hot select of fixed
    shifts of ``a`` (wiring only), then one adder per extra set (4-bit APoT: a single
    11-bit adder).  ``bits`` in [3, 7].

The sign is applied by the accumulator's adder through its carry-in (``acc + ~P + 1``),
so neither format spends a negation adder.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib.wiring import In

from inwhale_hw.errors import ParameterError
from inwhale_hw.nn.shiftadd import APOT_TERMS

from .pe import AccumulatingElement, check_choice, validating

__all__ = ["Pow2Element", "WEIGHT_FORMATS", "BITS_RANGE", "check_bits"]

WEIGHT_FORMATS = ("pow2", "apot")
#: allowed code widths per weight format (inclusive)
BITS_RANGE = {"pow2": (2, 6), "apot": (min(APOT_TERMS) + 1, max(APOT_TERMS) + 1)}


def check_bits(weights: str, bits: object, owner: str) -> int:
    """Return ``bits`` if it is an allowed code width for ``weights``, else ParameterError."""
    lo, hi = BITS_RANGE[weights]
    if isinstance(bits, bool) or not isinstance(bits, int) or not lo <= bits <= hi:
        raise ParameterError(
            f"{owner}: bits={bits!r} is not allowed for weights={weights!r}; expected an int in [{lo}, {hi}]"
        )
    return bits


class Pow2Element(AccumulatingElement):
    """Shift-add multiply-accumulate of an int8 activation ``a`` and a weight code ``b``."""

    def __init__(self, weights: str = "pow2", bits: int = 4, acc_bits: int = 32, overflow: str = "wrap",
                 pipeline: int = 0) -> None:
        owner = type(self).__name__
        with validating(self):
            self.weights = check_choice("weights", weights, WEIGHT_FORMATS, owner)
            self.bits = check_bits(weights, bits, owner)
        super().__init__(acc_bits=acc_bits, overflow=overflow, pipeline=pipeline)

    def operand_ports(self) -> dict[str, Any]:
        return {"a": In(signed(8)), "b": In(unsigned(self.bits))}

    def product(self, m: Module, enable: Value) -> tuple[Value, Value]:
        field, sign = self.b[: self.bits - 1], self.b[self.bits - 1]
        if self.weights == "pow2":
            shifted = (self.a << field)[1:].as_signed()
            magnitude = Signal(signed(8 + (1 << (self.bits - 1)) - 2), name="magnitude")
            m.d.comb += magnitude.eq(shifted & -(field.any() & enable))
            return magnitude, sign
        sets = APOT_TERMS[self.bits - 1]
        big = max(max(t) for t in sets)
        terms, offset = [], 0
        for index, exponents in enumerate(sets):
            width = len(exponents).bit_length()
            select = field[offset: offset + width]
            term = Signal(signed(8 + big - 1), name=f"term{index}")
            with m.Switch(Mux(enable, select, 0)):
                for j, k in enumerate(exponents, start=1):
                    with m.Case(j):
                        m.d.comb += term.eq(self.a << (big - k))
                with m.Default():
                    m.d.comb += term.eq(Const(0, signed(8)))
            terms.append(term)
            offset += width
        magnitude = Signal(signed(8 + big - 1 + (len(terms) - 1).bit_length()), name="magnitude")
        m.d.comb += magnitude.eq(sum(terms[1:], terms[0]))
        return magnitude, sign

    def __repr__(self) -> str:
        return (f"Pow2Element(weights={self.weights!r}, bits={self.bits}, acc_bits={self.acc_bits}, "
                f"overflow={self.overflow!r}, pipeline={self.pipeline})")
