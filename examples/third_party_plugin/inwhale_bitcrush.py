"""An example third-party plugin: a bit-crusher that keeps the top ``bits`` bits of int16 PCM.

Encoding maps a sample x to the code c = round(x / 2^(16-bits)) with the chosen rounding
mode, saturated to the signed ``bits``-bit range and stored offset-binary
(c + 2^(bits-1)) so codes are non-negative.  Decoding returns c · 2^(16-bits).

Hardware (the :class:`inwhale_hw.HardwareModel` protocol): blocks ``encoder`` and ``decoder``
are combinational Amaranth components (:class:`CrushEncoder`, :class:`CrushDecoder`).  Their
inputs are at most 16 bits wide, so ``inwhale-hw verify bitcrush --block encoder`` and
``inwhale_hw.testing.check_hardware`` try every input against ``encode`` / ``decode`` without
any ``vectors`` / ``reference`` of our own.

It is registered through the entry point ``[project.entry-points.inwhale_hw]`` in this
directory's pyproject.toml, exactly as any plugin published on PyPI would be.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw import Param, Quantizer, hookimpl
from inwhale_hw.errors import ParameterError


def _shift_round(x: np.ndarray, shift: int, rounding: str) -> np.ndarray:
    if shift == 0:
        return x
    if rounding == "floor":
        return x >> shift
    return (x + (1 << (shift - 1))) >> shift


class CrushEncoder(wiring.Component):
    """``code = clamp((pcm + bias) >> (16 - bits), -2^(bits-1), 2^(bits-1) - 1) + 2^(bits-1)``."""

    latency = 0

    def __init__(self, bits: int, rounding: str) -> None:
        self.bits, self.rounding = bits, rounding
        super().__init__({"pcm": In(signed(16)), "code": Out(unsigned(bits))})

    def elaborate(self, platform):
        m = Module()
        shift, half = 16 - self.bits, 1 << (self.bits - 1)
        bias = 1 << (shift - 1) if shift and self.rounding == "half_up" else 0
        wide = Signal(signed(18))
        m.d.comb += wide.eq((self.pcm + bias) >> shift)
        clipped = Mux(wide > half - 1, half - 1, Mux(wide < -half, -half, wide))
        m.d.comb += self.code.eq(clipped + half)
        return m


class CrushDecoder(wiring.Component):
    """``pcm = (code - 2^(bits-1)) << (16 - bits)``."""

    latency = 0

    def __init__(self, bits: int) -> None:
        self.bits = bits
        super().__init__({"code": In(unsigned(bits)), "pcm": Out(signed(16))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.pcm.eq((self.code - (1 << (self.bits - 1))) << (16 - self.bits))
        return m


class BitCrush(Quantizer):
    name = "bitcrush"
    summary = "Keep the top N bits of int16 PCM (example third-party plugin)"
    kind = "audio"
    references = ("inwhale_hw README, section 'Writing a plugin'",)
    params = (
        Param("bits", 8, "bits kept per sample", int, min=1, max=16),
        Param("rounding", "half_up", "how dropped bits round", str, choices=("floor", "half_up")),
    )
    code_dtype = np.uint16
    blocks = ("encoder", "decoder")

    @property
    def bits_per_sample(self) -> float:
        return float(self.bits)

    def encode(self, x):
        pcm = self._check_pcm(x).astype(np.int32)
        shift = 16 - self.bits
        half = 1 << (self.bits - 1)
        codes = np.clip(_shift_round(pcm, shift, self.rounding), -half, half - 1)
        return (codes + half).astype(np.uint16)

    def decode(self, codes):
        c = self._check_codes(codes, 0, (1 << self.bits) - 1).astype(np.int32)
        return ((c - (1 << (self.bits - 1))) << (16 - self.bits)).astype(np.int16)


    def datapath(self, block, **hw):
        if hw:
            raise ParameterError(f"bitcrush {block}: hardware option {sorted(hw)[0]!r} is not allowed; there are none")
        if block == "encoder":
            return CrushEncoder(self.bits, self.rounding)
        return CrushDecoder(self.bits)


@hookimpl
def register_quantizers(registry):
    registry.add(BitCrush, aliases=("crush",))
