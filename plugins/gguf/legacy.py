"""GGML's original 32-value block quants: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (encode and decode).

The arithmetic is llama.cpp's reference quantizer (``ggml-quants.c``, ``quantize_row_q4_0_ref``
and siblings), in float32 like the C code; ``fp16(v)`` is IEEE binary16 round-to-nearest-even.
For a block ``x[0..31]`` (float32):

=====  ==============================================  ====================================
type   encode                                          decode (float32 arithmetic)
=====  ==============================================  ====================================
Q4_0   ``m`` = the first ``x`` of largest ``|x|``,     ``d * (q - 8)``
       ``d = m / -8``, ``q = min(15, trunc(x/d'+8.5))``
Q4_1   ``d = (max - min) / 15``,                        ``d * q + min``
       ``q = min(15, trunc((x - min)/d' + 0.5))``
Q5_0   as Q4_0 with ``-16``, ``16.5`` and ``31``        ``d * (q - 16)``
Q5_1   as Q4_1 with ``31``                              ``d * q + min``
Q8_0   ``d = max|x| / 127``, ``q = roundf(x/d')``       ``d * q``
=====  ==============================================  ====================================

``x/d'`` is ``x * id`` with ``id = 1/d`` (0 when ``d = 0``), ``roundf`` rounds half away from
zero, and ``d``/``min`` are stored as binary16 (the encoder divides by the unrounded float32
``d``).  Byte layouts (little-endian): Q4_0 ``d[2] qs[16]``; Q4_1 ``d[2] m[2] qs[16]``; Q5_0
``d[2] qh[4] qs[16]``; Q5_1 ``d[2] m[2] qh[4] qs[16]``; Q8_0 ``d[2] qs[32]`` (int8).  Nibbles:
byte ``j`` of ``qs`` holds element ``j`` in its low and element ``j + 16`` in its high nibble;
``qh`` is a little-endian uint32 whose bit ``j`` is bit 4 of element ``j``.
"""

from __future__ import annotations

import numpy as np

from ..tensor.block_codec import as_f16_bytes, f16_from_bytes
from ..tensor.packing import pack_codes, unpack_codes

__all__ = ["LEGACY", "roundf", "inverse", "split_nibbles", "join_nibbles"]


def roundf(v: np.ndarray) -> np.ndarray:
    """C ``roundf``: nearest integer, halves away from zero (exact: ``v - trunc(v)`` is exact)."""
    t = np.trunc(v)
    return t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0).astype(v.dtype)


def inverse(d: np.ndarray) -> np.ndarray:
    """float32 ``1/d``, and 0 where ``d == 0``."""
    with np.errstate(divide="ignore"):
        return np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)


def join_nibbles(q: np.ndarray) -> np.ndarray:
    """``(nb, 2h)`` 4-bit codes -> ``(nb, h)`` bytes in GGML's order (element ``j`` low, ``j + h`` high)."""
    return pack_codes(q & 0x0F, 4, layout="ggml", block=q.shape[1]).reshape(q.shape[0], -1)


def split_nibbles(b: np.ndarray) -> np.ndarray:
    """Inverse of :func:`join_nibbles` (``(nb, h)`` bytes -> ``(nb, 2h)`` codes 0..15)."""
    n = 2 * b.shape[1]
    return unpack_codes(np.ascontiguousarray(b).reshape(-1), 4, b.size * 2, layout="ggml", block=n).reshape(-1, n)


def _absmax_signed(x: np.ndarray) -> np.ndarray:
    i = np.argmax(np.abs(x), axis=1)[:, None]
    return np.take_along_axis(x, i, axis=1)


def _trunc_code(v: np.ndarray, top: int) -> np.ndarray:
    return np.minimum(np.trunc(v).astype(np.int32), top).astype(np.uint8)


def _qh_bytes(q: np.ndarray) -> np.ndarray:
    return np.packbits((q >> 4) & 1, axis=1, bitorder="little")


def _qh_bits(qh: np.ndarray) -> np.ndarray:
    return np.unpackbits(qh, axis=1, bitorder="little")


def _enc_sym(x: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    d = _absmax_signed(x) / np.float32(-levels)
    q = _trunc_code(x * inverse(d) + np.float32(levels + 0.5), 2 * levels - 1)
    return as_f16_bytes(d), q


def _enc_min(x: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    d = (hi - lo) / np.float32(top)
    q = _trunc_code((x - lo) * inverse(d) + np.float32(0.5), top)
    return np.concatenate([as_f16_bytes(d), as_f16_bytes(lo)], axis=1), q


def encode_q4_0(x):
    d, q = _enc_sym(x, 8)
    return np.concatenate([d, join_nibbles(q)], axis=1)


def decode_q4_0(b):
    q = split_nibbles(b[:, 2:]).astype(np.float32) - np.float32(8)
    return f16_from_bytes(b[:, :2]) * q


def encode_q4_1(x):
    dm, q = _enc_min(x, 15)
    return np.concatenate([dm, join_nibbles(q)], axis=1)


def decode_q4_1(b):
    q = split_nibbles(b[:, 4:]).astype(np.float32)
    return f16_from_bytes(b[:, :2]) * q + f16_from_bytes(b[:, 2:4])


def encode_q5_0(x):
    d, q = _enc_sym(x, 16)
    return np.concatenate([d, _qh_bytes(q), join_nibbles(q)], axis=1)


def decode_q5_0(b):
    q = (split_nibbles(b[:, 6:]) | (_qh_bits(b[:, 2:6]) << 4)).astype(np.float32) - np.float32(16)
    return f16_from_bytes(b[:, :2]) * q


def encode_q5_1(x):
    dm, q = _enc_min(x, 31)
    return np.concatenate([dm, _qh_bytes(q), join_nibbles(q)], axis=1)


def decode_q5_1(b):
    q = (split_nibbles(b[:, 8:]) | (_qh_bits(b[:, 4:8]) << 4)).astype(np.float32)
    return f16_from_bytes(b[:, :2]) * q + f16_from_bytes(b[:, 2:4])


def encode_q8_0(x):
    d = np.abs(x).max(axis=1, keepdims=True) / np.float32(127)
    q = roundf(x * inverse(d)).astype(np.int8).view(np.uint8)
    return np.concatenate([as_f16_bytes(d), q], axis=1)


def decode_q8_0(b):
    return f16_from_bytes(b[:, :2]) * b[:, 2:].view(np.int8).astype(np.float32)


#: name -> (block_size, type_size, encoder or None, decoder)
LEGACY = {
    "Q4_0": (32, 18, encode_q4_0, decode_q4_0),
    "Q4_1": (32, 20, encode_q4_1, decode_q4_1),
    "Q5_0": (32, 22, encode_q5_0, decode_q5_0),
    "Q5_1": (32, 24, encode_q5_1, decode_q5_1),
    "Q8_0": (32, 34, encode_q8_0, decode_q8_0),
}
