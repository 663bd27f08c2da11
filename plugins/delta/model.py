"""``delta``: 1-bit linear delta modulation with a fixed step.

The model (Jayant & Noll, *Digital Coding of Waveforms*, 1984, ch. 8 "Delta Modulation",
the linear DM of §8.2) with int16 input ``x[k]``, a fixed step ``D`` and the
reconstruction ``y[k]`` (int16, ``y[-1] = 0``)::

    b[k] = +1 if x[k] >= y[k-1] else -1        (sign of the prediction error, sgn(0) = +1)
    y[k] = sat16(y[k-1] + b[k] * D)             (sat16 clamps to [-32768, 32767])

The decoder output is ``y[k]``; the encoder computes the same ``y[k]`` to make its next
decision, so encoder and decoder track each other exactly.  All arithmetic is on integers.

Bitstream: one code per sample, ``1`` for ``b = +1`` (step up) and ``0`` for ``b = -1``.
:meth:`DeltaModulation.pack_codes` packs the codes of frames interleaved by channel eight to
a byte, the first code in the most significant bit (``bit_order="msb"``) or in the least
significant bit (``"lsb"``); a final partial byte is padded with zero bits.

Speed: the encoder is a sequential loop (each decision needs the previous reconstruction); it
runs per channel on Python integers, 3-6 M samples/s on the development machine
(``benchmarks/bench_dpcm_cvsd.py``).  The decoder is vectorized: a running sum, or the
clamp-add scan of :func:`~inwhale_hw.scan.clamp_add_frames` when the
reconstruction reaches a rail.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Param
from inwhale_hw.hardware import Golden, check_vector_options
from inwhale_hw.scan import clamp_add_frames

from inwhale_hw.codec import (
    BIT_ORDERS,
    SequentialCodec,
    as_frames,
    pack_bits,
    restore_shape,
    unpack_bits,
)

__all__ = ["DeltaModulation"]

INT16_MIN, INT16_MAX = -32768, 32767


def _encode_channel(xs: list[int], y: int, step: int) -> tuple[list[int], list[int], int]:
    """Linear DM of one channel from reconstruction ``y``: (codes, reconstruction, last y)."""
    codes: list[int] = []
    recon: list[int] = []
    for v in xs:
        if v >= y:
            y += step
            if y > INT16_MAX:
                y = INT16_MAX
            codes.append(1)
        else:
            y -= step
            if y < INT16_MIN:
                y = INT16_MIN
            codes.append(0)
        recon.append(y)
    return codes, recon, y


class DeltaModulation(SequentialCodec):
    """1-bit linear delta modulation (fixed step, int16 reconstruction saturated to the rails)."""

    name = "delta"
    summary = "1-bit linear delta modulation with a fixed step"
    kind = "audio"
    references = (
        "N. S. Jayant, P. Noll, Digital Coding of Waveforms, Prentice-Hall 1984, ch. 8 (linear DM, §8.2)",
    )
    params = (
        Param("step", 512, "step size D added to or taken from the int16 reconstruction", int, min=1, max=32767),
        Param("bit_order", "msb", "where pack_codes puts the first code of each byte", str, choices=BIT_ORDERS),
    )
    code_dtype = np.uint8
    code_range = (0, 1)
    blocks = ("encoder", "decoder")

    # -- hardware (inwhale_hw.hdl.delta: one-sample-per-clock stream blocks) -----------------------

    def datapath(self, block: str, **params: Any):
        from .hardware import datapath

        return datapath(self, block, **params)

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> dict[str, np.ndarray]:
        from .hardware import vectors

        check_vector_options(self.name, opts, ())
        return vectors(self, block)

    def reference(self, block: str, inputs: Any) -> Golden:
        from .hardware import golden

        return golden(self, block, inputs)

    @property
    def bits_per_sample(self) -> float:
        return 1.0

    def _start(self, channels: int) -> np.ndarray:
        return np.zeros(channels, dtype=np.int64)

    def _encode_chunk(self, frames: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes, _, state = self._encode_frames(frames, state)
        return codes, state

    def _encode_frames(self, frames: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        codes = np.empty(frames.shape, dtype=np.int64)
        recon = np.empty(frames.shape, dtype=np.int64)
        new_state = state.copy()
        for ch in range(frames.shape[1]):
            c, r, y = _encode_channel(frames[:, ch].tolist(), int(state[ch]), self.step)
            codes[:, ch], recon[:, ch], new_state[ch] = c, r, y
        return codes, recon, new_state

    def _decode_chunk(self, codes: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        steps = np.where(codes != 0, self.step, -self.step).astype(np.int64)
        y = clamp_add_frames(steps, state, INT16_MIN, INT16_MAX)
        return y, (y[-1].copy() if len(y) else state)

    def encode_with_reconstruction(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """One-shot encode returning ``(codes, y)``: the encoder's own int16 reconstruction."""
        arr = self._check_pcm(x)
        frames = as_frames(arr)
        codes, recon, _ = self._encode_frames(frames, self._start(frames.shape[1]))
        return restore_shape(codes, arr.ndim, self.code_dtype), restore_shape(recon, arr.ndim, np.int16)

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Codes of frames interleaved by channel, eight to a byte in ``bit_order``."""
        return pack_bits(np.asarray(codes), self.bit_order)

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        bits = unpack_bits(data, frames * channels, self.bit_order, self.name)
        return bits.reshape(frames, channels) if channels > 1 else bits
