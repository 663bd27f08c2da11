"""IMA ADPCM WAV payloads (format 0x0011) coded and decoded block by block.

The streaming side of :mod:`.wav`, for the coded-file layer's streaming protocol
(:mod:`inwhale_hw.audio.coded_stream`): memory is bounded by the chunk, and any chunking
gives the bytes (or samples) of the one-shot :func:`~.wav.encode_payload` /
:func:`~.wav.decode_payload`, because

* every block restarts the coder from its header, so blocks code independently, except that
  the ``search`` and ``exhaustive`` rules look at the previous block's last samples to pick a
  start index (the encoder keeps the previous block's frames as context and codes it again
  in front of the next chunk, dropping its bytes), and the ``libsndfile`` rule carries the
  step index from block to block (kept per channel; blocks are coded one after another);
* input frames are grouped into whole blocks; only the final partial block is padded (with
  zeros, or for ``libsndfile`` as libsndfile pads it: :mod:`.sndfile_tail`), as in the
  one-shot path;
* decoding needs the data size up front (from the chunk header) to apply the ``fact`` rule of
  :mod:`.wav` exactly as the one-shot reader does.
"""

from __future__ import annotations

import numpy as np

from .blocks import decode_blocks, encode_lanes, frames_to_lanes, lanes_to_frames, pack_blocks, samples_per_block
from .blocks import unpack_blocks
from .lookahead import PARALLEL_MIN
from .sndfile_tail import sndfile_last_block
from .trellis import DEFAULT_NODES
from .wav import encode_payload, payload_frames

__all__ = ["ImaWavEncoder", "ImaWavDecoder", "BATCH_SAMPLES"]

#: samples (all channels) gathered before coding: large enough for the ``search`` coder's
#: thread pool (:data:`.lookahead.PARALLEL_MIN`) and to make re-coding the context block cheap
BATCH_SAMPLES = PARALLEL_MIN


class ImaWavEncoder:
    """Code int16 frames ``(n, channels)`` chunk by chunk into IMA WAV blocks of ``block_align`` bytes."""

    def __init__(self, channels: int, block_align: int, method: str = "search", nodes: int = DEFAULT_NODES) -> None:
        self.channels, self.block_align, self.method, self.nodes = channels, block_align, method, nodes
        self.samples_per_block = samples_per_block(block_align, channels)
        self._pending = np.zeros((0, channels), dtype=np.int16)
        self._context: np.ndarray | None = None
        self._index = np.zeros(channels, dtype=np.int32)
        self._previous: bytes | None = None  # the last whole block written (libsndfile's padding)

    def _code(self, frames: np.ndarray) -> bytes:
        if not len(frames):
            return b""
        if self.method == "libsndfile":
            return self._carried(frames)
        if self._context is None:
            data = encode_payload(frames, self.block_align, self.method, nodes=self.nodes)
        else:
            joined = np.concatenate([self._context, frames])
            data = encode_payload(joined, self.block_align, self.method, nodes=self.nodes)[self.block_align :]
        self._context = frames[-self.samples_per_block :]
        return data

    def _carried(self, frames: np.ndarray) -> bytes:
        """libsndfile's rule: each block starts at the step index the previous one ended with."""
        spb, channels = self.samples_per_block, self.channels
        x = frames_to_lanes(frames, spb)
        blocks = x.shape[1] // channels
        codes = np.empty((spb - 1, x.shape[1]), dtype=np.uint8)
        start = np.empty(x.shape[1], dtype=np.int32)
        for b in range(blocks):
            lanes = slice(b * channels, (b + 1) * channels)
            start[lanes] = self._index
            codes[:, lanes], self._index = encode_lanes(x[1:, lanes], x[0, lanes], self._index)
        data = pack_blocks(x[0].reshape(blocks, channels), start.reshape(blocks, channels), lanes_to_frames(codes, blocks, channels))
        self._previous = data[-self.block_align :]
        return data

    def encode(self, pcm: np.ndarray) -> bytes:
        """Code ``pcm`` (n, channels); returns the bytes of the whole blocks coded so far (frames
        are gathered up to :data:`BATCH_SAMPLES` first)."""
        pcm = np.asarray(pcm, dtype=np.int16).reshape(-1, self.channels)
        self._pending = np.concatenate([self._pending, pcm]) if len(self._pending) else pcm
        if self._pending.size < BATCH_SAMPLES:
            return b""
        whole = len(self._pending) // self.samples_per_block * self.samples_per_block
        ready, self._pending = self._pending[:whole], self._pending[whole:]
        return self._code(ready)

    def flush(self) -> bytes:
        """The final partial block (if any): zero-padded, or libsndfile's padding for that method."""
        rest, self._pending = self._pending, self._pending[:0]
        if self.method != "libsndfile":
            return self._code(rest)
        whole = len(rest) // self.samples_per_block * self.samples_per_block
        data = self._code(rest[:whole])
        if whole < len(rest):
            data += sndfile_last_block(rest[whole:], self._previous, self.block_align, self.channels)
        return data


class ImaWavDecoder:
    """Decode an IMA WAV data body of ``size`` bytes chunk by chunk (``fact`` value ``frames``)."""

    def __init__(self, channels: int, block_align: int, size: int, frames: int | None, flavor: str = "standard") -> None:
        self.channels, self.block_align, self.flavor = channels, block_align, flavor
        self.samples_per_block = samples_per_block(block_align, channels)
        self.frames, self.notes = payload_frames(size, channels, block_align, frames)
        self._left = self.frames
        self._block = 0
        self._pending = b""

    def _emit(self, pcm: np.ndarray) -> np.ndarray:
        out = pcm[: self._left]
        self._left -= len(out)
        return np.ascontiguousarray(out)

    def decode(self, data: bytes) -> np.ndarray:
        """Decode the next bytes of the body; returns the frames of the blocks now complete."""
        data = self._pending + bytes(data)
        whole = len(data) // self.block_align * self.block_align
        self._pending = data[whole:]
        first, index, codes = unpack_blocks(data[:whole], self.block_align, self.channels, self._block)
        self._block += whole // self.block_align
        return self._emit(decode_blocks(first, index, codes, self.flavor).reshape(-1, self.channels))

    def flush(self) -> np.ndarray:
        """The frames of a last block cut short (its header and whole 4-byte words per channel)."""
        rest, self._pending = self._pending, b""
        header = 4 * self.channels
        if len(rest) < header:
            return np.zeros((0, self.channels), dtype=np.int16)
        groups = (len(rest) - header) // header
        tail = bytearray(self.block_align)
        tail[: header * (groups + 1)] = rest[: header * (groups + 1)]
        last = decode_blocks(*unpack_blocks(bytes(tail), self.block_align, self.channels, self._block), self.flavor)
        return self._emit(last.reshape(-1, self.channels)[: 1 + 8 * groups])
