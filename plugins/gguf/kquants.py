"""Decoders of GGML's 256-value super-block quants Q2_K..Q6_K and of IQ4_NL.

Layouts and arithmetic follow llama.cpp's ``dequantize_row_q*_K`` (``ggml-quants.c``; block
structs in ``ggml-common.h``), float32 like the C code.  A super-block has 256 elements in
sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or 32 (Q4_K, Q5_K); ``d``/``dmin`` are binary16.

* Q2_K (84 B): ``scales[16] qs[64] d dmin``; sub-block ``s``: ``sc = scales[s] & 15``,
  ``mn = scales[s] >> 4``; element ``e = 128 n + 32 j + l`` is ``(qs[32 n + l] >> 2 j) & 3``;
  value ``(d sc) q - (dmin mn)``.
* Q3_K (110 B): ``hmask[32] qs[64] scales[12] d``; low 2 bits as Q2_K, element ``32 i + l``
  takes bit ``i`` of ``hmask[l]``, ``q = low - 4`` when that bit is 0; 6-bit scales ``k``:
  low nibble of byte ``k % 8`` (``k < 8``: bits 0-3, else 4-7), high 2 bits at bit
  ``2 (k // 4)`` of byte ``8 + k % 4``; value ``(d (sc - 32)) q``.
* Q4_K (144 B) / Q5_K (176 B): ``d dmin scales[12] [qh[32]] qs[128]``; 8 sub-blocks of 32
  with 6-bit scale and min (``get_scale_min_k4``); element ``64 i + 32 h + l`` is nibble
  ``h`` of ``qs[32 i + l]`` (Q5_K: plus bit ``i`` of ``qh[l]`` as bit 4); value
  ``(d sc) q - (dmin mn)``.
* Q6_K (210 B): ``ql[128] qh[64] scales[16] (int8) d``; element ``128 n + 64 h + l`` takes
  nibble ``h`` of ``ql[64 n + l]``, element ``128 n + 32 s + l`` bits 4-5 from
  ``(qh[32 n + l] >> 2 s) & 3``; value ``(d scales[e // 16]) (q - 32)``.
* IQ4_NL (18 B, 32 values): ``d qs[16]``, nibbles as Q4_0, value ``d * KVALUES[q]``.
"""

from __future__ import annotations

import numpy as np

from ..tensor.block_codec import f16_from_bytes
from .legacy import split_nibbles

__all__ = ["K_QUANTS", "IQ4_NL_KVALUES", "k4_scale_min"]

#: the IQ4_NL non-linear code book (llama.cpp ``kvalues_iq4nl``)
IQ4_NL_KVALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], dtype=np.float32)


def _crumbs(qs: np.ndarray) -> np.ndarray:
    """``(nb, 32 k)`` bytes -> ``(nb, 128 k)`` 2-bit fields, element ``128 n + 32 j + l``."""
    nb = qs.shape[0]
    q = qs.reshape(nb, -1, 1, 32) >> (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4, 1)
    return (q & 3).reshape(nb, -1)


def _bitplanes(h: np.ndarray) -> np.ndarray:
    """``(nb, 32)`` bytes -> ``(nb, 256)`` bits, element ``32 i + l`` = bit ``i`` of byte ``l``."""
    nb = h.shape[0]
    return ((h.reshape(nb, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)) & 1).reshape(nb, 256)


def _nibbles32(qs: np.ndarray) -> np.ndarray:
    """``(nb, 128)`` bytes -> ``(nb, 256)`` nibbles, element ``64 i + 32 h + l``."""
    nb = qs.shape[0]
    q = qs.reshape(nb, -1, 1, 32) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)
    return (q & 15).reshape(nb, -1)


def k4_scale_min(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 8 six-bit scales and mins packed in 12 bytes (llama.cpp ``get_scale_min_k4``)."""
    d, m, md = s[:, 0:4], s[:, 4:8], s[:, 8:12]
    sc = np.concatenate([d & 63, (md & 15) | ((d >> 2) & 48)], axis=1)
    mn = np.concatenate([m & 63, (md >> 4) | ((m >> 2) & 48)], axis=1)
    return sc, mn


def _per(v: np.ndarray, size: int) -> np.ndarray:
    return np.repeat(v, size, axis=1)


def decode_q2_k(b):
    sc, q = b[:, :16], _crumbs(b[:, 16:80]).astype(np.float32)
    d, dmin = f16_from_bytes(b[:, 80:82]), f16_from_bytes(b[:, 82:84])
    dl = d * (sc & 15).astype(np.float32)
    ml = dmin * (sc >> 4).astype(np.float32)
    return _per(dl, 16) * q - _per(ml, 16)


def decode_q3_k(b):
    hmask, qs, s = b[:, :32], b[:, 32:96], b[:, 96:108]
    d = f16_from_bytes(b[:, 108:110])
    k = np.arange(16)
    low = (s[:, k % 8] >> (4 * (k // 8)).astype(np.uint8)) & 15
    high = (s[:, 8 + k % 4] >> (2 * (k // 4)).astype(np.uint8)) & 3
    sc = (low | (high << 4)).astype(np.float32) - np.float32(32)
    q = _crumbs(qs).astype(np.int8) - 4 * (1 - _bitplanes(hmask).astype(np.int8))
    return _per(d * sc, 16) * q.astype(np.float32)


def _decode_k4(b, with_high: bool):
    d, dmin = f16_from_bytes(b[:, 0:2]), f16_from_bytes(b[:, 2:4])
    sc, mn = k4_scale_min(b[:, 4:16])
    q = _nibbles32(b[:, 48:176] if with_high else b[:, 16:144])
    if with_high:
        q = q | (_bitplanes(b[:, 16:48]) << 4)
    dl = d * sc.astype(np.float32)
    ml = dmin * mn.astype(np.float32)
    return _per(dl, 32) * q.astype(np.float32) - _per(ml, 32)


def decode_q4_k(b):
    return _decode_k4(b, False)


def decode_q5_k(b):
    return _decode_k4(b, True)


def decode_q6_k(b):
    nb = b.shape[0]
    ql, qh = b[:, :128], b[:, 128:192]
    sc = b[:, 192:208].view(np.int8).astype(np.float32)
    d = f16_from_bytes(b[:, 208:210])
    low = ((ql.reshape(nb, 2, 1, 64) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)) & 15).reshape(nb, 256)
    q = (low | (_crumbs(qh) << 4)).astype(np.float32) - np.float32(32)
    return _per(d * sc, 16) * q


def decode_iq4_nl(b):
    return f16_from_bytes(b[:, :2]) * IQ4_NL_KVALUES[split_nibbles(b[:, 2:])]


#: name -> (block_size, type_size, encoder or None, decoder)
K_QUANTS = {
    "Q2_K": (256, 84, None, decode_q2_k),
    "Q3_K": (256, 110, None, decode_q3_k),
    "Q4_K": (256, 144, None, decode_q4_k),
    "Q5_K": (256, 176, None, decode_q5_k),
    "Q6_K": (256, 210, None, decode_q6_k),
    "IQ4_NL": (32, 18, None, decode_iq4_nl),
}
