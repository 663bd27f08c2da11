"""Block-dot processing element: the dot product of a block of low-bit weights with int8
activations, the block scale applied once per block in fixed point.

As llama.cpp's ``ggml_vec_dot_q4_0_q8_0`` (``sumi = sum(w_i * a_i)`` per block, then
``sumi * d_w * d_a``) and MX dot-product hardware, but with the combined scale
``s = d_w * d_a`` given as an unsigned fixed-point number with ``scale_frac`` fractional bits
(``UQ(scale_bits - scale_frac).scale_frac``), so the block output is the exact integer
``sumi * s`` standing for ``sumi * s * 2**-scale_frac``:

* ``w_i``: signed ``w_bits``-bit weights (Q4_0: the nibble minus 8; Q8_0: int8), ``a_i``:
  signed ``a_bits``-bit activations;
* ``sumi``: signed ``w_bits + a_bits + ceil(log2(block))`` bits (the extremes
  ``block * (-2**(w_bits-1)) * (-2**(a_bits-1))`` fit), no overflow;
* output: signed ``acc_bits + scale_bits + 1`` bits, exact.

Stream block (``amaranth.lib.stream``): ``i.payload`` = ``w`` in the low ``w_bits`` bits and
``a`` above (two's complement fields), one pair per transfer; sideband ``scale`` is sampled
with the block's last element; one ``o.payload`` per ``block`` inputs, registered, one cycle
after the last element.  One multiply-accumulate per clock (``block`` cycles per output).

:class:`MXFP4BlockDotPE` is the OCP MX v1.0 variant (§5, §6.1 dot product): weights are E2M1
codes ``s e1 e0 m`` decoded to the integer ``2 * value`` (magnitudes 0, 1, 2, 3, 4, 6, 8, 12;
five signed bits), activations signed ``a_bits``-bit integers, and the two shared E8M0 scales
``x_w``, ``x_a`` are applied once per block by adding exponents, so the output is exact::

    value = sumi * 2**(x_w + x_a - 255),   sumi = sum(2 w_i * a_i)

``value`` is the float result of ``sum(w_i 2**(x_w-127) * a_i 2**(x_a-127))`` (for MXINT8
activations, whose elements are ``a_i / 64``, subtract 6 from the exponent downstream).
Ports: ``i.payload`` = E2M1 code in bits 0-3, ``a`` above; sideband ``scale`` = ``x_w`` in
bits 0-7, ``x_a`` in bits 8-15, sampled with the block's last element; ``o.payload`` = ``sumi``
(two's complement, ``acc_bits`` = 5 + a_bits + ceil(log2 block) bits) in the low bits, the
exponent ``x_w + x_a - 255`` as a 10-bit two's complement field above it, and a NaN flag on top
(either scale byte 0xFF, the spec's NaN scale).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

__all__ = ["BlockDotPE", "MXFP4BlockDotPE", "acc_bits"]


def acc_bits(block: int, w_bits: int, a_bits: int) -> int:
    """Width of the exact block sum ``sum(w_i * a_i)``."""
    return w_bits + a_bits + (block - 1).bit_length()


class BlockDotPE(wiring.Component):
    """``sum(w_i a_i) * scale`` per block of ``block`` pairs (module doc)."""

    def __init__(self, block: int = 32, w_bits: int = 4, a_bits: int = 8, scale_bits: int = 16) -> None:
        for name, value, lo, hi in (("block", block, 2, 4096), ("w_bits", w_bits, 2, 8), ("a_bits", a_bits, 2, 16),
                                    ("scale_bits", scale_bits, 1, 24)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ParameterError(f"BlockDotPE: {name}={value!r} is not allowed; expected an int in [{lo}, {hi}]")
        self.block, self.w_bits, self.a_bits, self.scale_bits = block, w_bits, a_bits, scale_bits
        self.acc_bits = acc_bits(block, w_bits, a_bits)
        super().__init__({
            "i": In(stream.Signature(unsigned(w_bits + a_bits))),
            "scale": In(unsigned(scale_bits)),
            "o": Out(stream.Signature(signed(self.acc_bits + scale_bits + 1))),
        })

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        w = self.i.payload[:self.w_bits].as_signed()
        a = self.i.payload[self.w_bits:].as_signed()
        acc = Signal(signed(self.acc_bits), name="acc")
        count = Signal(range(self.block), name="count")
        total = Signal(signed(self.acc_bits), name="total")
        m.d.comb += total.eq(acc + w * a)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            with m.If(count == self.block - 1):
                m.d.sync += [self.o.payload.eq(total * self.scale), self.o.valid.eq(1), acc.eq(0), count.eq(0)]
            with m.Else():
                m.d.sync += [acc.eq(total), count.eq(count + 1)]
        return m


class MXFP4BlockDotPE(wiring.Component):
    """``sum(2 w_i a_i)`` with exponent ``x_w + x_a - 255`` per block of E2M1 x int pairs (module doc)."""

    EXP_BITS = 10

    def __init__(self, block: int = 32, a_bits: int = 8) -> None:
        for name, value, lo, hi in (("block", block, 2, 4096), ("a_bits", a_bits, 2, 16)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ParameterError(f"MXFP4BlockDotPE: {name}={value!r} is not allowed; expected an int in [{lo}, {hi}]")
        self.block, self.a_bits = block, a_bits
        self.acc_bits = acc_bits(block, 5, a_bits)
        super().__init__({
            "i": In(stream.Signature(unsigned(4 + a_bits))),
            "scale": In(unsigned(16)),
            "o": Out(stream.Signature(unsigned(self.acc_bits + self.EXP_BITS + 1))),
        })

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        code = self.i.payload[:4]
        a = self.i.payload[4:].as_signed()
        e, mant = code[1:3], code[0]
        mag = Signal(unsigned(4), name="mag")  # 2 * |E2M1 value|
        with m.Switch(e):
            with m.Case(0):
                m.d.comb += mag.eq(mant)
            for k in (1, 2, 3):
                with m.Case(k):
                    m.d.comb += mag.eq(Cat(mant, 1) << (k - 1))
        w2 = Signal(signed(5), name="w2")
        m.d.comb += w2.eq(Mux(code[3], -mag, mag))
        acc = Signal(signed(self.acc_bits), name="acc")
        count = Signal(range(self.block), name="count")
        total = Signal(signed(self.acc_bits), name="total")
        xw, xa = self.scale[:8], self.scale[8:]
        exp = Signal(signed(self.EXP_BITS), name="exp")
        m.d.comb += [total.eq(acc + w2 * a), exp.eq(xw + xa - 255)]
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            with m.If(count == self.block - 1):
                nan = (xw == 0xFF) | (xa == 0xFF)
                m.d.sync += [self.o.payload.eq(Cat(total, exp, nan)), self.o.valid.eq(1), acc.eq(0), count.eq(0)]
            with m.Else():
                m.d.sync += [acc.eq(total), count.eq(count + 1)]
        return m
