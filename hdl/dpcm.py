"""Closed-loop DPCM encoder and decoder as Amaranth components, one sample per clock.

Bit-exact with :mod:`inwhale_hw.plugins.dpcm.model` for the configuration it is elaborated for (a
:class:`~inwhale_hw.plugins.dpcm.model.Design`: raw coefficients, levels, steps and multipliers,
and the rounding biases).  Per sample, with the history ``y[n-1..n-N]`` and the step ``D``
(unsigned, 8 fractional bits) in registers (Jayant & Noll 1984, ch. 6; Jayant 1973)::

    p   = (sum_i C_i * y[n-i] + predict_bias) >> F          every C_i * y a shift-add (CSD)
    r_k = (L_k * D + level_bias) >> 16                        all 2**bits levels in parallel
    k   = #{ j >= 1 : 2e > r_{j-1} + r_j, or = with r_{j-1} + r_j < 0 }      e = x - p
    y   = sat16(p + r_k)
    D'  = clamp((D * M[m(k)] + mult_bias) >> 8, step_min, step_max)   (adapt="jayant")

The count of satisfied midpoint comparisons is the model's nearest-level rule with its tie
break (ties go to the level of smaller magnitude: at a tie ``|r_{j-1}| <= |r_j|`` exactly
when ``r_{j-1} + r_j >= 0``); the comparisons are monotone because the levels are strictly
increasing, so the ladder of comparisons is a thermometer code and bit ``b`` of ``k`` is the
parity of its entries at multiples of ``2**b``.  Each comparison ``2e + [t < 0] > t`` is the
sign of one exact subtraction (``2e`` is even, so the tie bit is its LSB).  With a fixed step
the ``r_k`` and the midpoints are constants.  ``m(k)`` is the distance of the level from the
middle of the table: for the table index ``t = k + 2**(bits-1)`` it is ``t[:bits-1]`` when
``t``'s top bit is set and its complement otherwise.  Constant multiplications are
canonical-signed-digit shift-add trees (:mod:`.arith`); the encoder's ``L_k * D`` share one
tree per odd ``|L_k|``; ``D * M[m]`` and the decoder's ``L_k * D`` are shift-add rows over a
ROM of the constants.  The prediction and the ``r_k`` are sliced to their proven ranges;
otherwise all widths follow Amaranth's exact arithmetic and nothing wraps.

Cost on iCE40 (Yosys ``synth_ice40``, default parameters: order 1, 4-bit midrise, Jayant
step): encoder 1752 LUT4 / 42 FF / 1216 carry, decoder 852 / 38 / 360; with a fixed step
287 and 219 LUT4.  Jayant's step multiply (a 21 x 10 bit product) is about 350 LUT4 of each.

Ports (``amaranth.lib.stream``, valid/ready): the encoder takes ``i.payload`` (signed 16 PCM)
and gives ``o.payload``, the ``bits``-bit code (two's complement or offset binary as the
model's ``code_format``); the decoder takes codes and gives signed 16 PCM.  Both register
their output: a sample accepted in one cycle is offered on ``o`` from the next, one sample
per clock while ``o.ready`` holds (``i.ready = ~o.valid | o.ready``).  The state after the
sample on ``o`` is shown on ``history[0..N-1]`` (``y[n]``, ``y[n-1]``, ...) and, with the
Jayant step, ``step``.  The ``sync`` reset gives the model's initial state (history 0,
initial step); an element offered with ``load`` high is coded from ``load_history`` /
``load_step`` instead of the registers (``load_step`` must lie in [step_min, step_max], as
every step the model reaches).  One channel per block.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .arith import ProductBank, Stages, const_mul, greater, rom, select_product, signed_width

__all__ = ["DPCMEncoder", "DPCMDecoder"]

INT16_MIN, INT16_MAX = -32768, 32767
CODE_FORMATS = ("twos", "offset")


class _DPCMBlock(wiring.Component):
    """Configuration checks, ports and the state registers shared by both blocks."""

    block = ""

    def __init__(self, design: Any, code_format: str = "twos") -> None:
        self.design = _check_design(design, type(self).__name__)
        if code_format not in CODE_FORMATS:
            raise ParameterError(
                f"{type(self).__name__}: code_format={code_format!r} is not allowed; expected 'twos' or 'offset'"
            )
        self.code_format = code_format
        d = self.design
        self.bits = len(d.levels).bit_length() - 1
        self.order = len(d.coeffs)
        self.adaptive = d.multipliers is not None
        self.step_width = max(d.step, d.step_max if self.adaptive else 0).bit_length()
        pcm, code = signed(16), unsigned(self.bits)
        members = {
            "i": In(stream.Signature(pcm if self.block == "encoder" else code)),
            "o": Out(stream.Signature(code if self.block == "encoder" else pcm)),
            "load": In(1),
            "load_history": In(signed(16)).array(self.order),
            "history": Out(signed(16)).array(self.order),
        }
        if self.adaptive:
            members["load_step"] = In(unsigned(self.step_width))
            members["step"] = Out(unsigned(self.step_width))
        super().__init__(members)

    #: clock cycles from accepting a sample to offering its result on ``o``
    latency = 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bits={self.bits}, order={self.order}, adaptive={self.adaptive})"

    def _state(self, m: Module) -> tuple[list[Signal], list[Signal], Value, Signal | None]:
        """Registers, and the state the current element is coded from (registers or loaded)."""
        regs = [Signal(signed(16), name=f"hist{i}") for i in range(self.order)]
        hist = [Signal(signed(16), name=f"y{i + 1}") for i in range(self.order)]
        for i, reg in enumerate(regs):
            m.d.comb += [hist[i].eq(Mux(self.load, self.load_history[i], reg)), self.history[i].eq(reg)]
        step_reg = None
        step: Value = Const(self.design.step, unsigned(self.step_width))
        if self.adaptive:
            step_reg = Signal(unsigned(self.step_width), init=self.design.step, name="step_reg")
            step = Signal(unsigned(self.step_width), name="step_now")
            m.d.comb += [step.eq(Mux(self.load, self.load_step, step_reg)), self.step.eq(step_reg)]
        return regs, hist, step, step_reg

    def _predict(self, stages: Stages, hist: list[Value]) -> Signal:
        d = self.design
        acc: Value = Const(d.predict_bias, unsigned(max(d.predict_bias.bit_length(), 1)))
        for c, y in zip(d.coeffs, hist):
            acc = acc + const_mul(y, c)
        lo = d.predict_bias + sum(min(c * INT16_MIN, c * INT16_MAX) for c in d.coeffs)
        hi = d.predict_bias + sum(max(c * INT16_MIN, c * INT16_MAX) for c in d.coeffs)
        width = signed_width(lo >> d.coeff_shift, hi >> d.coeff_shift)
        return stages.one("prediction", (acc >> d.coeff_shift)[:width].as_signed())

    def _next_step(self, stages: Stages, step: Value, index: Value) -> Signal:
        d = self.design
        top, low = index[self.bits - 1], index[: self.bits - 1]
        distance = stages.one("distance", Mux(top, low, ~low))
        product = select_product(stages, step, d.multipliers, distance, "step_product", d.mult_bias)
        return stages.clamped("step_next", product >> d.mult_shift, d.step_min, d.step_max)

    def _level_width(self) -> int:
        """Bits of a signed value holding every ``r_k`` for steps in [step_min, step_max] (each
        ``r_k`` is monotone in the step, so its extremes are at the ends)."""
        d = self.design
        ends = [(lv * s + d.level_bias) >> d.level_shift for lv in d.levels for s in (d.step_min, d.step_max)]
        return signed_width(min(ends), max(ends))

    def _finish(self, m: Module, regs, hist, step_reg, step_next, y: Value, payload: Value) -> None:
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(payload), regs[0].eq(y)]
            m.d.sync += [regs[i + 1].eq(hist[i]) for i in range(self.order - 1)]
            if step_reg is not None:
                m.d.sync += step_reg.eq(step_next)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

    def _code(self, index: Value) -> Value:
        if self.code_format == "offset":
            return index
        return Cat(index[: self.bits - 1], ~index[self.bits - 1])

    def _index(self, code: Value) -> Value:
        return self._code(code)  # flipping the top bit is its own inverse


class DPCMEncoder(_DPCMBlock):
    """DPCM encoder: ``i`` signed 16 PCM -> ``o`` ``bits``-bit codes; state on ``history``/``step``."""

    block = "encoder"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        stages = Stages(m)
        d = self.design
        regs, hist, step, step_reg = self._state(m)
        p = self._predict(stages, hist)
        size = 1 << self.bits
        if self.adaptive:
            bank = ProductBank(stages, step, d.levels, "level_bank")
            width = self._level_width()
            r = list(stages("levels", **{
                f"r{k}": (bank.plus(lv, d.level_bias) >> d.level_shift)[:width].as_signed()
                for k, lv in enumerate(d.levels)
            }).values())
        else:
            r = [(lv * d.step + d.level_bias) >> d.level_shift for lv in d.levels]
        e = stages.one("residual", self.i.payload - p)
        above = [Const(1, 1)]
        if self.adaptive:  # a tie goes up when the midpoint is negative: 2e + sign(t) > t, one subtractor
            mids = stages("midpoints", **{f"mid{j}": r[j - 1] + r[j] for j in range(1, size)})
            above += [greater(Cat(t[-1], e).as_signed(), t) for t in mids.values()]
        else:
            e2 = e << 1
            above += [e2 >= t if t < 0 else e2 > t for t in (r[j - 1] + r[j] for j in range(1, size))]
        ladder = stages.one("ladder", Cat(*above))
        index = stages.one("index", _thermometer_to_binary(ladder, self.bits))
        level = Array(r)[index] if self.adaptive else rom(r)[index]
        y = stages.saturated("y", p + level, 16)
        step_next = self._next_step(stages, step, index) if self.adaptive else None
        self._finish(m, regs, hist, step_reg, step_next, y, self._code(index))
        return m


class DPCMDecoder(_DPCMBlock):
    """DPCM decoder: ``i`` ``bits``-bit codes -> ``o`` signed 16 PCM; state on ``history``/``step``."""

    block = "decoder"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        stages = Stages(m)
        d = self.design
        regs, hist, step, step_reg = self._state(m)
        p = self._predict(stages, hist)
        index = self._index(self.i.payload)
        if self.adaptive:
            product = select_product(stages, step, d.levels, index, "level_product", d.level_bias)
            level = (product >> d.level_shift)[: self._level_width()].as_signed()
        else:
            level = rom([(lv * d.step + d.level_bias) >> d.level_shift for lv in d.levels])[index]
        y = stages.saturated("y", p + level, 16)
        step_next = self._next_step(stages, step, index) if self.adaptive else None
        self._finish(m, regs, hist, step_reg, step_next, y, y)
        return m


def _thermometer_to_binary(ladder: Value, bits: int) -> Value:
    """``k`` from the monotone ladder ``ladder[j] = (j <= k)``: bit ``b`` of ``k`` is the parity
    of ``k >> b``, the XOR of ``ladder[m << b]`` over ``m >= 1``."""
    size = 1 << bits
    return Cat(*(Cat(*(ladder[m << b] for m in range(1, size >> b))).xor() for b in range(bits)))


def _check_design(design: Any, owner: str) -> Any:
    fields = ("coeffs", "coeff_shift", "levels", "level_shift", "step", "step_min", "step_max",
              "multipliers", "mult_shift", "predict_bias", "level_bias", "mult_bias")
    missing = [f for f in fields if not hasattr(design, f)]
    if missing:
        raise ParameterError(f"{owner}: design={design!r} is not allowed; it lacks {missing} (a dpcm Design)")
    size = len(design.levels)
    if size not in (4, 8, 16, 32, 64, 128, 256):
        raise ParameterError(f"{owner}: levels={design.levels!r} is not allowed; expected 2**bits levels, bits 2..8")
    if any(b <= a for a, b in zip(design.levels, design.levels[1:])):
        raise ParameterError(f"{owner}: levels={design.levels!r} is not allowed; expected strictly increasing")
    if not design.coeffs:
        raise ParameterError(f"{owner}: coeffs={design.coeffs!r} is not allowed; expected 1 or more")
    adaptive = design.multipliers is not None
    if adaptive and len(design.multipliers) != size // 2:
        raise ParameterError(
            f"{owner}: multipliers={design.multipliers!r} is not allowed; expected {size // 2} values"
        )
    low = design.step_min if adaptive else design.step
    if low < 1 or (adaptive and not design.step_min <= design.step <= design.step_max):
        raise ParameterError(
            f"{owner}: step={design.step!r} (step_min={design.step_min!r}, step_max={design.step_max!r}) "
            "is not allowed; expected 1 <= step_min <= step <= step_max"
        )
    gap = min(b - a for a, b in zip(design.levels, design.levels[1:]))
    if gap * low < 1 << design.level_shift:
        raise ParameterError(
            f"{owner}: step={design.step!r} is not allowed with these levels: two reconstruction levels "
            "would be less than 1 LSB apart"
        )
    return design
