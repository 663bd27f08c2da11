"""``bnb``: bitsandbytes' 4-bit NF4 / FP4 block quantization with QLoRA double quantization.

The tensor is flattened (C order) and cut into blocks of ``block_size`` (default 64; a last
partial block is allowed); all arithmetic is float32 as bitsandbytes' CPU path does it:

* ``absmax_b = max |x|`` over block ``b``; ``u = clamp(x * (1 / max(absmax_b, 1e-38)), -1, 1)``;
* the 4-bit code is the nearest code-book value (:mod:`.codebooks`) found as torch's
  ``bucketize`` against the float32 midpoints ``(c_k + c_(k+1)) / 2`` of the sorted code book:
  the number of midpoints strictly below ``u`` (a value on a midpoint takes the lower code);
  FP4 maps sorted positions back to its bit patterns;
* codes pack two per byte, the FIRST element in the HIGH nibble (:meth:`BnB.pack_codes`).

Double quantization (``double_quant=True``, QLoRA §3): ``offset = mean(absmax)`` rounded once
to float32 (bitsandbytes takes torch's float32 ``mean``, whose summation order follows the CPU's
vector width, so it can differ in the last bit or two; ``fit(x, offset=...)`` takes a given
one, e.g. from a bitsandbytes checkpoint), and ``absmax - offset`` is
quantized blockwise over 256 scales with the signed dynamic 8-bit map: ``absmax2_g =
max |a|`` per group of 256, codes by bitsandbytes' CPU look-up table (``nested_rounding=
"cpu-lut"``: ``v = a * (1 / absmax2)`` clamped to [-1, 1] indexes 65536 bins,
``trunc((v + 1) * 0.5 * 65535 + 0.5)``, each holding the first code whose upper midpoint is not
below the bin's value ``-1 + 2 i / 65535``; ``csrc/cpu_ops.cpp`` ``build_quantize_lut``) or by
the exact nearest code (``"nearest"``, ties to the lower code).  Codes are chosen with the
exact ``absmax``; decoding uses the stored one, ``code8 * absmax2 + offset`` when nested.
Decoding: ``code4[q] * absmax`` in float32.

Stored bits per weight: ``4 + 32 / B`` (float32 absmax), with double quantization
``4 + 8 / B + 32 / (256 B)`` plus one float32 offset per tensor (NF4, B = 64: 4.127).
``fit(x)`` computes and stores the block statistics; ``encode`` fits on its input first when
not fitted; streaming splits along axis 0 and tracks the flat element offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import InputError
from inwhale_hw.hardware import check_vector_options
from inwhale_hw.quantizer import TensorDecoder, TensorEncoder

from ..tensor.common import check_real
from ..tensor.packing import pack_codes, unpack_codes
from . import hardware
from .codebooks import FP4, NF4, dequantize_4bit, dynamic_map

__all__ = ["BnB", "quantize_nested", "dequantize_nested", "nearest_sorted", "lut_codes"]

_DYNAMIC = dynamic_map()
_LUT_SIZE = 65536


def nearest_sorted(u: np.ndarray, book: np.ndarray) -> np.ndarray:
    """Index into ascending ``book`` of the value nearest to float32 ``u`` (torch.bucketize on midpoints)."""
    mid = ((book[:-1] + book[1:]) / np.float32(2)).astype(np.float32)
    return np.searchsorted(mid, u, side="left")


def _lut(book: np.ndarray) -> np.ndarray:
    mid = (np.float32(0.5) * (book[:-1] + book[1:])).astype(np.float32)
    val = (np.float32(-1) + (np.float32(2) * np.arange(_LUT_SIZE, dtype=np.float32)) / np.float32(_LUT_SIZE - 1))
    return np.searchsorted(mid, val.astype(np.float32), side="left").astype(np.uint8)


_DYNAMIC_LUT = _lut(_DYNAMIC)


def lut_codes(v: np.ndarray) -> np.ndarray:
    """bitsandbytes' CPU look-up of dynamic-map codes for normalized float32 ``v``."""
    v = np.clip(v, np.float32(-1), np.float32(1)).astype(np.float32)
    idx = ((v + np.float32(1)) * np.float32(0.5) * np.float32(_LUT_SIZE - 1) + np.float32(0.5)).astype(np.float32)
    return _DYNAMIC_LUT[idx.astype(np.int64)]


def quantize_nested(absmax: np.ndarray, offset: np.float32, rounding: str = "cpu-lut") -> tuple[np.ndarray, np.ndarray]:
    """``(codes uint8, absmax2 float32)`` of ``absmax - offset`` in groups of 256 (module docstring)."""
    a = (absmax - offset).astype(np.float32)
    groups = -(-a.size // 256)
    padded = np.zeros(groups * 256, np.float32)
    padded[:a.size] = a
    g = padded.reshape(groups, 256)
    absmax2 = np.abs(g).max(axis=1)
    absmax2[-1] = np.abs(a[(groups - 1) * 256:]).max()
    with np.errstate(divide="ignore"):
        inv = np.where(absmax2 > 0, np.float32(1) / absmax2, np.float32(0)).astype(np.float32)
    v = (g * inv[:, None]).astype(np.float32)
    codes = lut_codes(v) if rounding == "cpu-lut" else nearest_sorted(np.clip(v, -1, 1), _DYNAMIC).astype(np.uint8)
    codes = np.where(absmax2[:, None] > 0, codes, 0).astype(np.uint8)  # an all-zero group stores code 0
    return codes.reshape(-1)[:a.size], absmax2.astype(np.float32)


def dequantize_nested(codes: np.ndarray, absmax2: np.ndarray, offset: np.float32) -> np.ndarray:
    """float32 ``code8[q] * absmax2 + offset`` per block."""
    group = np.arange(codes.size) // 256
    return (_DYNAMIC[codes] * absmax2[group] + offset).astype(np.float32)


class BnB(Quantizer):
    name = "bnb"
    summary = "bitsandbytes NF4 / FP4 block quantization (QLoRA), absmax per block, optional double quantization"
    kind = "tensor"
    references = (
        "T. Dettmers et al., QLoRA: Efficient Finetuning of Quantized LLMs, NeurIPS 2023, §3 (NF4, double quantization)",
        "bitsandbytes functional.py (get_4bit_type, create_dynamic_map, quantize_4bit), "
        "backends/default/ops.py (quantize_4bit), csrc/cpu_ops.cpp (quantize_cpu_impl)",
        "T. Dettmers, 8-Bit Approximations for Parallelism in Deep Learning, ICLR 2016 (dynamic map)",
    )
    params = (
        Param("code", "nf4", "4-bit code book: nf4 or fp4 (bitsandbytes' E2M1 variant)", str, choices=("nf4", "fp4")),
        Param("block_size", 64, "values per absmax block", int, choices=(32, 64, 128, 256, 512, 1024, 2048, 4096)),
        Param("double_quant", True, "quantize the absmax values with the dynamic 8-bit map (QLoRA)", bool),
        Param("nested_rounding", "cpu-lut", "dynamic-map rounding: cpu-lut (bitsandbytes CPU) or nearest", str,
              choices=("cpu-lut", "nearest")),
    )

    #: element dequantizer (:mod:`.hardware`)
    blocks = ("dequantizer",)

    def datapath(self, block: str, **hw):
        return hardware.datapath(self, **hw)

    def vectors(self, block: str, *, seed: int = 0, **opts):
        return hardware.vectors(seed, **check_vector_options(self.name, opts, ("count",)))

    def reference(self, block: str, vectors):
        return hardware.reference(self, vectors)

    def _check_params(self) -> None:
        self.book = NF4 if self.code == "nf4" else FP4
        self._order = np.argsort(self.book, kind="stable")
        self._sorted = self.book[self._order]
        self.absmax: np.ndarray | None = None  # exact, used to choose codes
        self.stored_absmax: np.ndarray | None = None  # what decoding uses
        self.nested: dict[str, Any] | None = None
        self._size = 0

    @property
    def bits_per_weight(self) -> float:
        """Stored bits per element (scales, and the offset when fitted, included)."""
        b = self.block_size
        if not self.double_quant:
            return 4 + 32 / b
        extra = 32 / self._size if self._size else 0.0
        return 4 + 8 / b + 32 / (256 * b) + extra

    def fit(self, x: Any, offset: float | None = None) -> "BnB":
        """Block absmax of ``x`` (flattened) and, with ``double_quant``, its nested quantization
        around ``offset`` (default: the mean of the block absmax values)."""
        flat = check_real(x, "bnb.fit", allow_empty=False).astype(np.float32).reshape(-1)
        n, b = flat.size, self.block_size
        nb = -(-n // b)
        padded = np.zeros(nb * b, np.float32)
        padded[:n] = np.abs(flat)
        self.absmax = padded.reshape(nb, b).max(axis=1)
        self._size = n
        if self.double_quant:
            offset = np.float32(np.mean(self.absmax, dtype=np.float64) if offset is None else offset)
            codes, absmax2 = quantize_nested(self.absmax, offset, self.nested_rounding)
            self.nested = {"codes": codes, "absmax2": absmax2, "offset": offset}
            self.stored_absmax = dequantize_nested(codes, absmax2, offset)
        else:
            self.nested, self.stored_absmax = None, self.absmax
        return self

    def _block_of(self, shape: tuple[int, ...], start: int | None) -> np.ndarray:
        size = int(np.prod(shape))
        first = 0 if start is None else start * (size // shape[0] if shape and shape[0] else 0)
        if first + size > self._size:
            raise InputError(f"bnb: fitted on {self._size} values; got values up to flat index {first + size - 1}")
        return (first + np.arange(size)) // self.block_size

    def encode(self, x: Any, _start: int | None = None) -> np.ndarray:
        """uint8 codes 0..15 of ``x`` (same shape); fits on ``x`` first when not fitted."""
        arr = check_real(x, "bnb.encode").astype(np.float32)
        if self.absmax is None:
            self.fit(arr)
        blk = self._block_of(arr.shape, _start)
        inv = (np.float32(1) / np.maximum(self.absmax, np.float32(1e-38))).astype(np.float32)
        u = np.clip(arr.reshape(-1) * inv[blk], np.float32(-1), np.float32(1)).astype(np.float32)
        return self._order[nearest_sorted(u, self._sorted)].astype(np.uint8).reshape(arr.shape)

    def decode(self, codes: Any, _start: int | None = None) -> np.ndarray:
        """float32 ``book[q] * absmax`` with the stored (nested-dequantized) absmax."""
        if self.absmax is None:
            raise InputError("bnb.decode: no block statistics yet; call fit(x) or encode(x) first")
        c = np.asarray(codes)
        if c.dtype.kind not in "iu":
            raise InputError(f"bnb.decode: expected an integer array of codes, got dtype {c.dtype}")
        bad = (c < 0) | (c > 15)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise InputError(f"bnb.decode: code {int(c.reshape(-1)[i])} at flat index {i} is outside [0, 15]")
        blk = self._block_of(c.shape, _start)
        return dequantize_4bit(c.reshape(-1), self.book, self.stored_absmax[blk]).reshape(c.shape)

    def encoder(self) -> TensorEncoder:
        return TensorEncoder(self)

    def decoder(self) -> TensorDecoder:
        return TensorDecoder(self)

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """bitsandbytes' packing: element ``2j`` in the high nibble of byte ``j``, ``2j + 1`` in the low."""
        return pack_codes(codes, 4, layout="bnb").tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int = 1) -> np.ndarray:
        """``frames * channels`` codes from :meth:`pack_codes` output."""
        c = unpack_codes(data, 4, frames * channels, layout="bnb").astype(np.uint8)
        return c.reshape(frames, channels) if channels > 1 else c
