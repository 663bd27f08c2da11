"""``oki-adpcm``: OKI / Dialogic VOX ADPCM, 12-bit samples, 4 bits per sample (24 kbit/s at 6 kHz,
32 kbit/s at 8 kHz).

Codes: one 4-bit code (uint8 0..15) per sample, each channel an independent stream from
(sample 0, step index 0).  :meth:`OkiAdpcm.pack_codes` packs them two per byte, the earlier in
the HIGH nibble: a raw ``.vox`` file (no header; its rate is stated by the user).  Samples in
and out are int16 (12-bit values shifted left by 4).  ``flavor`` picks the decoder's rail
behaviour (:mod:`.kernels`): ``standard`` (Dialogic, ffmpeg ``adpcm_ima_oki``) or
``libsndfile`` (libsndfile's and sox's VOX_ADPCM); the encoder tracks that decoder.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param
from inwhale_hw.codec import SequentialCodec
from inwhale_hw.errors import AudioFormatError
from inwhale_hw.quantizer import check_frames_channels

from . import kernels

__all__ = ["FLAVORS", "OkiAdpcm"]

FLAVORS = ("standard", "libsndfile")


class OkiAdpcm(SequentialCodec):
    name = "oki-adpcm"
    summary = "OKI / Dialogic VOX ADPCM: 12-bit samples, 4 bits/sample, raw .vox nibbles (high nibble first)"
    kind = "audio"
    references = (
        "Dialogic Corporation, Application Note 1366: Dialogic ADPCM Algorithm (1988)",
        "OKI Semiconductor MSM5205 / MSM6258 data sheets: 12-bit ADPCM with 49 step sizes",
    )
    params = (
        Param(
            "flavor", "standard",
            "decoder rail behaviour: 'standard' (Dialogic, ffmpeg adpcm_ima_oki: 12-bit state) or "
            "'libsndfile' (libsndfile and sox VOX_ADPCM: 16-bit state, positive rail 32767)",
            str, choices=FLAVORS,
        ),
    )
    code_dtype = np.uint8
    sample_dtype = np.int16
    code_range = (0, 15)
    blocks = ("decoder",)

    # -- hardware (inwhale_hw.hdl.oki_adpcm: one code per clock, state checked per sample)

    def datapath(self, block: str, **params):
        from .hardware import datapath

        return datapath(block, self.flavor, **params)

    def vectors(self, block: str, *, seed: int = 0, **opts):
        from inwhale_hw.hardware import check_vector_options

        from inwhale_hw.errors import ParameterError

        from .hardware import default_inputs

        if block != "decoder":
            raise ParameterError(f"oki-adpcm: block {block!r} is not allowed; expected 'decoder'")
        check_vector_options(self.name, opts, ())
        return default_inputs(self.flavor)

    def reference(self, block: str, inputs):
        from .hardware import golden

        return golden(inputs, self.flavor)

    @property
    def bits_per_sample(self) -> float:
        return 4.0

    def _start(self, channels: int) -> list[tuple[int, int]]:
        return [(0, 0)] * channels

    def _encode_chunk(self, frames: np.ndarray, state):
        fl = FLAVORS.index(self.flavor)
        out = np.empty(frames.shape, dtype=np.uint8)
        new = []
        for ch, (y, i) in enumerate(state):
            column = np.empty(frames.shape[0], dtype=np.uint8)
            new.append(tuple(int(v) for v in kernels.encode(np.ascontiguousarray(frames[:, ch]), y, i, fl, column)))
            out[:, ch] = column
        return out, new

    def _decode_chunk(self, codes: np.ndarray, state):
        fl = FLAVORS.index(self.flavor)
        out = np.empty(codes.shape, dtype=np.int16)
        new = []
        for ch, (y, i) in enumerate(state):
            column = np.empty(codes.shape[0], dtype=np.int64)
            new.append(tuple(int(v) for v in kernels.decode(np.ascontiguousarray(codes[:, ch], dtype=np.uint8), y, i, fl, column)))
            out[:, ch] = column
        return out, new

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Codes (channels interleaved) two per byte, earlier in the high nibble; an odd last code
        fills the high nibble of a final byte."""
        flat = self._check_codes(codes, 0, 15).astype(np.uint8).reshape(-1)
        if flat.size % 2:
            flat = np.concatenate([flat, np.zeros(1, dtype=np.uint8)])
        return ((flat[0::2] << 4) | flat[1::2]).astype(np.uint8).tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        count = frames * channels
        if len(data) < -(-count // 2):
            raise AudioFormatError(f"{self.name}: coded data holds {len(data)} bytes, {-(-count // 2)} needed for "
                                   f"{frames} frames x {channels} channels at 4 bits")
        raw = np.frombuffer(bytes(data[: -(-count // 2)]), dtype=np.uint8)
        codes = np.empty(2 * raw.size, dtype=np.uint8)
        codes[0::2], codes[1::2] = raw >> 4, raw & 15
        codes = codes[:count]
        return codes.reshape(frames, channels) if channels > 1 else codes
