"""``g726``: G.726 ADPCM as an audio codec of the registry (linear 16-bit PCM in and out).

Codes: one 2-5 bit code (uint8) per sample, each channel an independent G.726 stream from
the reset state (:mod:`.codec`; ``flavor`` picks the standard, libsndfile's or ffmpeg's
coder).  ``.iwc`` packing: frames (channels interleaved) in the RFC 3551 little-endian bit
order.  WAV: format tag 0x0045 as ffmpeg's ``adpcm_g726`` reads and writes it (AAL2
big-endian packing, ``wBitsPerSample`` = bits per code; ffmpeg takes mono only, more channels
are interleaved by frame); reading takes the rate from the file.  G.726 is defined at 8 kHz, so front ends resample other inputs to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Param
from inwhale_hw.codec import SequentialCodec
from inwhale_hw.errors import AudioFormatError, ParameterError
from inwhale_hw.quantizer import check_frames_channels

from . import sun
from .codec import FLAVORS, G726Decoder, G726Encoder, bits_for_rate, pack, unpack
from .tables import RATES

__all__ = ["G726"]

WAV_TAG = 0x0045


class G726(SequentialCodec):
    name = "g726"
    summary = "ITU-T G.726 ADPCM, 16/24/32/40 kbit/s (STL-exact; libsndfile and ffmpeg flavors), WAV 0x0045"
    kind = "audio"
    references = (
        "ITU-T G.726 (12/90): 40, 32, 24, 16 kbit/s ADPCM, section 4.2 and Appendix II test sequences",
        "ITU-T G.191 STL g726.c (the bit-exact reference the tests compile)",
        "RFC 3551 section 4.5.4 (G726-xx packing); ITU-T I.366.2 (AAL2 packing)",
    )
    params = (
        Param("rate", 32, "bit rate in kbit/s (2, 3, 4 or 5 bits per code)", int, choices=tuple(sorted(RATES))),
        Param("flavor", "standard", "coder: 'standard' (ITU-T STL), 'libsndfile' (24/32/40) or 'ffmpeg'", str, choices=FLAVORS),
    )
    code_dtype = np.uint8
    sample_dtype = np.int16
    wav_format_tag = WAV_TAG

    def _check_params(self) -> None:
        if self.flavor == "libsndfile" and self.rate not in sun.SUN_RATES:
            raise ParameterError(f"g726: flavor 'libsndfile' codes at {sorted(sun.SUN_RATES)} kbit/s, not {self.rate}")
        self.code_range = (0, (1 << bits_for_rate(self.rate)) - 1)

    @property
    def bits_per_sample(self) -> float:
        return float(bits_for_rate(self.rate))

    @property
    def required_rate(self) -> int:
        return 8000

    def _start(self, channels: int) -> list[Any]:
        return [None] * channels

    def _encode_chunk(self, frames: np.ndarray, state: list[Any]) -> tuple[np.ndarray, list[Any]]:
        coders = [c or G726Encoder(self.rate, "linear", self.flavor) for c in state]
        out = np.empty(frames.shape, dtype=np.uint8)
        for ch, coder in enumerate(coders):
            out[:, ch] = coder.encode(frames[:, ch])
        return out, coders

    def _decode_chunk(self, codes: np.ndarray, state: list[Any]) -> tuple[np.ndarray, list[Any]]:
        coders = [c or G726Decoder(self.rate, "linear", self.flavor) for c in state]
        out = np.empty(codes.shape, dtype=np.int16)
        for ch, coder in enumerate(coders):
            out[:, ch] = coder.decode(codes[:, ch])
        return out, coders

    def pack_codes(self, codes: np.ndarray) -> bytes:
        lo, hi = self.code_range
        return pack(self._check_codes(codes, lo, hi).reshape(-1), self.rate, "le")

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        codes = unpack(bytes(data), self.rate, "le", frames * channels)
        return codes.reshape(frames, channels) if channels > 1 else codes

    def wav_encode(self, pcm: np.ndarray, rate: int):
        """ffmpeg's WAV form: big-endian packing, 8 frames per ``bits * channels``-byte block.

        ffmpeg reads mono only; more channels are written with the codes interleaved by frame
        (as :meth:`pack_codes` orders them), which :meth:`wav_decode` reads back.
        """
        from inwhale_hw.audio.wav import WavPayload

        pcm = self._check_pcm(pcm)
        channels = 1 if pcm.ndim == 1 else pcm.shape[1]
        bits = bits_for_rate(self.rate)
        codes = self.encode(pcm)
        return WavPayload(pack(codes.reshape(-1), self.rate, "be"), len(pcm), bits * channels, bits, b"", 8)

    def wav_decode(self, fmt, data: bytes, frames: int | None) -> np.ndarray:
        """Decode a tag-0x0045 data chunk at the file's rate (``wBitsPerSample``) with ``flavor``."""
        bits, channels = fmt.bits_per_sample, fmt.channels
        if channels < 1 or bits not in RATES.values():
            raise AudioFormatError(f"g726 WAV: {channels} channels at {bits} bits per code; 2-5 bits allowed")
        rate = bits * 8
        codes = unpack(bytes(data), rate, "be")
        codes = codes[: codes.size - codes.size % channels].reshape(-1, channels)
        if frames is not None:
            codes = codes[:frames]
        out = np.stack([G726Decoder(rate, "linear", self.flavor).decode(codes[:, ch]) for ch in range(channels)], axis=1)
        return out[:, 0] if channels == 1 else out
