"""GGUF's ternary quants TQ1_0 and TQ2_0 and its MXFP4 (encode and decode).

TQ1_0/TQ2_0 (llama.cpp ``quantize_row_tq1_0_ref`` / ``tq2_0``): a block of 256 values has one
binary16 scale ``d = max|x|`` and trits ``t = roundf(x * (1/d)) in {-1, 0, 1}``, decoded as
``d * t``.  TQ2_0 (66 B: ``qs[64] d``) stores ``t + 1`` in 2 bits: element
``128 n + 32 j + l`` at bits ``2j`` of ``qs[32 n + l]``.  TQ1_0 (54 B: ``qs[48] qh[4] d``)
packs 5 trits per byte as a base-3 fraction: the digits ``u_i = t_i + 1`` of a byte give
``v = sum u_i 3^(4-i)`` stored as ``ceil(v * 256 / 243)``; trit ``i`` comes back as
``((byte * 3^i mod 256) * 3) >> 8``.  Bytes 0-31 hold elements ``32 i + l``, bytes 32-47
elements ``160 + 16 i + l`` and ``qh`` (4 trits each) elements ``240 + 4 i + l``.

MXFP4 as gguf stores it (17 B per 32 values: ``e qs[16]``, nibbles as Q4_0): the E8M0 byte
``e = floor(log2(max|x|)) + 125`` (the float32 ``log2`` as gguf computes it; 0 for an
all-zero block) and element codes of the E2M1 values ``(0, .5, 1, 1.5, 2, 3, 4, 6)`` and their
negatives, picked by the smallest float32 ``|h * k - x|`` over the code table ``k``
(doubled E2M1 values, ``h = 2**(e - 128)``); a tie takes the lower code index, so 1.75 gives
1.5 where OCP's round-to-nearest-even gives 2.0.  Decoding: ``h * k`` in float32.
"""

from __future__ import annotations

import numpy as np

from ..tensor.block_codec import as_f16_bytes, f16_from_bytes
from .kquants import _crumbs
from .legacy import inverse, join_nibbles, roundf, split_nibbles

__all__ = ["TERNARY", "MXFP4_KVALUES", "e8m0_half", "encode_mxfp4_gguf", "decode_mxfp4_gguf"]

_POW3 = np.array([81, 27, 9, 3, 1], dtype=np.int32)
#: doubled E2M1 values in code order 0..15 (sign bit = bit 3)
MXFP4_KVALUES = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], dtype=np.float32)


def _trits(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.abs(x).max(axis=1, keepdims=True)
    return d, (roundf(x * inverse(d)).astype(np.int32) + 1)


def _pack5(u: np.ndarray, width: int, digits: int) -> np.ndarray:
    nb = u.shape[0]
    v = (u.reshape(nb, digits, width) * _POW3[:digits].reshape(1, digits, 1)).sum(axis=1)
    return ((v * 256 + 242) // 243).astype(np.uint8)


def _unpack5(b: np.ndarray, digits: int) -> np.ndarray:
    nb = b.shape[0]
    p = (b.astype(np.int32).reshape(nb, 1, -1) * (3 ** np.arange(digits)).reshape(1, digits, 1)) & 0xFF
    return ((p * 3) >> 8).reshape(nb, -1)


def encode_tq1_0(x):
    d, u = _trits(x)
    qs = [_pack5(u[:, :160], 32, 5), _pack5(u[:, 160:240], 16, 5), _pack5(u[:, 240:], 4, 4)]
    return np.concatenate(qs + [as_f16_bytes(d)], axis=1)


def decode_tq1_0(b):
    u = np.concatenate([_unpack5(b[:, :32], 5), _unpack5(b[:, 32:48], 5), _unpack5(b[:, 48:52], 4)], axis=1)
    return f16_from_bytes(b[:, 52:54]) * (u - 1).astype(np.float32)


def encode_tq2_0(x):
    d, u = _trits(x)
    nb = u.shape[0]
    u = u.reshape(nb, 2, 4, 32) << (2 * np.arange(4)).reshape(1, 1, 4, 1)
    return np.concatenate([u.sum(axis=2).reshape(nb, 64).astype(np.uint8), as_f16_bytes(d)], axis=1)


def decode_tq2_0(b):
    return f16_from_bytes(b[:, 64:66]) * (_crumbs(b[:, :64]).astype(np.float32) - np.float32(1))


def e8m0_half(e: np.ndarray) -> np.ndarray:
    """``2**(e - 128)`` as float32 for E8M0 bytes ``e`` (half the scale; subnormal for e < 2)."""
    e = e.astype(np.uint32)
    bits = np.where(e < 2, np.uint32(0x00200000) << e, (e - np.uint32(1)) << np.uint32(23))
    return bits.astype(np.uint32).view(np.float32)


def encode_mxfp4_gguf(x):
    nb = x.shape[0]
    amax = np.abs(x).max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        ex = np.where(amax > 0, np.floor(np.log2(amax)) + np.float32(125), 0)
    e = (ex.astype(np.int64) & 0xFF).astype(np.uint8)
    h = e8m0_half(e)
    with np.errstate(over="ignore"):  # |x| near float32's max: the error overflows to inf, as in gguf
        errs = np.abs(h.reshape(nb, 1, 1) * MXFP4_KVALUES.reshape(1, 1, 16) - x.reshape(nb, -1, 1))
    q = np.argmin(errs, axis=2).astype(np.uint8)
    return np.concatenate([e, join_nibbles(q)], axis=1)


def decode_mxfp4_gguf(b):
    return e8m0_half(b[:, :1]) * MXFP4_KVALUES[split_nibbles(b[:, 1:])]


#: name -> (block_size, type_size, encoder or None, decoder)
TERNARY = {
    "TQ1_0": (256, 54, encode_tq1_0, decode_tq1_0),
    "TQ2_0": (256, 66, encode_tq2_0, decode_tq2_0),
    "MXFP4": (32, 17, encode_mxfp4_gguf, decode_mxfp4_gguf),
}
