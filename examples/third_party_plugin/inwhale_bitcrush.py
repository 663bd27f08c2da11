"""An example third-party plugin: a bit-crusher that keeps the top ``bits`` bits of int16 PCM.

Encoding maps a sample x to the code c = round(x / 2^(16-bits)) with the chosen rounding
mode, saturated to the signed ``bits``-bit range and stored offset-binary
(c + 2^(bits-1)) so codes are non-negative.  Decoding returns c · 2^(16-bits).

It is registered through the entry point ``[project.entry-points.inwhale_hw]`` in this
directory's pyproject.toml, exactly as any plugin published on PyPI would be.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param, Quantizer, hookimpl


def _shift_round(x: np.ndarray, shift: int, rounding: str) -> np.ndarray:
    if shift == 0:
        return x
    if rounding == "floor":
        return x >> shift
    return (x + (1 << (shift - 1))) >> shift


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


@hookimpl
def register_quantizers(registry):
    registry.add(BitCrush, aliases=("crush",))
