"""OKI / Dialogic ADPCM decoder as an Amaranth component, one code per clock.

Bit-exact with :mod:`inwhale_hw.plugins.oki.kernels` (the ``oki-adpcm`` plugin; Dialogic
Application Note 1366).  State: the sample ``y`` and the step index ``i`` (0..48); per code
``S b2 b1 b0`` with ``q = STEPS[i]`` (11 bits)::

    A  = (q + b0 2q + b1 4q + b2 8q) >> 3          (= ((2 m + 1) q) >> 3, 15-bit sum)
    y' = clamp(y -+ (A << k), lo, hi)              i' = clamp(i + ADJ[m], 0, 48)

``flavor="standard"`` (Dialogic, ffmpeg): ``y`` signed 12, ``k = 0``, rails -2048/2047, output
``16 y``; ``flavor="libsndfile"`` (libsndfile, sox): ``y`` signed 16, ``k = 4``, rails
-32768/32767, output ``y``.

Ports (``amaranth.lib.stream``): ``i.payload`` 4-bit code -> ``o.payload`` signed 16 PCM,
registered (latency 1; ``i.ready = ~o.valid | o.ready``).  ``predictor`` (the state ``y``,
signed 16) and ``index`` show the state after the sample on ``o``; an element offered with
``load`` high is decoded from ``load_predictor`` / ``load_index`` (at most 48; the 64-entry ROM
repeats ``STEPS[48]`` above).  Reset state (0, 0).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

__all__ = ["OkiAdpcmDecoder", "FLAVORS", "MAX_INDEX"]

FLAVORS = ("standard", "libsndfile")
MAX_INDEX = 48
_ADJUST = (-1, -1, -1, -1, 2, 4, 6, 8)


class OkiAdpcmDecoder(wiring.Component):
    """OKI ADPCM decoder: ``i`` 4-bit codes -> ``o`` signed 16 PCM; state on ``predictor``/``index``."""

    block = "decoder"
    latency = 1

    def __new__(cls, steps: Any, flavor: str = "standard"):
        if flavor not in FLAVORS:
            raise ParameterError(
                f"{cls.__name__}: flavor={flavor!r} is not allowed; expected one of " + ", ".join(map(repr, FLAVORS))
            )
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, steps: Any, flavor: str = "standard") -> None:
        values = tuple(int(v) for v in steps)
        if len(values) != MAX_INDEX + 1 or not all(1 <= v <= 2047 for v in values):
            raise ParameterError(f"{type(self).__name__}: steps={steps!r} is not allowed; expected 49 step sizes in [1, 2047]")
        self.steps, self.flavor = values, flavor
        super().__init__({
            "i": In(stream.Signature(unsigned(4))),
            "o": Out(stream.Signature(signed(16))),
            "load": In(1),
            "load_predictor": In(signed(16)),
            "load_index": In(unsigned(6)),
            "predictor": Out(signed(16)),
            "index": Out(unsigned(6)),
        })

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        wide = self.flavor == "libsndfile"
        lo, hi, shift = (-32768, 32767, 4) if wide else (-2048, 2047, 0)
        y_reg = Signal(signed(16), name="y_reg")
        i_reg = Signal(unsigned(6), name="index_reg")
        m.d.comb += [self.predictor.eq(y_reg), self.index.eq(i_reg)]
        y = Mux(self.load, self.load_predictor, y_reg)
        index = Mux(self.load, self.load_index, i_reg)
        step = Signal(unsigned(11), name="step")
        with m.Switch(index):
            for k, value in enumerate(self.steps + (self.steps[-1],) * (63 - MAX_INDEX)):
                with m.Case(k):
                    m.d.comb += step.eq(value)
        code = self.i.payload
        negative, b2, b1, b0 = code[3], code[2], code[1], code[0]
        total = Signal(unsigned(15), name="scaled_step")
        m.d.comb += total.eq(step + Mux(b0, step << 1, 0) + Mux(b1, step << 2, 0) + Mux(b2, step << 3, 0))
        diff = Signal(unsigned(16), name="diff")
        m.d.comb += diff.eq((total >> 3) << shift)
        sum_ = Signal(signed(18), name="y_sum")
        m.d.comb += sum_.eq(Mux(negative, y - diff, y + diff))
        y_next = Signal(signed(16), name="y_next")
        m.d.comb += y_next.eq(Mux(sum_ < lo, lo, Mux(sum_ > hi, hi, sum_)))
        adjust = Signal(signed(5), name="index_adjust")
        with m.Switch(code[:3]):
            for k, value in enumerate(_ADJUST):
                with m.Case(k):
                    m.d.comb += adjust.eq(value)
        i_sum = Signal(signed(8), name="index_sum")
        m.d.comb += i_sum.eq(index + adjust)
        i_next = Mux(i_sum < 0, 0, Mux(i_sum > MAX_INDEX, MAX_INDEX, i_sum[:6]))
        out = Cat(Const(0, 4), y_next[:12]).as_signed() if not wide else y_next
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(out), y_reg.eq(y_next), i_reg.eq(i_next)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m

    def __repr__(self) -> str:
        return f"{type(self).__name__}(flavor={self.flavor!r})"
