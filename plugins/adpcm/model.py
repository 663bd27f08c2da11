"""``ima-adpcm``: IMA/DVI ADPCM, 4 bits per sample, as a raw stream and as WAV format 0x0011.

Codes (:meth:`ImaAdpcm.encode`): one 4-bit code (uint8 0..15) per sample, each channel an
independent stream starting from state (predictor 0, step index 0) -- bit-exact with
CPython's ``audioop.lin2adpcm`` / ``adpcm2lin`` (see :mod:`.stream`).  The stream encoder is
the IMA reference (greedy) coder; ``method`` only chooses how WAV blocks are coded.
:meth:`ImaAdpcm.pack_codes` packs frames (channels interleaved) two codes per byte, the
earlier in the HIGH nibble as audioop does; an odd final code fills the high nibble of a
last byte (audioop drops it).

WAV (:mod:`.wav`): blocks of ``block_size`` bytes (default: libsndfile's rule), each
restarting the coder from a stored sample and step index; ``method`` picks how blocks are
coded (``search``: a short start-index search, then per sample the better of two codes by a
two-sample lookahead -- fast, and above sox's SNR on the speech and music measured;
``exhaustive``: the start index and quantizer of minimum block error, never worse than
libsndfile's or sox's choice for a mono block; ``libsndfile``: index carried from block to
block, byte-identical to libsndfile's writer except the exact ``fact`` count; ``trellis``: beam search over codes with
``trellis_nodes`` survivors); ``flavor`` picks the decoder (``standard``: IMA, libsndfile,
sox, audioop; ``ffmpeg``: ffmpeg's ``((2 m + 1) s) >> 3`` reconstruction).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from inwhale_hw import Param
from inwhale_hw.hardware import Golden, check_vector_options
from inwhale_hw.quantizer import check_frames_channels
from inwhale_hw.errors import AudioFormatError

from inwhale_hw.codec import SequentialCodec
from .blocks import default_block_align
from .raw import pack_nibbles, unpack_nibbles
from .stream import ImaState, check_state, decode_stream, encode_stream
from .tables import FLAVORS
from .trellis import DEFAULT_NODES
from .wav import ENCODERS, FORMAT_TAG, check_block_align, check_fmt, decode_payload, encode_payload
from .wav_stream import ImaWavDecoder, ImaWavEncoder

__all__ = ["ImaAdpcm"]


class ImaAdpcm(SequentialCodec):
    name = "ima-adpcm"
    summary = "IMA/DVI ADPCM, 4 bits/sample: raw nibble stream (audioop-exact) and WAV format 0x0011"
    kind = "audio"
    references = (
        "IMA Digital Audio Focus and Technical Working Groups, Recommended Practices for Enhancing "
        "Digital Audio Compatibility in Multimedia Systems, rev 3.00 (1992): the IMA ADPCM algorithm",
        "Microsoft, Multimedia Standards Update rev 3.0 (1994): WAVE_FORMAT_IMA_ADPCM (0x0011), "
        "IMAADPCMWAVEFORMAT and the block layout",
        "CPython 3.11 Modules/audioop.c: lin2adpcm / adpcm2lin",
    )
    params = (
        Param(
            "method", "search",
            "how WAV blocks are coded: 'search' (start-index search and two-option lookahead "
            "per sample; fast), 'exhaustive' (start index and quantizer of minimum block "
            "error; slow), 'libsndfile' (carried index; the file equals libsndfile's writer byte for "
            "byte except the exact fact count), "
            "'trellis' (beam search over codes; best quality, slowest)",
            str, choices=ENCODERS,
        ),
        Param(
            "trellis_nodes", DEFAULT_NODES,
            "survivors per sample of the 'trellis' encoder (more: better and slower)",
            int, min=1, max=256,
        ),
        Param(
            "block_size", None,
            "WAV nBlockAlign in bytes written: 4 x channels x (k + 1), k >= 1, with 16-bit "
            "wSamplesPerBlock (8, 12, .., 32768 mono; 16, 24, .., 65528 stereo); files with any "
            "4 x channels x (k + 1) block size are read (None: libsndfile's choice, 256 bytes at "
            "8 kHz mono up to 2048)",
            int, min=8, max=65535, allow_none=True,
            check=lambda v: None if v % 4 == 0 else "IMA WAV blocks are whole 4-byte words per channel",
        ),
        Param(
            "flavor", "standard",
            "decoder reconstruction: 'standard' (IMA, libsndfile, sox, audioop) or 'ffmpeg'",
            str, choices=FLAVORS,
        ),
    )
    code_dtype = np.uint8
    sample_dtype = np.int16
    code_range = (0, 15)
    wav_format_tag = FORMAT_TAG
    blocks = ("encoder", "decoder")
    #: ``encoder=`` is the deprecated name of ``method`` (it hid the ``encoder()`` stream method)
    renamed_params = {"encoder": "method"}

    # -- hardware (inwhale_hw.hdl.ima_adpcm: one-sample-per-clock stream blocks, state checked per sample)

    def datapath(self, block: str, **params):
        """The stream codec's ``block`` in Amaranth; ``flavor`` picks the decoder's reconstruction."""
        from .hardware import datapath

        return datapath(block, self.flavor, **params)

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> dict[str, np.ndarray]:
        from .hardware import default_inputs

        check_vector_options(self.name, opts, ())
        return default_inputs(block)

    def reference(self, block: str, inputs: Any) -> Golden:
        from .hardware import golden

        return golden(block, inputs, self.flavor)

    # -- one channel from an explicit state (audioop's lin2adpcm / adpcm2lin carry it) -----------

    def encode_from(self, pcm: Any, state: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, tuple[int, int]]:
        """Mono int16 PCM coded from ``state`` = (predictor, step index): the codes and the
        state after the last sample.  The encoder tracks the standard reconstruction."""
        check_state(int(state[0]), int(state[1]), f"{self.name}.encode_from")
        start = ImaState(int(state[0]), int(state[1]))
        codes, end = encode_stream(self._check_pcm(pcm).reshape(-1), start)
        return codes, (end.predictor, end.index)

    def decode_from(self, codes: Any, state: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, tuple[int, int]]:
        """Mono codes decoded from ``state`` with this quantizer's ``flavor``: int16 samples and
        the state after the last code."""
        check_state(int(state[0]), int(state[1]), f"{self.name}.decode_from")
        start = ImaState(int(state[0]), int(state[1]))
        samples, end = decode_stream(self._check_codes(codes, 0, 15).reshape(-1).astype(np.uint8), start, self.flavor)
        return samples, (end.predictor, end.index)

    @property
    def bits_per_sample(self) -> float:
        return 4.0

    # -- the stream codec (SequentialCodec hooks) -------------------------------------------------

    def _start(self, channels: int) -> list[ImaState]:
        return [ImaState() for _ in range(channels)]

    def _encode_chunk(self, frames: np.ndarray, state: list[ImaState]) -> tuple[np.ndarray, list[ImaState]]:
        out = np.empty(frames.shape, dtype=np.uint8)
        new = []
        for ch, start in enumerate(state):
            out[:, ch], end = encode_stream(frames[:, ch], start)
            new.append(end)
        return out, new

    def _decode_chunk(self, codes: np.ndarray, state: list[ImaState]) -> tuple[np.ndarray, list[ImaState]]:
        out = np.empty(codes.shape, dtype=np.int16)
        new = []
        for ch, start in enumerate(state):
            out[:, ch], end = decode_stream(codes[:, ch], start, self.flavor)
            new.append(end)
        return out, new

    # -- containers -------------------------------------------------------------------------------

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Frames (channels interleaved) two codes per byte, earlier code in the high nibble."""
        return pack_nibbles(self._check_codes(codes, 0, 15))

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        count = frames * channels
        if len(data) < -(-count // 2):
            raise AudioFormatError(
                f"{self.name}: coded data holds {len(data)} bytes, {-(-count // 2)} needed for "
                f"{frames} frames x {channels} channels at 4 bits"
            )
        codes = unpack_nibbles(bytes(data), count)
        return codes.reshape(frames, channels) if channels > 1 else codes

    # -- WAV (the coded-file layer's protocol, inwhale_hw.audio.coded) ---------------------------

    def wav_encode(self, pcm: np.ndarray, rate: int):
        """IMA ADPCM WAV payload: whole blocks coded with ``method``, ``block_size`` bytes each."""
        from inwhale_hw.audio.wav import WavPayload

        pcm = self._check_pcm(pcm)
        channels = 1 if pcm.ndim == 1 else pcm.shape[1]
        block_align = default_block_align(rate, channels) if self.block_size is None else self.block_size
        spb = check_block_align(block_align, channels)
        data = encode_payload(pcm, block_align, self.method, nodes=self.trellis_nodes)
        return WavPayload(data, len(pcm), block_align, 4, struct.pack("<H", spb), spb)

    def wav_encoder(self, rate: int, channels: int):
        """Streaming form of :meth:`wav_encode` (same bytes for any chunking): an
        :class:`.wav_stream.ImaWavEncoder` plus the fmt fields as a :class:`WavPayload` with no data."""
        from inwhale_hw.audio.wav import WavPayload

        block_align = default_block_align(rate, channels) if self.block_size is None else self.block_size
        spb = check_block_align(block_align, channels)
        layout = WavPayload(b"", 0, block_align, 4, struct.pack("<H", spb), spb)
        return ImaWavEncoder(channels, block_align, self.method, self.trellis_nodes), layout

    def wav_decoder(self, fmt, size: int, frames: int | None) -> ImaWavDecoder:
        """Streaming form of :meth:`wav_decode` for a data body of ``size`` bytes."""
        check_fmt(fmt.channels, fmt.rate, fmt.block_align, fmt.bits_per_sample, fmt.extension, "IMA ADPCM WAV")
        return ImaWavDecoder(fmt.channels, fmt.block_align, size, frames, self.flavor)

    def wav_decode(self, fmt, data: bytes, frames: int | None) -> np.ndarray:
        """Decode an IMA ADPCM data chunk with this instance's ``flavor`` (recovery rules: :mod:`.wav`)."""
        check_fmt(fmt.channels, fmt.rate, fmt.block_align, fmt.bits_per_sample, fmt.extension, "IMA ADPCM WAV")
        pcm, _ = decode_payload(bytes(data), fmt.channels, fmt.block_align, frames, self.flavor)
        return pcm[:, 0] if fmt.channels == 1 else pcm
