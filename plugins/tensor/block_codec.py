"""Shared machinery of the block-format tensor quantizers (GGUF, bitsandbytes, OCP MX).

A block format cuts the last axis of a tensor into blocks of ``block_size`` values and stores
each block as ``type_size`` bytes (element codes plus the block's scale(s)).  So ``encode``
maps a real array of shape ``(..., n)`` (``n`` a multiple of ``block_size``) to a ``uint8``
array of shape ``(..., n // block_size * type_size)`` -- the row layout of ``gguf.quants`` and
of a GGUF file's tensor data -- and ``decode`` maps it back to ``(..., n)`` values.  Bits per
weight, scales included: ``8 * type_size / block_size``.

Streaming (:class:`BlockEncoder`/:class:`BlockDecoder`): an N-D tensor streams whole rows
along axis 0; a 1-D tensor streams any chunks, the stream carries an incomplete block (or
its incomplete bytes) to the next chunk, and ``flush`` raises if one is left over.  So any
chunking gives the one-shot bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Quantizer
from inwhale_hw.errors import InputError

__all__ = ["BlockQuantizer", "BlockEncoder", "BlockDecoder", "as_f16_bytes", "f16_from_bytes"]


def as_f16_bytes(v: np.ndarray) -> np.ndarray:
    """float32 ``(nb, 1)`` -> IEEE binary16 (round to nearest even; beyond 65504 inf, as GGML's
    conversion) as ``(nb, 2)`` little-endian bytes."""
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(v.astype("<f2")).view(np.uint8).reshape(v.shape[0], 2)


def f16_from_bytes(b: np.ndarray) -> np.ndarray:
    """``(nb, 2)`` little-endian bytes -> binary16 values as float32 ``(nb, 1)`` (exact)."""
    return np.ascontiguousarray(b).view("<f2").astype(np.float32).reshape(-1, 1)


class BlockQuantizer(Quantizer):
    """Base of block formats: subclasses set ``block_size``/``type_size`` (per instance, in
    ``_check_params``) and implement ``_encode_blocks`` (float32 ``(nb, block_size)`` ->
    uint8 ``(nb, type_size)``) and ``_decode_blocks`` (the inverse direction, to float32)."""

    kind = "tensor"
    block_size: int = 32
    type_size: int = 18
    #: False: NaN/inf input raises InputError; True: the format defines their encoding
    accepts_nonfinite: bool = False

    @property
    def last_axis_multiple(self) -> int:
        """What the last axis of an input must be a multiple of (read by the conformance kit)."""
        return self.block_size

    @property
    def bits_per_weight(self) -> float:
        """Stored bits per tensor element, block scales included."""
        return 8.0 * self.type_size / self.block_size

    def _encode_blocks(self, blocks: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode_blocks(self, data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_values(self, x: Any) -> np.ndarray:
        arr = np.asarray(x)
        where = f"{self.name}.encode"
        if arr.dtype.kind not in "fiub":
            raise InputError(f"{where}: expected a real (float or integer) array, got dtype {arr.dtype}")
        if arr.ndim == 0:
            raise InputError(f"{where}: expected an array with a last axis of blocks, got a 0-d value")
        if arr.shape[-1] % self.block_size:
            raise InputError(
                f"{where}: the last axis has length {arr.shape[-1]}, not a multiple of the block size "
                f"{self.block_size}; pad or reshape the tensor"
            )
        arr = arr.astype(np.float32)
        if not self.accepts_nonfinite:
            finite = np.isfinite(arr)
            if not finite.all():
                i = int(np.argmin(finite.reshape(-1)))
                raise InputError(f"{where}: value {arr.reshape(-1)[i]} at flat index {i} is not finite; expected finite real numbers")
        return arr

    def encode(self, x: Any) -> np.ndarray:
        """Bytes of ``x`` (real values, cast to float32 first, as ``gguf.quants.quantize``)."""
        arr = self._check_values(x)
        lead, n = arr.shape[:-1], arr.shape[-1]
        blocks = arr.reshape(-1, self.block_size)
        out = self._encode_blocks(blocks) if blocks.size else np.zeros((0, self.type_size), np.uint8)
        return out.reshape(*lead, n // self.block_size * self.type_size)

    def decode(self, codes: Any) -> np.ndarray:
        """float32 values of the blocks in ``codes`` (uint8, or integers in [0, 255])."""
        raw = np.asarray(codes)
        where = f"{self.name}.decode"
        if raw.dtype.kind not in "iu":
            raise InputError(f"{where}: expected a uint8 array of block bytes, got dtype {raw.dtype}")
        if raw.ndim == 0 or raw.shape[-1] % self.type_size:
            raise InputError(
                f"{where}: the last axis has {raw.shape[-1] if raw.ndim else 0} bytes, not a multiple of "
                f"the {self.type_size} bytes of one block"
            )
        if raw.dtype != np.uint8:
            bad = (raw < 0) | (raw > 255)
            if bad.any():
                i = int(np.argmax(bad.reshape(-1)))
                raise InputError(f"{where}: byte value {int(raw.reshape(-1)[i])} at flat index {i} is outside [0, 255]")
            raw = raw.astype(np.uint8)
        lead, nbytes = raw.shape[:-1], raw.shape[-1]
        data = np.ascontiguousarray(raw).reshape(-1, self.type_size)
        with np.errstate(invalid="ignore", over="ignore"):  # a stored inf/NaN scale decodes to inf/NaN
            out = self._decode_blocks(data) if data.size else np.zeros((0, self.block_size), np.float32)
        return out.astype(np.float32, copy=False).reshape(*lead, nbytes // self.type_size * self.block_size)

    def encoder(self) -> "BlockEncoder":
        return BlockEncoder(self)

    def decoder(self) -> "BlockDecoder":
        return BlockDecoder(self)


class _BlockStream:
    """Carries an incomplete 1-D block between chunks (see the module docstring)."""

    unit: str = "block_size"

    def __init__(self, quantizer: BlockQuantizer) -> None:
        self.quantizer = quantizer
        self._pending: np.ndarray | None = None
        self._template: np.ndarray | None = None
        self._closed = False

    def _step(self, chunk: Any, fn) -> np.ndarray:
        name = self.quantizer.name
        if self._closed:
            raise InputError(f"{name}: stream already flushed; start a new one")
        arr = np.asarray(chunk)
        if arr.ndim == 0:
            raise InputError(f"{name}: stream chunks are slices along axis 0; got a 0-d array")
        if arr.ndim == 1:
            if self._pending is not None and self._pending.size:
                arr = np.concatenate([self._pending, arr])
            unit = getattr(self.quantizer, self.unit)
            keep = arr.size - arr.size % unit
            self._pending = arr[keep:]
            arr = arr[:keep]
        out = fn(arr)
        self._template = out
        return out

    def flush(self) -> np.ndarray:
        """Close the stream; an incomplete block left over raises InputError."""
        self._closed = True
        if self._pending is not None and self._pending.size:
            raise InputError(
                f"{self.quantizer.name}: {self._pending.size} values are left over at the end of the stream, "
                f"less than one block ({getattr(self.quantizer, self.unit)})"
            )
        if self._template is None:
            return np.empty(0)
        return self._template[:0].copy()


class BlockEncoder(_BlockStream):
    def encode(self, chunk: Any) -> np.ndarray:
        return self._step(chunk, self.quantizer.encode)


class BlockDecoder(_BlockStream):
    unit = "type_size"

    def decode(self, chunk: Any) -> np.ndarray:
        return self._step(chunk, self.quantizer.decode)
