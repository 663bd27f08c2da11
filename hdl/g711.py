"""G.711 µ-law and A-law encoders and decoders as Amaranth components.

Each block is bit-exact with :mod:`inwhale_hw.plugins.g711.model` for the chosen ``flavor``
(``itu``, ``audioop``, ``libsndfile``; see :mod:`inwhale_hw.plugins.g711.tables` for the
math) and is combinational unless ``pipeline`` register stages are requested (latency =
``pipeline`` cycles, one sample per cycle; see :mod:`inwhale_hw.hdl.pipeline`).

Ports: encoders ``pcm`` (``signed(16)``, in) -> ``code`` (``unsigned(8)``, out); decoders
``code`` (``unsigned(8)``, in) -> ``pcm`` (``signed(16)``, out).

µ-law encoder (ITU-T G.711 (11/88) Tables 2a/2b; G.191 STL ``ulaw_compress``)
    With ``s = pcm[15]``, the 13-bit ones'-complement magnitude ``m = pcm[2:15] ^ s`` is
    ``x >> 2`` or ``~x >> 2``.  One 14-bit adder forms the biased magnitude
    ``a = m + 33 + c``, where the carry ``c`` is the only difference between flavors:
    ``itu`` 0, ``audioop`` ``s`` (``-(x >> 2)`` = ``~x >> 2`` + 1) and ``libsndfile``
    ``s & (pcm[0:2] == 0)`` (``-x >> 2``).  ``a`` lies in 33..8225; every ``a >= 8192``
    (bit 13 set) encodes like the clip value 8191, so bit 13 alone saturates the code to
    segment 7, mantissa 15 and no clip comparator is needed.  Otherwise the segment is the
    position of the leading one of ``a[5:13]`` minus 5 and the mantissa the four bits below
    it, found by a three-step binary normalisation of ``a[1:13]`` (shift by 4, 2, 1 when the
    upper half is zero; the shift flags, inverted, are the segment bits).  Code:
    ``~(s << 7 | seg << 4 | mant)``.
A-law encoder (Tables 1a/1b; STL ``alaw_compress``)
    The 11-bit magnitude ``m = pcm[4:15] ^ s`` (``itu`` and ``audioop`` alike); ``libsndfile``
    adds ``s & (pcm[0:4] == 0)`` (``-x >> 4``), reaching 2048 only for -32768, which bit 11
    saturates.  Segment ``seg = bit_length(m >> 4)``; the same normalisation on ``m`` gives
    it, and the mantissa is the four bits below the leading one, or ``m[0:4]`` in segment 0.
    Code: ``(p << 7 | seg << 4 | mant) ^ 0x55`` with ``p = ~s``.
µ-law decoder (STL ``ulaw_expand``)
    ``u = ~code``; ``T = (2 mant + 33) << seg`` (at most 8064); the 14-bit result
    ``±(T - 33)`` comes from one adder, ``(T ^ s) + (s ? 34 : -33)``; ``pcm`` is it times 4.
A-law decoder (STL ``alaw_expand``)
    ``v = code ^ 0x55``, ``p = v[7]``; ``T = (2 mant + 1)`` in segment 0 and
    ``(2 mant + 33) << (seg - 1)`` above (at most 4032); ``pcm = ±T * 8``, the negation
    one 13-bit adder ``(T ^ ~p) + ~p``.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .pipeline import Pipeline, check_depth

__all__ = [
    "FLAVORS",
    "MuLawEncoder",
    "MuLawDecoder",
    "ALawEncoder",
    "ALawDecoder",
]

FLAVORS = ("itu", "audioop", "libsndfile")


class _G711Block(wiring.Component):
    """Flavor and pipeline handling shared by the four blocks."""

    law = ""
    block = ""
    #: cut points offered to :class:`~inwhale_hw.hdl.pipeline.Pipeline`, preferred first
    cuts: tuple[str, ...] = ()

    def __new__(cls, flavor: str = "itu", pipeline: int = 0):
        # validate before the object exists, so a rejected block is not reported unused
        if flavor not in FLAVORS:
            raise ParameterError(
                f"{cls.__name__}: flavor={flavor!r} is not allowed; expected one of "
                + ", ".join(repr(f) for f in FLAVORS)
            )
        check_depth(pipeline, cls.__name__)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, flavor: str = "itu", pipeline: int = 0) -> None:
        self.flavor, self.pipeline = flavor, pipeline
        if self.block == "encoder":
            super().__init__({"pcm": In(signed(16)), "code": Out(unsigned(8))})
        else:
            super().__init__({"code": In(unsigned(8)), "pcm": Out(signed(16))})

    @property
    def latency(self) -> int:
        """Clock cycles from an input to its output (0: combinational)."""
        return self.pipeline

    def __repr__(self) -> str:
        return f"{type(self).__name__}(flavor={self.flavor!r}, pipeline={self.pipeline})"


def _normalize(value: Value, width: int) -> tuple[Value, Value]:
    """Binary leading-one normalisation of ``value[:width]`` over its top 8 positions.

    Returns ``(seg, shifted)``: ``seg`` (3 bits) is the position of the leading one minus
    ``width - 8`` (0 when it is at or below that position) and ``shifted`` is ``value``
    shifted left by ``7 - seg``, so the leading one sits at bit ``width - 1``.
    """
    v0 = value[:width]
    s2 = v0[width - 4 : width].any()
    v1 = Mux(s2, v0, v0 << 4)[:width]
    s1 = v1[width - 2 : width].any()
    v2 = Mux(s1, v1, v1 << 2)[:width]
    s0 = v2[width - 1]
    v3 = Mux(s0, v2, v2 << 1)[:width]
    return Cat(s0, s1, s2), v3


class MuLawEncoder(_G711Block):
    """G.711 µ-law encoder: ``pcm`` (signed 16) -> ``code`` (8 bits)."""

    law, block, cuts = "mulaw", "encoder", ("biased",)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        sign = self.pcm[15]
        magnitude = Mux(sign, ~self.pcm[2:15], self.pcm[2:15])
        if self.flavor == "itu":
            carry = Const(0, 1)
        elif self.flavor == "audioop":
            carry = sign
        else:
            carry = sign & ~self.pcm[0:2].any()
        biased = (magnitude + Cat(~carry, carry, Const(0b1000, 4)))[:14]  # m + 33 + carry
        biased, sign = pipe.cut(m, "biased", biased, sign)
        seg, shifted = _normalize(biased[1:13], 12)
        saturate = biased[13]
        seg = Mux(saturate, 7, seg)
        mant = Mux(saturate, 15, shifted[7:11])
        pipe.output(m, self.code, Cat(~Cat(mant[:4], seg[:3]), ~sign))
        return m


class ALawEncoder(_G711Block):
    """G.711 A-law encoder: ``pcm`` (signed 16) -> ``code`` (8 bits)."""

    law, block, cuts = "alaw", "encoder", ("magnitude",)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        sign = self.pcm[15]
        magnitude = Mux(sign, ~self.pcm[4:15], self.pcm[4:15])
        if self.flavor == "libsndfile":
            magnitude = (magnitude + (sign & ~self.pcm[0:4].any()))[:12]
        else:
            magnitude = Cat(magnitude, Const(0, 1))
        magnitude, sign = pipe.cut(m, "magnitude", magnitude, sign)
        seg, shifted = _normalize(magnitude, 11)
        saturate = magnitude[11]
        seg = Mux(saturate, 7, seg)
        mant = Mux(saturate, 15, Mux(seg == 0, shifted[7:11], shifted[6:10]))
        pipe.output(m, self.code, Cat(Cat(mant[:4], seg[:3]) ^ 0x55, ~sign))
        return m


class MuLawDecoder(_G711Block):
    """G.711 µ-law decoder: ``code`` (8 bits) -> ``pcm`` (signed 16)."""

    law, block, cuts = "mulaw", "decoder", ("shifted",)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        u = ~self.code
        sign, seg, mant = u[7], u[4:7], u[0:4]
        level = (Cat(Const(1, 1), mant, Const(1, 1)) << seg)[:13]  # (2 mant + 33) << seg
        level, sign = pipe.cut(m, "shifted", level, sign)
        offset = Mux(sign, Const(34, signed(14)), Const(-33, signed(14)))
        value = (Mux(sign, ~Cat(level, Const(0, 1)), level) + offset)[:14]  # ±(T - 33)
        pipe.output(m, self.pcm, Cat(Const(0, 2), value).as_signed())
        return m


class ALawDecoder(_G711Block):
    """G.711 A-law decoder: ``code`` (8 bits) -> ``pcm`` (signed 16)."""

    law, block, cuts = "alaw", "decoder", ("shifted",)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        v = self.code ^ 0x55
        negative, seg, mant = ~v[7], v[4:7], v[0:4]
        linear = seg != 0
        level = (Cat(Const(1, 1), mant, linear) << Mux(linear, (seg - 1)[:3], 0))[:12]
        level, negative = pipe.cut(m, "shifted", level, negative)
        value = (Mux(negative, ~Cat(level, Const(0, 1)), level) + negative)[:13]  # ±T
        pipe.output(m, self.pcm, Cat(Const(0, 3), value).as_signed())
        return m
