"""``ms-adpcm``: Microsoft ADPCM (WAV format 0x0002), 4 bits per sample in blocks.

The codec exists only as WAV blocks (:mod:`.wav`): each block restarts the decoder from exact
header samples, a predictor pair and a step.  :meth:`MsAdpcm.encode` therefore returns the
WAV data-chunk bytes (uint8) for the ``block_size`` layout and :meth:`MsAdpcm.decode` decodes
them (mono: ``block_size`` set or libsndfile's default for 8 kHz; the WAV path passes the real
rate).  The encoder chooses, per block and channel, the predictor pair and initial step of
least squared error, coding each sample with the code nearest the input.
"""

from __future__ import annotations


import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import AudioFormatError, InputError
from inwhale_hw.quantizer import check_frames_channels

from .tables import COEFS, FLAVORS, FORMAT_TAG
from .wav import METHODS, decode_payload, encode_payload, fmt_extension, parse_extension, samples_per_block

__all__ = ["MsAdpcm", "MsAdpcmDecoderStream", "MsAdpcmEncoderStream", "default_block_align"]


def default_block_align(rate: int, channels: int) -> int:
    """libsndfile's choice (``wavlike_srate2blocksize`` of rate x channels): 256, 512, 1024 or 2048
    bytes below 12000, 23000, 44000 and otherwise (checked against files soundfile writes)."""
    product = rate * channels
    return 256 if product < 12000 else 512 if product < 23000 else 1024 if product < 44000 else 2048


class MsAdpcm(Quantizer):
    name = "ms-adpcm"
    summary = "Microsoft ADPCM, WAV format 0x0002: 4 bits/sample in blocks, seven predictor pairs"
    kind = "audio"
    references = (
        "Microsoft, Multimedia Standards Update rev 3.0 (1994): WAVE_FORMAT_ADPCM (0x0002), "
        "ADPCMWAVEFORMAT, block layout and the decoder",
    )
    params = (
        Param(
            "method", "search",
            "how blocks are coded: 'search' (least-error predictor pair and step, then a beam "
            "search over codes) or 'libsndfile' (byte-identical to libsndfile's writer)",
            str, choices=METHODS,
        ),
        Param(
            "trellis_nodes", 16,
            "survivors per sample of the 'search' beam (1: nearest-code coding only)",
            int, min=1, max=256,
        ),
        Param(
            "block_size", None,
            "WAV nBlockAlign in bytes (None: libsndfile's choice, 256/512/1024/2048 by rate x channels)",
            int, min=16, max=65535, allow_none=True,
        ),
        Param(
            "flavor", "standard",
            "decoder prediction: 'standard' (floor; Microsoft, libsndfile, sox) or 'ffmpeg' "
            "(truncation toward zero, standard coefficient table); the encoder targets it too",
            str, choices=FLAVORS,
        ),
    )
    code_dtype = np.uint8
    sample_dtype = np.int16
    wav_format_tag = FORMAT_TAG
    stateful = True
    #: decode(encode(x)) may hold more frames than x (the last group is padded; inwhale_hw.testing)
    pads_frames = True

    @property
    def bits_per_sample(self) -> float:
        return 4.0

    def _block_align(self, rate: int, channels: int) -> int:
        return default_block_align(rate, channels) if self.block_size is None else self.block_size

    def encode(self, x) -> np.ndarray:
        """int16 ``(n,)`` or ``(n, channels)`` -> the data-chunk bytes (uint8; blocks sized for 8 kHz
        unless ``block_size``), shaped ``(bytes / channels, channels)`` for several channels (a
        block is a whole number of bytes per channel), so :meth:`decode` knows the channel count."""
        pcm = self._check_pcm(x)
        frames = pcm.reshape(-1, 1) if pcm.ndim == 1 else pcm
        data, _ = encode_payload(frames, self._block_align(8000, frames.shape[1]), self.flavor, self.method, self.trellis_nodes)
        out = np.frombuffer(data, dtype=np.uint8).copy()
        return out if pcm.ndim == 1 else out.reshape(-1, frames.shape[1])

    def decode(self, codes) -> np.ndarray:
        """Inverse of :meth:`encode`: int16 samples, every frame the blocks hold."""
        codes = self._check_codes(codes, 0, 255)
        channels = 1 if codes.ndim == 1 else codes.shape[1]
        pcm = decode_payload(codes.astype(np.uint8).tobytes(), channels, self._block_align(8000, channels), COEFS,
                             self.flavor, None)
        return pcm[:, 0] if codes.ndim == 1 else pcm

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        """The bytes of the whole 8 kHz-sized blocks holding ``frames`` frames, shaped as :meth:`encode` returns them."""
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        block_align = self._block_align(8000, channels)
        count = -(-frames // samples_per_block(block_align, channels)) * block_align
        return super().unpack_codes(data, count // channels, channels)

    def encoder(self, rate: int = 8000) -> "MsAdpcmEncoderStream":
        """Streaming encoder: whole blocks as soon as their frames arrive; ``flush`` pads the last."""
        return MsAdpcmEncoderStream(self, rate)

    def decoder(self, channels: int = 1, rate: int = 8000, coefs: np.ndarray | None = None) -> "MsAdpcmDecoderStream":
        """Streaming decoder of data-chunk bytes: whole blocks as they arrive; ``flush`` decodes a partial last block."""
        return MsAdpcmDecoderStream(self, channels, rate, COEFS if coefs is None else coefs)

    # -- WAV (the coded-file layer's protocol, inwhale_hw.audio.coded) ---------------------------

    def wav_encode(self, pcm: np.ndarray, rate: int):
        from inwhale_hw.audio.wav import WavPayload

        pcm = self._check_pcm(pcm)
        frames = pcm.reshape(-1, 1) if pcm.ndim == 1 else pcm
        channels = frames.shape[1]
        block_align = self._block_align(rate, channels)
        spb = samples_per_block(block_align, channels)
        data, _ = encode_payload(frames, block_align, self.flavor, self.method, self.trellis_nodes)
        return WavPayload(data, len(frames), block_align, 4, fmt_extension(spb, COEFS), spb)

    def wav_decode(self, fmt, data: bytes, frames: int | None) -> np.ndarray:
        if fmt.bits_per_sample != 4 or fmt.channels < 1:
            raise AudioFormatError(
                f"MS-ADPCM WAV: {fmt.bits_per_sample} bits per sample and {fmt.channels} channels; "
                "allowed: 4 bits, >= 1 channel"
            )
        _, coefs = parse_extension(fmt.extension, fmt.block_align, fmt.channels)
        pcm = decode_payload(bytes(data), fmt.channels, fmt.block_align, coefs, self.flavor, frames)
        return pcm[:, 0] if fmt.channels == 1 else pcm


class MsAdpcmEncoderStream:
    """Block-buffering encoder: any chunking of the frames gives the bytes of one call."""

    def __init__(self, codec: MsAdpcm, rate: int) -> None:
        self.codec, self.rate = codec, rate
        self._pending: np.ndarray | None = None
        self._carried: np.ndarray | None = None
        self._ndim = 1
        self._closed = False

    def _encode(self, frames: np.ndarray) -> np.ndarray:
        c = self.codec
        data, self._carried = encode_payload(frames, c._block_align(self.rate, frames.shape[1]), c.flavor, c.method,
                                             c.trellis_nodes, self._carried)
        out = np.frombuffer(data, dtype=np.uint8).copy()
        return out if self._ndim == 1 else out.reshape(-1, frames.shape[1])  # as MsAdpcm.encode shapes it

    def encode(self, chunk) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.codec.name}.encode: stream already flushed; start a new one")
        pcm = self.codec._check_pcm(chunk)
        self._ndim = pcm.ndim
        frames = pcm.reshape(-1, 1) if pcm.ndim == 1 else pcm.astype(np.int64)
        if self._pending is not None:
            if frames.shape[1] != self._pending.shape[1]:
                raise InputError(f"{self.codec.name}.encode: chunk of {frames.shape[1]} channel(s) continues a "
                                 f"stream of {self._pending.shape[1]}")
            frames = np.concatenate([self._pending, frames])
        spb = samples_per_block(self.codec._block_align(self.rate, frames.shape[1]), frames.shape[1])
        whole = len(frames) - len(frames) % spb
        self._pending = frames[whole:]
        return self._encode(frames[:whole])

    def flush(self) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.codec.name}.encode: stream already flushed; start a new one")
        self._closed = True
        if self._pending is None:
            return np.empty(0, dtype=np.uint8)
        return self._encode(self._pending)


class MsAdpcmDecoderStream:
    """Block-buffering decoder of data-chunk bytes (``channels`` interleaved)."""

    def __init__(self, codec: MsAdpcm, channels: int, rate: int, coefs: np.ndarray) -> None:
        self.codec, self.channels, self.coefs, self.rate = codec, channels, coefs, rate
        self.block_align = codec._block_align(rate, channels)
        self._pending = b""
        self._closed = False

    def _decode(self, data: bytes) -> np.ndarray:
        pcm = decode_payload(data, self.channels, self.block_align, self.coefs, self.codec.flavor, None)
        return pcm[:, 0] if self.channels == 1 else pcm

    def decode(self, chunk) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.codec.name}.decode: stream already flushed; start a new one")
        codes = self.codec._check_codes(chunk, 0, 255)
        if codes.ndim == 2 and not self._pending and codes.shape[1] != self.channels:  # shaped as encode() returns them
            self.channels = codes.shape[1]
            self.block_align = self.codec._block_align(self.rate, self.channels)
        data = self._pending + codes.astype(np.uint8).tobytes()
        whole = len(data) - len(data) % self.block_align
        self._pending = data[whole:]
        return self._decode(data[:whole])

    def flush(self) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.codec.name}.decode: stream already flushed; start a new one")
        self._closed = True
        return self._decode(self._pending)
