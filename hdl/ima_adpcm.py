"""IMA-ADPCM encoder and decoder as Amaranth components, one sample per clock.

Bit-exact with :mod:`inwhale_hw.plugins.adpcm.stream` (the ``ima-adpcm`` plugin) and with
CPython 3.11's ``audioop.lin2adpcm`` / ``adpcm2lin`` including the state (IMA Digital Audio
Focus and Technical Working Groups, *Recommended Practices for Enhancing Digital Audio
Compatibility in Multimedia Systems*, rev. 3.00, 1992: the IMA ADPCM algorithm).  State: the
predictor ``p`` (signed 16) and the step index ``i`` (0..88); ``s = STEP[i]`` (15 bits, 7..32767)
and its shifts ``h = s >> 1``, ``q = s >> 2``, ``e = s >> 3``.

Encoder, per sample ``x`` (the standard's successive approximation; ``b2 b1 b0`` the magnitude)::

    d = x - p;  S = d < 0;  m = |d|
    b2 = m >= s;  m -= b2 s;  b1 = m >= h;  m -= b1 h;  b0 = m >= q;  m -= b0 q
    vpdiff = e + b2 s + b1 h + b0 q;  p' = sat16(p -+ vpdiff)        code = S b2 b1 b0

Datapath (332 iCE40 LUT4 with the ROM; a direct transcription of the lines above with the
same ROM, separate compares, ``|d|`` and an add/subtract pair, synthesizes to 475).  Every compare
shares its subtract: each stage is one 17-bit adder whose sign is the decision and whose sum
is the restored remainder.  ``|d|`` is never formed.  With ``S = x < p`` (a carry chain
only), the residual ``r`` is kept as ``m`` when ``S = 0`` and as ``~m = -m - 1`` when
``S = 1``; one adder per stage with conditional inversion then serves both signs::

    r0 = x + ~p + ~S                     (= d, or d - 1 = ~m)
    t  = r + (v ^ ~S) + ~S               (= r - v, or r + v = ~(m - v))   v = s, h, q
    b  = ~(sign(t) ^ S);  r = b ? t : r
    r4 = r3 + (e ^ ~S) + ~S;  p' = x + ~r4 + ~S                       (18 bits)

because ``p + vpdiff = x - m3 + e`` with ``m3`` the remainder after the three stages (and
its mirror for ``S = 1``).  ``p'`` is saturated to 16 bits on its three top bits.

Decoder (273 LUT4), per code ``S b2 b1 b0``: ``p' = sat16(p -+ A)`` with ``A = vpdiff`` as
above, or ffmpeg's ``((2 m + 1) s) >> 3`` for ``flavor="ffmpeg"`` (279 LUT4).  ``A`` is
accumulated in the sign's domain like the encoder's residual (``A``, or ``~A`` when
``S = 1``): one adder and a multiplexer per term, smallest term first, then
``p' = p + acc + S`` (for ffmpeg ``acc >> 3``: ``~X >> 3 = ~(X >> 3)``).

Both blocks update the index as ``i' = clamp(i + (b2 ? 2 (2 b1 + b0 + 1) : -1), 0, 88)``.
The step table is a 128-entry ROM in logic (about 140 LUT4 of each block); entries 89..127
repeat ``STEP[88]`` (an 89-case ROM with a default synthesizes to 214 LUT4 on its own, the
full 128-case one to 143).  Fmax (nextpnr-ice40, HX8K, registered I/O): encoder 29.7 MHz,
decoder 58 MHz -- the encoder's path runs the ROM and five carry chains in series.

Ports (``amaranth.lib.stream``, valid/ready): encoder ``i.payload`` signed 16 PCM ->
``o.payload`` 4-bit code; decoder the reverse.  Outputs are registered: a sample accepted
in one cycle is offered on ``o`` from the next, one sample per clock while ``o.ready`` holds
(``i.ready = ~o.valid | o.ready``).  ``predictor`` and ``index`` show the state after the
sample on ``o``.  The ``sync`` reset gives state (0, 0); an element offered with ``load``
high is coded from ``load_predictor`` / ``load_index`` instead of the registers (a WAV block
start; ``load_index`` must be at most 88: larger values are outside the model, the ROM reads
``STEP[88]`` for them).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

__all__ = ["ImaAdpcmEncoder", "ImaAdpcmDecoder", "FLAVORS", "MAX_INDEX", "check_steps"]

#: decoder reconstructions the datapath implements (see :class:`ImaAdpcmDecoder`)
FLAVORS = ("standard", "ffmpeg")
#: largest step index; the index update's clamp is wired for 0..88 (IMA's 89-entry table)
MAX_INDEX = 88


def check_steps(steps: Any, owner: str) -> tuple[int, ...]:
    """The step table as a tuple of 89 ints in [1, 32767], else ParameterError quoting it."""
    try:
        values = tuple(int(v) for v in steps)
        ok = len(values) == MAX_INDEX + 1 and all(1 <= v <= 32767 and v == w for v, w in zip(values, steps))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(
            f"{owner}: steps={steps!r} is not allowed; expected {MAX_INDEX + 1} integer step sizes in [1, 32767] "
            "(the IMA step table)"
        )
    return values


def _named(m: Module, value: Value, name: str) -> Signal:
    """``value`` as a named wire (computed once; each one costs the simulator a delta cycle)."""
    value = Value.cast(value)
    signal = Signal(value.shape(), name=name)
    m.d.comb += signal.eq(value)
    return signal


class _ImaBlock(wiring.Component):
    """Ports, state registers, step ROM and the shared index/predictor updates."""

    block = ""
    #: clock cycles from accepting a sample to offering its result on ``o``
    latency = 1

    def __init__(self, steps: Any) -> None:
        self.steps = check_steps(steps, type(self).__name__)
        #: the ROM covers every 7-bit index; the entries past MAX_INDEX repeat the last step
        self._rom = list(self.steps) + [self.steps[-1]] * (127 - MAX_INDEX)
        pcm, code = signed(16), unsigned(4)
        encoder = self.block == "encoder"
        super().__init__({
            "i": In(stream.Signature(pcm if encoder else code)),
            "o": Out(stream.Signature(code if encoder else pcm)),
            "load": In(1),
            "load_predictor": In(signed(16)),
            "load_index": In(unsigned(7)),
            "predictor": Out(signed(16)),
            "index": Out(unsigned(7)),
        })

    def _state(self, m: Module) -> tuple[Signal, Signal, Value, Value, Signal]:
        """Registers, the state this element is coded from, and its step size."""
        p_reg = Signal(signed(16), name="predictor_reg")
        i_reg = Signal(unsigned(7), name="index_reg")
        m.d.comb += [self.predictor.eq(p_reg), self.index.eq(i_reg)]
        p = Mux(self.load, self.load_predictor, p_reg)
        index = Mux(self.load, self.load_index, i_reg)
        step = Signal(unsigned(15), name="step")
        with m.Switch(index):
            for k, value in enumerate(self._rom):
                with m.Case(k):
                    m.d.comb += step.eq(value)
        return p_reg, i_reg, p, index, step

    @staticmethod
    def _next_index(m: Module, index: Value, b2: Value, b1: Value, b0: Value) -> Value:
        """``clamp(index + adjust, 0, 88)``; the sum lies in -1..96, so two bit tests clamp it."""
        up = Cat(Const(0, 1), Cat(b0, b1) + 1, Const(0, 1)).as_signed()  # 2, 4, 6, 8
        total = _named(m, index + Mux(b2, up, Const(-1, signed(2))), "index_sum")
        above = total[6] & (total[5] | (total[4] & total[3] & total[0:3].any()))  # 89..96
        return Mux(total[8], 0, Mux(above, MAX_INDEX, total[:7]))

    @staticmethod
    def _saturate(value: Value) -> Value:
        """An 18-bit signed value saturated to signed 16."""
        top = value[15:18]
        overflow = top.any() & ~top.all()
        return Mux(overflow, Mux(value[17], -32768, 32767), value[:16])

    def _finish(self, m, p_reg, i_reg, payload: Value, p_next: Value, i_next: Value) -> None:
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            # the order of these statements only fixes Yosys's cell order, yet ABC9 maps this
            # one in about 10 s to 332 LUT4 and the reverse in about 80 s to 336
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(payload), i_reg.eq(i_next), p_reg.eq(p_next)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ImaAdpcmEncoder(_ImaBlock):
    """IMA-ADPCM encoder: ``i`` signed 16 PCM -> ``o`` 4-bit codes; state on ``predictor``/``index``."""

    block = "encoder"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        p_reg, i_reg, p, index, step = self._state(m)
        x = self.i.payload
        negative = _named(m, x < p, "negative")
        keep = ~negative  # adding (v ^ keep) + keep subtracts v when S = 0, adds it when S = 1
        ones = keep.replicate(17)
        r = _named(m, (x + ~p + keep)[:17].as_signed(), "r0")
        bits = []
        for k in range(3):
            v = Cat(step[k:], Const(0, 2 + k))
            t = (r + (v ^ ones) + keep)[:17].as_signed()
            b = ~(t[16] ^ negative)
            bits.append(b)
            r = _named(m, Mux(b, t, r), f"r{k + 1}")
        r4 = _named(m, (r + (Cat(step[3:], Const(0, 5)) ^ ones) + keep)[:17].as_signed(), "r4")
        p_next = _named(m, (x + ~r4 + keep)[:18].as_signed(), "predictor_sum")
        b2, b1, b0 = bits
        code = Cat(b0, b1, b2, negative)
        i_next = self._next_index(m, index, b2, b1, b0)
        self._finish(m, p_reg, i_reg, code, self._saturate(p_next), i_next)
        return m


class ImaAdpcmDecoder(_ImaBlock):
    """IMA-ADPCM decoder: ``i`` 4-bit codes -> ``o`` signed 16 PCM; state on ``predictor``/``index``."""

    block = "decoder"

    def __new__(cls, steps: Any, flavor: str = "standard"):
        # validate before the object exists, so a rejected block is not reported unused
        if flavor not in FLAVORS:
            raise ParameterError(
                f"{cls.__name__}: flavor={flavor!r} is not allowed; expected one of "
                + ", ".join(repr(f) for f in FLAVORS)
            )
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, steps: Any, flavor: str = "standard") -> None:
        self.flavor = flavor
        super().__init__(steps)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        p_reg, i_reg, p, index, step = self._state(m)
        code = self.i.payload
        negative, b2, b1, b0 = code[3], code[2], code[1], code[0]
        # The magnitude is accumulated in the sign's domain (as in the encoder): A when S = 0,
        # ~A = -A - 1 when S = 1, one adder and a multiplexer per term, smallest term first.
        if self.flavor == "ffmpeg":  # A = (2 m + 1) s, reconstructed as p -+ (A >> 3)
            width, first = 20, step
            terms = ((step << 1, b0), (step << 2, b1), (step << 3, b2))
        else:  # A = vpdiff = e + b0 q + b1 h + b2 s
            width, first = 17, step >> 3
            terms = ((step >> 2, b0), (step >> 1, b1), (step, b2))
        ones = negative.replicate(width)
        acc = Cat(first, Const(0, width - len(first))) ^ ones
        for value, bit in terms:
            acc = Mux(bit, (acc + (Cat(value, Const(0, width - len(value))) ^ ones) + negative)[:width], acc)
        signed_diff = _named(m, acc.as_signed() >> (width - 17), "signed_vpdiff")  # +-vpdiff, -1 if S
        p_next = _named(m, (p + signed_diff + negative)[:18].as_signed(), "predictor_sum")
        p_sat = _named(m, self._saturate(p_next), "predictor_next")
        i_next = self._next_index(m, index, b2, b1, b0)
        self._finish(m, p_reg, i_reg, p_sat, p_sat, i_next)
        return m

    def __repr__(self) -> str:
        return f"{type(self).__name__}(flavor={self.flavor!r})"
