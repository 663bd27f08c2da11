"""Shared machinery of the sequential (stateful) audio codecs: delta, CVSD and DPCM.

* Channel layout: codecs work on an int64 array of shape ``(n, channels)``; :func:`as_frames`
  and :func:`restore_shape` convert from and back to the caller's ``(n,)`` / ``(n, channels)``.
* :class:`SequentialCodec`: a :class:`~inwhale_hw.Quantizer` whose one-shot ``encode`` /
  ``decode`` and streaming objects are built from the same three methods (start state,
  process one chunk, finish), so any chunking gives the one-shot bits by construction.
  Channels are independent; each keeps its own state.  The per-sample recursions run per
  channel on Python integers: stepping all channels at once with NumPy costs tens of
  microseconds per time step in call overhead and only broke even at about 64 channels when
  measured on the delta encoder, so audio's one or two channels are faster one at a time.
* :func:`pack_bits` / :func:`unpack_bits`: one-bit codes packed eight to a byte.
* :func:`rounding_bias`: the rounding modes the per-sample integer loops offer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Quantizer
from inwhale_hw.errors import AudioFormatError, InputError
from inwhale_hw.fixed import Rounding

__all__ = [
    "BIT_ORDERS",
    "LOOP_ROUNDINGS",
    "SequentialCodec",
    "as_frames",
    "pack_bits",
    "restore_shape",
    "rounding_bias",
    "unpack_bits",
]

#: the two bit orders of :func:`pack_bits`
BIT_ORDERS = ("msb", "lsb")

#: rounding modes the per-sample loops implement: a constant bias added before an arithmetic
#: right shift, as a datapath does it (``round(v / 2**s) == (v + bias) >> s``)
LOOP_ROUNDINGS = (Rounding.FLOOR, Rounding.CEIL, Rounding.HALF_UP, Rounding.HALF_DOWN)


def rounding_bias(rounding: Rounding, shift: int) -> int:
    """The constant ``c`` with ``round(v / 2**shift) == (v + c) >> shift`` for ``rounding``
    (one of :data:`LOOP_ROUNDINGS`)."""
    if shift == 0 or rounding is Rounding.FLOOR:
        return 0
    if rounding is Rounding.CEIL:
        return (1 << shift) - 1
    half = 1 << (shift - 1)
    return half if rounding is Rounding.HALF_UP else half - 1


def as_frames(arr: np.ndarray) -> np.ndarray:
    """``arr`` of shape (n,) or (n, channels) as int64 of shape (n, channels)."""
    arr = np.asarray(arr, dtype=np.int64)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def restore_shape(frames: np.ndarray, like_ndim: int, dtype: Any) -> np.ndarray:
    """Inverse of :func:`as_frames`: back to 1-D when the input was 1-D, cast to ``dtype``."""
    out = frames.astype(dtype, copy=False)
    return out.reshape(-1) if like_ndim == 1 else out


def pack_bits(bits: np.ndarray, bit_order: str) -> bytes:
    """Pack 0/1 values eight to a byte, the first value in the MSB (``"msb"``) or LSB.

    A final partial byte is padded with zero bits.
    """
    flat = np.ascontiguousarray(bits, dtype=np.uint8).reshape(-1)
    return np.packbits(flat, bitorder="big" if bit_order == "msb" else "little").tobytes()


def unpack_bits(data: bytes, count: int, bit_order: str, where: str) -> np.ndarray:
    """The first ``count`` bits of ``data`` (inverse of :func:`pack_bits`) as uint8 0/1."""
    needed = -(-count // 8)
    if len(data) < needed:
        raise AudioFormatError(f"{where}: coded data holds {len(data)} bytes, {needed} needed for {count} one-bit codes")
    raw = np.frombuffer(bytes(data[:needed]), dtype=np.uint8)
    return np.unpackbits(raw, count=count, bitorder="big" if bit_order == "msb" else "little")


class SequentialCodec(Quantizer):
    """An audio quantizer with per-channel state carried from sample to sample.

    Subclasses implement, on int64 frames of shape ``(n, channels)``:

    ``_start(channels)``
        the state before the first sample;
    ``_encode_chunk(frames, state)`` / ``_decode_chunk(codes, state)``
        ``(output frames, new state)``; the output may lag the input (codecs with lookahead)
        as long as ``_finish_encode`` / ``_finish_decode`` return the rest;
    ``_finish_encode(state, channels)`` / ``_finish_decode(state, channels)``
        what is still pending at the end (default: nothing).

    and set ``code_range`` (the inclusive range of valid codes).  Encoder states are
    independent of decoder states.
    """

    stateful = True
    code_range: tuple[int, int] = (0, 1)

    # -- to implement -------------------------------------------------------------------------

    def _start(self, channels: int) -> Any:
        raise NotImplementedError

    def _encode_chunk(self, frames: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def _decode_chunk(self, codes: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def _finish_encode(self, state: Any, channels: int) -> np.ndarray:
        return np.zeros((0, channels), dtype=np.int64)

    def _finish_decode(self, state: Any, channels: int) -> np.ndarray:
        return np.zeros((0, channels), dtype=np.int64)

    # -- the protocol -------------------------------------------------------------------------

    def encode(self, x: Any) -> np.ndarray:
        stream = self.encoder()
        head = stream.encode(x)
        return np.concatenate([head, stream.flush()], axis=0)

    def decode(self, codes: Any) -> np.ndarray:
        stream = self.decoder()
        head = stream.decode(codes)
        return np.concatenate([head, stream.flush()], axis=0)

    def encoder(self) -> "SequentialStream":
        return SequentialStream(self, "encode")

    def decoder(self) -> "SequentialStream":
        return SequentialStream(self, "decode")

    def _check_input(self, data: Any, direction: str) -> np.ndarray:
        if direction == "encode":
            return self._check_pcm(data)
        lo, hi = self.code_range
        return self._check_codes(data, lo, hi)


class SequentialStream:
    """Streaming encoder or decoder of a :class:`SequentialCodec` (``encode``/``decode``, ``flush``).

    Every chunk must have the dimensionality and channel count of the first one.
    """

    def __init__(self, codec: SequentialCodec, direction: str) -> None:
        self.codec = codec
        self.direction = direction
        self._state: Any = None
        self._ndim: int | None = None
        self._channels: int | None = None
        self._closed = False

    def _out_dtype(self) -> Any:
        return self.codec.code_dtype if self.direction == "encode" else self.codec.sample_dtype

    def _process(self, chunk: Any) -> np.ndarray:
        where = f"{self.codec.name}.{self.direction}"
        if self._closed:
            raise InputError(f"{where}: stream already flushed; start a new one")
        arr = self.codec._check_input(chunk, self.direction)
        channels = 1 if arr.ndim == 1 else arr.shape[1]
        if self._ndim is None:
            if channels == 0:
                raise InputError(f"{where}: expected at least one channel, got shape {arr.shape}")
            self._ndim, self._channels = arr.ndim, channels
            self._state = self.codec._start(channels)
        elif (arr.ndim, channels) != (self._ndim, self._channels):
            raise InputError(
                f"{where}: chunk of shape {arr.shape} does not continue a stream of "
                f"{self._channels} channel(s) with {self._ndim}-D chunks"
            )
        run = self.codec._encode_chunk if self.direction == "encode" else self.codec._decode_chunk
        out, self._state = run(as_frames(arr), self._state)
        return restore_shape(out, self._ndim, self._out_dtype())

    def encode(self, chunk: Any) -> np.ndarray:
        """Encode the next chunk of PCM; returns the codes that are complete so far."""
        if self.direction != "encode":
            raise InputError(f"{self.codec.name}: this is a decoder stream; call decode()")
        return self._process(chunk)

    def decode(self, chunk: Any) -> np.ndarray:
        """Decode the next chunk of codes; returns the samples that are complete so far."""
        if self.direction != "decode":
            raise InputError(f"{self.codec.name}: this is an encoder stream; call encode()")
        return self._process(chunk)

    def flush(self) -> np.ndarray:
        """Return what is still pending and close the stream."""
        if self._closed:
            raise InputError(f"{self.codec.name}.{self.direction}: stream already flushed; start a new one")
        self._closed = True
        if self._ndim is None:
            return np.empty(0, dtype=self._out_dtype())
        finish = self.codec._finish_encode if self.direction == "encode" else self.codec._finish_decode
        return restore_shape(finish(self._state, self._channels), self._ndim, self._out_dtype())
