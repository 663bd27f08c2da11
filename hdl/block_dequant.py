"""Block-format element dequantizers: one element code and its block scale in, an IEEE binary32
bit pattern out, bit-exact with the NumPy decoders of the block formats.

All three are combinational unless ``pipeline`` register stages are requested (latency =
``pipeline`` cycles, one element per cycle; :mod:`inwhale_hw.hdl.pipeline`; cut point
``product`` between the element/scale decode and the float32 packing).

:class:`IntScaleDequantizer` (GGML Q4_0, Q8_0)
    ``code`` (4 or 8 bits) and ``scale`` (binary16 bits) -> ``value`` = ``d * q`` as float32,
    ``q = code - 8`` (Q4_0, the nibble) or ``q = int8(code)`` (Q8_0).  The product of an
    11-bit significand and a magnitude <= 128 has at most 19 bits, and ``|d| >= 2**-24``, so
    it is exact in binary32: no rounding, only normalization.  The sign of a zero product is
    ``sign(d) xor sign(q)`` (``q = 0`` counts as +0), as in float32 arithmetic.  Scales with
    binary16 exponent 31 (inf/NaN) are outside the block's contract.
:class:`MxDequantizer` (OCP MX v1.0)
    ``code`` (element bits) and ``scale`` (E8M0 byte ``x + 127``) -> ``value`` =
    ``2**x * element`` as float32: the element decoded to ``(-1)**s * M * 2**E`` (FP
    subnormal ``E = emin - m``, ``M = F``; normal ``M = F + 2**m``, ``E = e - bias - m``; INT8
    ``M = |c|``, ``E = -6``), then ``E + x`` packed exactly -- float32 subnormals included
    (the smallest product bit is ``2**-143``), overflow gives inf.  Scale 0xFF, element NaN
    codes give the quiet NaN 0x7FC00000; E5M2 inf codes give inf.
:class:`Nf4Dequantizer` (bitsandbytes NF4 / FP4)
    ``code`` (4 bits) and ``absmax`` (binary32 bits) -> ``value`` = ``book[code] * absmax``
    rounded to nearest even: a 24 x 24-bit significand product, normalized by one position,
    rounded with guard and sticky bits.  Contract: ``absmax`` a normal float32 (or zero) whose
    products with the non-zero code-book values are normal float32 numbers.

The float32 packing (:func:`pack_exact`): for ``M != 0`` with leading one at bit ``p``, the
unbiased exponent is ``p + E``; at least -126 gives exponent field ``p + E + 127`` (255 or
more: inf) and mantissa ``M << (23 - p)`` without its leading one; below, the subnormal
mantissa ``M << (E + 149)``.
"""

from __future__ import annotations

import struct
from typing import Any, Sequence

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .pipeline import Pipeline, check_depth

__all__ = ["IntScaleDequantizer", "MxDequantizer", "Nf4Dequantizer", "pack_exact", "MX_ELEMENTS", "QNAN32"]

#: the quiet NaN NumPy produces (positive, payload 0)
QNAN32 = 0x7FC00000
#: MX element -> (bits, exponent bits, mantissa bits, bias, specials) ; ebits 0 = INT8
MX_ELEMENTS = {
    "mxint8": (8, 0, 0, 0, "none"),
    "mxfp8_e4m3": (8, 4, 3, 7, "fn"),
    "mxfp8_e5m2": (8, 5, 2, 15, "ieee"),
    "mxfp6_e2m3": (6, 2, 3, 1, "none"),
    "mxfp6_e3m2": (6, 3, 2, 3, "none"),
    "mxfp4_e2m1": (4, 2, 1, 1, "none"),
}


def _leading_one(m: Module, mag: Value, width: int) -> Signal:
    lead = Signal(range(max(width, 2)), name="lead")
    for p in range(width):
        with m.If(mag[p]):
            m.d.comb += lead.eq(p)
    return lead


def pack_exact(m: Module, sign: Value, mag: Value, exp: Value, mag_width: int) -> Value:
    """binary32 bits of ``(-1)**sign * mag * 2**exp``, exact (the caller guarantees it fits)."""
    lead = _leading_one(m, mag, mag_width)
    ue = Signal(signed(12), name="ue")
    m.d.comb += ue.eq(exp + lead)
    normal_frac = ((mag << 23) >> lead)[:23]
    sub_shift = Signal(range(32), name="sub_shift")
    m.d.comb += sub_shift.eq((exp + 149)[:5])
    sub_frac = (mag << sub_shift)[:23]
    field = Signal(signed(12), name="field")
    m.d.comb += field.eq(ue + 127)
    out = Signal(32, name="packed")
    with m.If(mag == 0):
        m.d.comb += out.eq(Cat(Const(0, 31), sign))
    with m.Elif(field >= 255):
        m.d.comb += out.eq(Cat(Const(0, 23), Const(0xFF, 8), sign))
    with m.Elif(field >= 1):
        m.d.comb += out.eq(Cat(normal_frac, field[:8], sign))
    with m.Else():
        m.d.comb += out.eq(Cat(sub_frac, Const(0, 8), sign))
    return out


class _DequantBase(wiring.Component):
    cuts = ("product",)

    def __init__(self, ports: dict, pipeline: int) -> None:
        self.pipeline = check_depth(pipeline, type(self).__name__)
        super().__init__(ports)

    @property
    def latency(self) -> int:
        """Clock cycles from an input to its output (0: combinational)."""
        return self.pipeline


class IntScaleDequantizer(_DequantBase):
    """GGML Q4_0 / Q8_0 element: ``code``, binary16 ``scale`` -> float32 ``value`` (module doc)."""

    def __init__(self, kind: str = "q4_0", pipeline: int = 0) -> None:
        if kind not in ("q4_0", "q8_0"):
            raise ParameterError(f"IntScaleDequantizer: kind={kind!r} is not allowed; expected 'q4_0' or 'q8_0'")
        self.kind = kind
        bits = 4 if kind == "q4_0" else 8
        super().__init__({"code": In(unsigned(bits)), "scale": In(unsigned(16)), "value": Out(unsigned(32))}, pipeline)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        e, f, sd = self.scale[10:15], self.scale[0:10], self.scale[15]
        sig = Mux(e == 0, f, Cat(f, Const(1, 1)))  # 11-bit significand
        ex = Mux(e == 0, -24, e - 25)  # d = sig * 2**ex
        q = Signal(signed(9), name="q")
        if self.kind == "q4_0":
            m.d.comb += q.eq(self.code - 8)
        else:
            m.d.comb += q.eq(self.code.as_signed())
        sq = q < 0
        mag = Signal(19, name="mag")
        m.d.comb += mag.eq(sig * Mux(sq, -q, q)[:8])
        exp = Signal(signed(8), name="exp")
        m.d.comb += exp.eq(ex)
        sign, mag, exp = pipe.cut(m, "product", sd ^ sq, mag, exp)
        pipe.output(m, self.value, pack_exact(m, sign, mag, exp, 19))
        return m


class MxDequantizer(_DequantBase):
    """OCP MX element: ``code``, E8M0 ``scale`` -> float32 ``value`` (module doc)."""

    def __init__(self, fmt: str = "mxfp4_e2m1", pipeline: int = 0) -> None:
        if fmt not in MX_ELEMENTS:
            raise ParameterError(f"MxDequantizer: fmt={fmt!r} is not allowed; expected one of {', '.join(MX_ELEMENTS)}")
        self.fmt = fmt
        bits = MX_ELEMENTS[fmt][0]
        super().__init__({"code": In(unsigned(bits)), "scale": In(unsigned(8)), "value": Out(unsigned(32))}, pipeline)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        bits, eb, mb, bias, specials = MX_ELEMENTS[self.fmt]
        c = self.code
        s = c[bits - 1]
        mag = Signal(8, name="elem_mag")
        eexp = Signal(signed(10), name="elem_exp")
        nan = Signal(name="nan")
        inf = Signal(name="inf")
        if eb == 0:  # INT8: c / 64
            m.d.comb += [mag.eq(Mux(s, -c.as_signed(), c.as_signed())[:8]), eexp.eq(-6)]
        else:
            ef, ff = c[mb:mb + eb], c[0:mb]
            emin = 1 - bias
            with m.If(ef == 0):
                m.d.comb += [mag.eq(ff), eexp.eq(emin - mb)]
            with m.Else():
                m.d.comb += [mag.eq(Cat(ff, Const(1, 1))), eexp.eq(ef - bias - mb)]
            top = (1 << eb) - 1
            if specials == "fn":
                m.d.comb += nan.eq((ef == top) & (ff == (1 << mb) - 1))
            elif specials == "ieee":
                m.d.comb += [nan.eq((ef == top) & (ff != 0)), inf.eq((ef == top) & (ff == 0))]
        exp = Signal(signed(10), name="exp")
        m.d.comb += exp.eq(eexp + self.scale - 127)
        scale_nan = self.scale == 0xFF
        sign, mag, exp, nan, inf = pipe.cut(m, "product", s, mag, exp, nan | scale_nan, inf)
        packed = pack_exact(m, sign, mag, exp, 8)
        out = Mux(nan, Const(QNAN32, 32), Mux(inf, Cat(Const(0, 23), Const(0xFF, 8), sign), packed))
        pipe.output(m, self.value, out)
        return m


def _f32_bits(v: float) -> int:
    return struct.unpack("<I", struct.pack("<f", v))[0]


class Nf4Dequantizer(_DequantBase):
    """bitsandbytes NF4/FP4 element: ``code``, float32 ``absmax`` -> RNE float32 ``value`` (module doc)."""

    def __init__(self, book: Sequence[float], pipeline: int = 0) -> None:
        if len(book) != 16:
            raise ParameterError(f"Nf4Dequantizer: the code book needs 16 values, got {len(book)}")
        self.book = tuple(float(v) for v in book)
        super().__init__({"code": In(unsigned(4)), "absmax": In(unsigned(32)), "value": Out(unsigned(32))}, pipeline)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        lut = Signal(32, name="book_bits")
        with m.Switch(self.code):
            for k, v in enumerate(self.book):
                with m.Case(k):
                    m.d.comb += lut.eq(_f32_bits(v))
        a, b = lut, self.absmax
        zero = (a[0:31] == 0) | (b[0:31] == 0)
        sign = a[31] ^ b[31]
        prod = Signal(48, name="prod")
        m.d.comb += prod.eq(Cat(a[0:23], Const(1, 1)) * Cat(b[0:23], Const(1, 1)))
        field = Signal(signed(11), name="field")
        m.d.comb += field.eq(a[23:31] + b[23:31] - 127)
        sign, prod, field, zero = pipe.cut(m, "product", sign, prod, field, zero)
        top = prod[47]
        norm = Mux(top, prod, prod << 1)[:48]  # leading one at bit 47
        keep, guard, sticky = norm[24:48], norm[23], norm[0:23].any()
        up = guard & (sticky | keep[0])
        rounded = Signal(25, name="rounded")
        m.d.comb += rounded.eq(keep + up)
        carry = rounded[24]
        exp_field = field + top + carry
        frac = Mux(carry, rounded[1:24], rounded[0:23])
        out = Mux(zero, Cat(Const(0, 31), sign), Cat(frac, exp_field[:8], sign))
        pipe.output(m, self.value, out)
        return m
