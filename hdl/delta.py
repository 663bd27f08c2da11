"""Linear delta modulation encoder and decoder as Amaranth components, one sample per clock.

Bit-exact with :mod:`inwhale_hw.plugins.delta.model` (Jayant & Noll 1984, §8.2), a fixed step ``D``
and the int16 reconstruction ``y`` in a register (``y[-1] = 0``)::

    b    = x >= y                    encoder (1 = step up); the decoder takes b from its input
    y'   = sat16(y + D) if b else sat16(y - D)

One 17-bit adder with conditional inversion and a saturating multiplexer: 56 LUT4 (encoder)
and 48 LUT4 (decoder) on iCE40 for the default step.  Ports (``amaranth.lib.stream``):
the encoder takes ``i.payload`` (signed 16 PCM) and gives the bit on ``o.payload``, the
decoder takes bits and gives ``y`` (signed 16).  The output is registered (offered the cycle
after the input is accepted, one sample per clock while ``o.ready`` holds); the state after
the sample on ``o`` is on ``y``.  The ``sync`` reset gives ``y = 0``; an element offered with
``load`` high starts from ``load_y`` instead of the register.  One channel per block.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .arith import Stages, add_or_subtract

__all__ = ["DeltaEncoder", "DeltaDecoder"]

INT16_MAX = 32767


class _DeltaBlock(wiring.Component):
    block = ""

    def __init__(self, step: int) -> None:
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= INT16_MAX:
            raise ParameterError(f"{type(self).__name__}: step={step!r} is not allowed; expected an int in [1, 32767]")
        self.step = step
        pcm, bit = signed(16), unsigned(1)
        super().__init__({
            "i": In(stream.Signature(pcm if self.block == "encoder" else bit)),
            "o": Out(stream.Signature(bit if self.block == "encoder" else pcm)),
            "load": In(1),
            "load_y": In(pcm),
            "y": Out(pcm),
        })

    #: clock cycles from accepting a sample to offering its result on ``o``
    latency = 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step={self.step})"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        stages = Stages(m)
        reg = Signal(signed(16), name="y_reg")
        y = Signal(signed(16), name="y_now")
        m.d.comb += [y.eq(Mux(self.load, self.load_y, reg)), self.y.eq(reg)]
        up = stages.one("up", self.i.payload >= y if self.block == "encoder" else self.i.payload)
        y_next = stages.saturated("y_next", add_or_subtract(y, Const(self.step, unsigned(15)), ~up), 16)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), reg.eq(y_next)]
            m.d.sync += self.o.payload.eq(up if self.block == "encoder" else y_next)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m


class DeltaEncoder(_DeltaBlock):
    """Delta modulation encoder: ``i`` signed 16 PCM -> ``o`` one bit (1 = step up)."""

    block = "encoder"


class DeltaDecoder(_DeltaBlock):
    """Delta modulation decoder: ``i`` one bit -> ``o`` the reconstruction ``y`` (signed 16)."""

    block = "decoder"
