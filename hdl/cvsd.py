"""CVSD encoder and decoder (Bluetooth Core v5.x Vol 2 Part B §9.2) as Amaranth components.

One sample per clock at the codec's native rate (64 k samples/s in Bluetooth), bit-exact with
:mod:`inwhale_hw.plugins.cvsd.model` for ``input_rate=64000`` (the 8 kHz mode's polyphase resampler
has no datapath here).  The registers hold the model's state: ``xhat`` = x^(k) (signed,
``16 + frac_bits`` bits), ``delta`` = δ(k) (unsigned, as wide as ``step_max << frac_bits``),
and the bit history as the model summarises it: ``last_bit``, ``run`` (length of the run of
equal bits ending at the last one, saturated at J, 0 before the first bit) and ``age`` (bits
since the last run of J ended, saturated at K - J + 1).  Per sample (§9.2 equations, integers
scaled by ``2**frac_bits``, ``h = 1 - 2**-hs`` and ``β = 1 - 2**-bs`` exact)::

    b      = (x << f) < x^(k-1)                  encoder; 1 = negative (the spec's "-1 on air as 1")
    run'   = min(run + 1, J) if run > 0 and b == last_bit else 1
    age'   = 0 if run' >= J else min(age + 1, K - J + 1)
    α      = age' <= K - J
    δ(k)   = min(δ + δmin, δmax) if α else max(δ + ((β_bias - δ) >> bs), δmin)
    y(k)   = clamp(x^(k-1) -/+ δ(k), y_min, y_max)          (- when b = 1)
    x^(k)  = y(k) + ((h_bias - y(k)) >> hs)                  decoder output (x^(k) + o_bias) >> f

``v + ((c - v) >> s)`` is ``(v (2**s - 1) + c) >> s``, the model's rounded product by ``h`` or
``β``, with one subtractor and one adder instead of a multiplier.  The decoder output needs
no saturation: ``x^`` lies between 0 and ``y``, so the rounded value stays in
``[y_min, y_max]``.  The run/age counters give the model's α exactly (a run of J equal bits
ended within the last K - J + 1 bits) with ``ceil(log2(J + 1)) + ceil(log2(K - J + 2))`` flip-flops.
``x^ -/+ δ`` is one adder with ``δ`` conditionally inverted and the bit as carry in.  Cost on
iCE40 (Yosys ``synth_ice40``, Bluetooth parameters): encoder 357 LUT4 / 53 FF / 180 carry,
decoder 340 / 69 / 170.

Ports (``amaranth.lib.stream``): the encoder takes ``i.payload`` (signed 16 PCM) and gives the
bit on ``o.payload``; the decoder takes bits and gives signed 16 PCM.  The output is
registered (offered the cycle after the input is accepted, one sample per clock while
``o.ready`` holds); the state after the sample on ``o`` is on ``xhat``, ``delta``,
``last_bit``, ``run`` and ``age``.  The ``sync`` reset gives the model's initial state (x^ = 0,
δ = δmin, no bit history); an element offered with ``load`` high is coded from the
``load_*`` ports instead of the registers.  One channel per block.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .arith import Stages, add_or_subtract

__all__ = ["CVSDEncoder", "CVSDDecoder"]

_FIELDS = ("frac_bits", "j", "k_minus_j", "step_min", "step_max", "y_min", "y_max",
           "h_shift", "h_bias", "beta_shift", "beta_bias")


class _CVSDBlock(wiring.Component):
    """Parameter checks, ports, state registers and the shared §9.2 recursion."""

    block = ""

    def __init__(self, raw: Any, output_bias: int = 0) -> None:
        owner = type(self).__name__
        missing = [f for f in _FIELDS if not isinstance(getattr(raw, f, None), int)]
        if missing:
            raise ParameterError(f"{owner}: raw={raw!r} is not allowed; it lacks integer fields {missing}")
        if not 1 <= raw.j or raw.k_minus_j < 0:
            raise ParameterError(f"{owner}: J={raw.j}, K-J={raw.k_minus_j} are not allowed; expected 1 <= J <= K")
        if not 0 < raw.step_min <= raw.step_max:
            raise ParameterError(
                f"{owner}: step_min={raw.step_min}, step_max={raw.step_max} are not allowed; "
                "expected 0 < step_min <= step_max"
            )
        if not raw.y_min < 0 < raw.y_max:
            raise ParameterError(f"{owner}: y_min={raw.y_min}, y_max={raw.y_max} are not allowed; expected y_min < 0 < y_max")
        if not 0 <= output_bias < max(1 << raw.frac_bits, 1):
            raise ParameterError(f"{owner}: output_bias={output_bias!r} is not allowed; expected 0 <= bias < 2**frac_bits")
        self.raw, self.output_bias = raw, output_bias
        self.xhat_shape = signed(max(raw.y_max.bit_length(), (-raw.y_min - 1).bit_length()) + 1)
        self.delta_shape = unsigned(raw.step_max.bit_length())
        self.run_shape = unsigned(raw.j.bit_length())
        self.age_shape = unsigned((raw.k_minus_j + 1).bit_length())
        state = {"xhat": self.xhat_shape, "delta": self.delta_shape, "last_bit": unsigned(1),
                 "run": self.run_shape, "age": self.age_shape}
        members = {
            "i": In(stream.Signature(signed(16) if self.block == "encoder" else unsigned(1))),
            "o": Out(stream.Signature(unsigned(1) if self.block == "encoder" else signed(16))),
            "load": In(1),
            **{f"load_{name}": In(shape) for name, shape in state.items()},
            **{name: Out(shape) for name, shape in state.items()},
        }
        super().__init__(members)

    #: clock cycles from accepting a sample to offering its result on ``o``
    latency = 1

    def __repr__(self) -> str:
        r = self.raw
        return (f"{type(self).__name__}(J={r.j}, K={r.j + r.k_minus_j}, frac_bits={r.frac_bits}, "
                f"step={r.step_min}..{r.step_max}, hs={r.h_shift}, bs={r.beta_shift})")

    def _recursion(self, m: Module, bit_of) -> tuple[Signal, dict[str, Signal]]:
        """The state registers and their next values; ``bit_of(xhat)`` gives this sample's bit."""
        r = self.raw
        stages = Stages(m)
        init = {"xhat": 0, "delta": r.step_min, "last_bit": 0, "run": 0, "age": r.k_minus_j + 1}
        regs, now = {}, {}
        for name, value in init.items():
            port = getattr(self, name)
            regs[name] = Signal(port.shape(), init=value, name=f"{name}_reg")
            now[name] = Signal(port.shape(), name=f"{name}_now")
            m.d.comb += [now[name].eq(Mux(self.load, getattr(self, f"load_{name}"), regs[name])), port.eq(regs[name])]
        bit = stages.one("bit", bit_of(now["xhat"]))
        same = (now["run"] != 0) & (bit == now["last_bit"])
        run = stages.one("run_next", Mux(same, Mux(now["run"] >= r.j, r.j, now["run"] + 1), 1))
        age = stages.one("age_next", Mux(run >= r.j, 0, Mux(now["age"] > r.k_minus_j, now["age"], now["age"] + 1)))
        delta = now["delta"]
        grown = stages("step_candidates", grown=delta + r.step_min, decayed=delta + ((r.beta_bias - delta) >> r.beta_shift))
        delta_next = stages.one("delta_next", Mux(
            age <= r.k_minus_j,
            Mux(grown["grown"] > r.step_max, r.step_max, grown["grown"]),
            Mux(grown["decayed"] < r.step_min, r.step_min, grown["decayed"]),
        ))
        y = stages.clamped("y", add_or_subtract(now["xhat"], delta_next, bit), r.y_min, r.y_max)
        xhat_next = stages.one("xhat_next", (y + ((r.h_bias - y) >> r.h_shift))[: self.xhat_shape.width].as_signed())
        nxt = {"xhat": xhat_next, "delta": delta_next, "last_bit": bit, "run": run, "age": age}
        return bit, {name: (regs[name], nxt[name]) for name in init}

    def _stream(self, m: Module, state: dict[str, tuple[Signal, Signal]], payload) -> None:
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(payload)]
            m.d.sync += [reg.eq(value) for reg, value in state.values()]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)


class CVSDEncoder(_CVSDBlock):
    """CVSD encoder: ``i`` signed 16 PCM -> ``o`` one bit (1 = step down); state ports as above."""

    block = "encoder"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        bit, state = self._recursion(m, lambda xhat: (self.i.payload << self.raw.frac_bits) < xhat)
        self._stream(m, state, bit)
        return m


class CVSDDecoder(_CVSDBlock):
    """CVSD decoder: ``i`` one bit -> ``o`` signed 16 PCM, ``(x^(k) + output_bias) >> frac_bits``."""

    block = "decoder"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        _, state = self._recursion(m, lambda xhat: self.i.payload)
        _, xhat_next = state["xhat"]
        pcm = ((xhat_next + self.output_bias) >> self.raw.frac_bits)[:16].as_signed()
        self._stream(m, state, pcm)
        return m
