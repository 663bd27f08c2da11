"""Linear delta modulation encoder and decoder as Amaranth components, one sample per clock.

Bit-exact with :mod:`inwhale_hw.plugins.delta` (Jayant & Noll 1984, §8.2), a fixed step ``D``
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

from typing import Any, Mapping

import numpy as np
from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .arith import Stages, add_or_subtract
from .codec_vectors import INT16_MAX, INT16_MIN, append_codes, bundled, edge_pcm, half_period, load_points, stepwise

__all__ = ["DeltaEncoder", "DeltaDecoder", "datapath", "vectors", "reference"]


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


def datapath(quantizer: Any, block: str, **params: Any) -> _DeltaBlock:
    """The component for a :class:`~inwhale_hw.plugins.delta.DeltaModulation`'s ``block``."""
    cls = {"encoder": DeltaEncoder, "decoder": DeltaDecoder}.get(block)
    if cls is None:
        raise ParameterError(f"delta: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if params:
        raise ParameterError(
            f"delta {block}: hardware parameter {sorted(params)[0]!r} is not allowed; the datapath has no "
            "hardware-only options"
        )
    return cls(quantizer.step)


RATE = 8000


def vectors(quantizer: Any, block: str, speech_seconds: float = 1.0, music_seconds: float = 0.25,
            edge_length: int = 512) -> dict[str, np.ndarray]:
    """Speech and music at 8 kHz (1 s and 0.25 s by default), :func:`edge_pcm` with a square
    wave long enough for the step to cross the int16 range; for the decoder those signals'
    bits, then ``4 * edge_length`` seeded random bits and runs of ones and of zeros as long as
    the square wave's half-period.  A state load at each segment start (0, -12345, the
    positive rail, and the negative rail before the decoder's extra bits)."""
    hp = half_period(quantizer.step)
    segments = (bundled("speech", RATE, speech_seconds), bundled("music", RATE, music_seconds),
                edge_pcm(hp, edge_length))
    pcm = np.concatenate(segments)
    ports = {"i": pcm, "load": np.zeros(len(pcm), dtype=np.int64), "load_y": np.zeros(len(pcm), dtype=np.int64)}
    for start, y in zip(load_points(*segments), (0, -12345, INT16_MAX)):
        ports["load"][start], ports["load_y"][start] = 1, y
    if block == "encoder":
        return ports
    extra = np.concatenate([np.random.default_rng(17).integers(0, 2, 4 * edge_length),
                            np.ones(hp, dtype=np.int64), np.zeros(hp, dtype=np.int64)])
    ports = append_codes(ports, reference(quantizer, "encoder", ports)["o"], extra)
    ports["load"][len(pcm)], ports["load_y"][len(pcm)] = 1, INT16_MIN
    return ports


def reference(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model's outputs and ``y`` after every sample (its chunk functions, one sample at a
    time, loads applied)."""
    loads = {int(n): np.array([int(inputs["load_y"][n])], dtype=np.int64)
             for n in np.flatnonzero(np.asarray(inputs["load"]))}
    direction = "encode" if block == "encoder" else "decode"
    return stepwise(quantizer, direction, np.asarray(inputs["i"]), loads, lambda state: {"y": int(state[0])})
