"""Raw IMA ADPCM byte streams: two 4-bit codes per byte, the EARLIER code in the HIGH nibble.

This is the layout of CPython's ``audioop.lin2adpcm`` (and of the Intel/DVI raw streams it
follows).  audioop silently drops the last code of an odd-length fragment while its state
still advances past that sample; here nothing is lost: :func:`pack_nibbles` stores a final
odd code in the high nibble of one more byte (low nibble 0), and the streaming
:class:`RawEncoder` carries the pending code across chunks and writes it on ``flush``.

Multichannel raw streams interleave channels sample by sample (frame-major), one
independent coder state per channel.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw.errors import InputError
from inwhale_hw.quantizer import check_integer_array

from .stream import ImaState, decode_stream, encode_stream

__all__ = ["pack_nibbles", "unpack_nibbles", "RawEncoder", "RawDecoder"]


def pack_nibbles(codes: np.ndarray) -> bytes:
    """Pack codes 0..15 two per byte, high nibble first; an odd last code fills a high nibble."""
    codes = np.asarray(codes, dtype=np.uint8).reshape(-1)
    if codes.size % 2:
        codes = np.append(codes, np.uint8(0))
    return ((codes[0::2] << 4) | codes[1::2]).astype(np.uint8).tobytes()


def unpack_nibbles(data: bytes, count: int | None = None) -> np.ndarray:
    """The codes of :func:`pack_nibbles` output: ``count`` of them (default ``2 * len(data)``)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    codes = np.empty(2 * raw.size, dtype=np.uint8)
    codes[0::2] = raw >> 4
    codes[1::2] = raw & 15
    if count is None:
        return codes
    if not 0 <= count <= codes.size:
        raise InputError(f"raw IMA data of {len(data)} bytes holds at most {codes.size} codes, {count} requested")
    return codes[:count]


class RawEncoder:
    """Streaming PCM -> raw IMA bytes for one channel (``audioop.lin2adpcm`` without the loss).

    ``encode(chunk)`` returns the whole bytes completed so far; an odd code waits for the
    next chunk, and :meth:`flush` emits it as a final half-filled byte.  ``state`` is the
    coder state after the samples given so far.
    """

    def __init__(self, state: ImaState = ImaState()) -> None:
        self.state = state
        self._pending: np.ndarray = np.empty(0, dtype=np.uint8)

    def encode(self, samples: np.ndarray) -> bytes:
        samples = check_integer_array(samples, "RawEncoder.encode", -32768, 32767, "int16 PCM")
        if samples.ndim != 1:
            raise InputError(f"RawEncoder.encode: expected one channel of shape (n,), got shape {samples.shape}")
        codes, self.state = encode_stream(samples, self.state)
        codes = np.concatenate([self._pending, codes])
        even = codes.size - codes.size % 2
        self._pending = codes[even:]
        return pack_nibbles(codes[:even])

    def flush(self) -> bytes:
        data = pack_nibbles(self._pending)
        self._pending = self._pending[:0]
        return data


class RawDecoder:
    """Streaming raw IMA bytes -> int16 PCM for one channel (two samples per byte)."""

    def __init__(self, state: ImaState = ImaState(), flavor: str = "standard") -> None:
        self.state = state
        self.flavor = flavor

    def decode(self, data: bytes) -> np.ndarray:
        samples, self.state = decode_stream(unpack_nibbles(data), self.state, self.flavor)
        return samples
