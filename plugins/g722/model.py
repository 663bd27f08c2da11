"""``g722``: ITU-T G.722 7 kHz sub-band ADPCM at 64, 56 and 48 kbit/s (16 kHz PCM).

Codes (:meth:`G722.encode`): one octet (uint8) per PAIR of 16 kHz samples, ``ih << 6 | il``
(bits 7-6: the 2-bit higher-band code, bits 5-0: the 6-bit lower-band code), as the STL's
``g722_encode`` and RTP/ffmpeg ``.g722`` streams carry them.  The encoder always produces the
64 kbit/s octet; at 56 and 48 kbit/s (``bitrate``) the decoder ignores the 1 or 2 least
significant lower-band bits (G.722 section 1.4.2: they carry the auxiliary data channel), so
the same codes decode at any rate.  Each channel is an independent stream from the reset state
(section 3.8).

Samples go in and come out as int16 at 16 kHz, two per code.  An odd final sample is coded
paired with one zero sample (so decoding gives one sample more than was encoded).  Streaming
objects carry the ADPCM and QMF state and a pending odd sample across chunks: any chunking gives
the bits of one call.  The loops (:mod:`.kernels`) are bit-exact with the ITU-T G.191 STL C code
(``g722_encode`` / ``g722_decode``) and its test vectors.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param
from inwhale_hw.codec import SequentialCodec
from inwhale_hw.quantizer import check_frames_channels

from . import kernels
from .tables import BITRATES, DECODER_MODES

__all__ = ["G722", "G722State"]


class G722State:
    """One channel's coder state: the kernel state vector and, for the encoder, a pending sample."""

    __slots__ = ("vector", "pending")

    def __init__(self) -> None:
        self.vector = kernels.reset_state()
        self.pending: int | None = None


class G722(SequentialCodec):
    name = "g722"
    summary = "ITU-T G.722 sub-band ADPCM, 16 kHz, 64/56/48 kbit/s (STL bit-exact), one octet per 2 samples"
    kind = "audio"
    references = (
        "ITU-T Rec. G.722 (09/2012): 7 kHz audio-coding within 64 kbit/s, sections 3 (encoder), "
        "4 and 6 (decoder, computational details)",
        "ITU-T Rec. G.191 Software Tool Library, src/g722 (g722.c, funcg722.c) and its test vectors",
    )
    params = (
        Param(
            "bitrate", 64000,
            "decoder mode: 64000 (6 lower-band bits), 56000 (5) or 48000 (4); the encoder always "
            "writes the full 64 kbit/s octet",
            int, choices=BITRATES,
        ),
    )
    code_dtype = np.uint8
    sample_dtype = np.int16
    code_range = (0, 255)
    #: decode(encode(x)) may hold more frames than x (the last group is padded; inwhale_hw.testing)
    pads_frames = True

    @property
    def bits_per_sample(self) -> float:
        return self.bitrate / 16000

    @property
    def required_rate(self) -> int | None:
        return 16000

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        """The ``ceil(frames / 2)`` codes per channel that ``frames`` samples were coded into."""
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        return super().unpack_codes(data, -(-frames // 2), channels)

    # -- the stream codec (SequentialCodec hooks) -------------------------------------------------

    def _start(self, channels: int) -> list[G722State]:
        return [G722State() for _ in range(channels)]

    def _encode_chunk(self, frames: np.ndarray, state: list[G722State]) -> tuple[np.ndarray, list[G722State]]:
        channels = frames.shape[1]
        pending = state[0].pending
        total = frames.shape[0] + (pending is not None)
        out = np.empty((total // 2, channels), dtype=np.uint8)
        for ch, st in enumerate(state):
            column = frames[:, ch]
            if st.pending is not None:
                column = np.concatenate([[st.pending], column])
            even = column.size - column.size % 2
            out[:, ch] = kernels.encode(np.ascontiguousarray(column[:even], dtype=np.int64), st.vector)
            st.pending = int(column[even]) if even < column.size else None
        return out, state

    def _finish_encode(self, state: list[G722State], channels: int) -> np.ndarray:
        if state[0].pending is None:
            return np.zeros((0, channels), dtype=np.int64)
        out = np.empty((1, channels), dtype=np.int64)
        for ch, st in enumerate(state):
            out[0, ch] = kernels.encode(np.array([st.pending, 0], dtype=np.int64), st.vector)[0]
            st.pending = None
        return out

    def _decode_chunk(self, codes: np.ndarray, state: list[G722State]) -> tuple[np.ndarray, list[G722State]]:
        mode = DECODER_MODES[self.bitrate]
        out = np.empty((2 * codes.shape[0], codes.shape[1]), dtype=np.int16)
        for ch, st in enumerate(state):
            out[:, ch] = kernels.decode(np.ascontiguousarray(codes[:, ch], dtype=np.uint8), st.vector, mode)
        return out, state
