"""Lookup tables for G.711 µ-law and A-law, built from the encoding laws at first use.

Every G.711 coder here is a table lookup: the encoder indexes a 65536-entry ``uint8`` table
with the int16 sample's bit pattern (``x.view(np.uint16)``), the decoder maps a code through a
256-entry ``int16`` table (in practice two codes at a time, through the 65536-entry table of
code pairs, :func:`pair_decode_table`).  The tables are computed once (and cached) by the vectorized
formulas below, taken from the standard, not copied from any library.

µ-law (ITU-T G.711 (11/88), Tables 2a/2b; ITU-T G.191 STL ``g711.c``, ``ulaw_compress``)
    The 16-bit sample is reduced to a 14-bit magnitude ``m`` (0..8191).  The biased value
    ``a = min(m + 33, 8191)`` (bias 33 in 14-bit units, 0x84 = 132 in 16-bit units) has
    segment ``seg = bit_length(a >> 6)`` (0..7) and mantissa ``mant = (a >> (seg + 1)) & 15``.
    The code is ``~(s << 7 | seg << 4 | mant) & 0xFF`` with ``s = 1`` for negative samples:
    all eight bits are inverted, so the transmitted sign bit is 1 for positive values and
    silence is 0xFF.  Decoding reconstructs the middle of the decision interval,
    ``y = ±((((mant << 3) + 0x84) << seg) - 0x84)``, i.e. ``±4((2 mant + 33) 2^seg - 33)``;
    the range is ±32124.
A-law (ITU-T G.711 (11/88), Tables 1a/1b; G.191 STL ``g711.c``, ``alaw_compress``)
    The 16-bit sample is reduced to a 12-bit magnitude ``m`` (0..2047).  Segment
    ``seg = bit_length(m >> 4)`` (0..7), mantissa ``mant = (m >> max(seg - 1, 0)) & 15``.
    The code is ``(p << 7 | seg << 4 | mant) ^ 0x55`` with ``p = 1`` for non-negative
    samples: the even bits are inverted (0x55).  Decoding gives ``±(2 mant + 1) 8`` in
    segment 0 and ``±(2 mant + 33) 2^(seg + 2)`` above; the range is ±32256.

The flavors ``itu``, ``audioop`` and ``libsndfile`` differ only in how a negative sample
becomes a magnitude (``x`` is int16); ``sox`` rounds instead of truncating and ``ffmpeg``
places its own decision values:

``itu``
    the STL's ones' complement: ``m = ~x >> 2`` (µ-law) and ``~x >> 4`` (A-law), i.e.
    ``floor((-x - 1) / 4)`` and ``floor((-x - 1) / 16)``.  This is the G.711 reference.
``audioop``
    CPython's ``audioop``: µ-law floors the two's-complement value to 14 bits first,
    ``p = x >> 2``, then negates, ``m = min(-p, 8159)``, i.e. ``ceil(-x / 4)``: one more
    than the STL magnitude.  For each of the 127 decision values ``T`` this moves the four
    negative inputs of magnitude ``T - 3 .. T`` to the outer interval (508 codes differ from
    ``itu``).  Its A-law takes
    ``-p - 1`` of the 13-bit value like the STL, so the ``audioop`` A-law table is ``itu``'s.
``libsndfile``
    libsndfile's ``s2ulaw_array``/``s2alaw_array``: C division truncating toward zero,
    ``m = -x / 4`` and ``-x / 16`` (clipped to the top table entry), then the sign bit is
    cleared.  This sign-magnitude rule is symmetric: a negative input whose magnitude is
    exactly one of the 127 decision values goes to the outer interval, where the STL's ones'
    complement puts it in the inner one (127 codes per law differ from ``itu``).

``sox``
    sox's ``SOX_SAMPLE_TO_ULAW_BYTE`` / ``SOX_SAMPLE_TO_ALAW_BYTE`` (``-e u-law`` / ``-e
    a-law`` written without dither, ``sox -D``): the sample is ROUNDED to 14 (µ-law) or 13
    (A-law) bits, ``s = (x + 2) >> 2`` and ``(x + 4) >> 3`` (half up), clipped to the top value
    (sox reports those as clipped), then coded by the CCITT routines ``sox_14linear2ulaw``
    (``m = min(|s|, 8159)``, negative when ``s < 0``) and ``sox_13linear2alaw``
    (``m = s >> 1``, or ``(-s - 1) >> 1`` for negative ``s``).
``ffmpeg``
    libavcodec's ``pcm_mulaw`` / ``pcm_alaw`` encoders (``pcm_tablegen.h``,
    ``build_xlaw_table``): a 16384-entry table indexed by ``x >> 2`` (14 bits, both laws)
    whose decision value between the reconstructions ``y_i < y_(i+1)`` of neighbouring
    positive codes is ``(y_i + y_(i+1) + 4) >> 3`` in 14-bit units (the midpoint, rounded), so
    every input goes to its nearest reconstruction; magnitudes are ``|x >> 2|`` (``-8192``
    counts as ``8191``), the sign from ``x >> 2 < 0``.

Non-negative samples give the same magnitude, ``x >> 2`` or ``x >> 4``, in the first three
flavors.  All flavors share one decoder per law.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from inwhale_hw.errors import ParameterError

__all__ = ["FLAVORS", "LAWS", "encode_table", "decode_table", "pair_decode_table", "encode", "decode"]

FLAVORS = ("itu", "audioop", "libsndfile", "sox", "ffmpeg")
LAWS = ("mulaw", "alaw")

#: elements per ``np.take`` call: keeps the intp index temporary inside the L2 cache
_CHUNK = 1 << 17


def _bit_length(v: np.ndarray, top: int) -> np.ndarray:
    """``int.bit_length`` of each element of ``v`` (values below ``2**top``)."""
    return sum(((v >> k) > 0).astype(np.int32) for k in range(top))


def _all_int16() -> np.ndarray:
    """Every int16 value, ordered by bit pattern: element ``i`` has pattern ``i``."""
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _ulaw_code(m: np.ndarray, negative: np.ndarray) -> np.ndarray:
    a = np.minimum(m + 33, 0x1FFF)
    seg = _bit_length(a >> 6, 7)
    mant = (a >> (seg + 1)) & 0xF
    return ((negative.astype(np.int32) << 7 | seg << 4 | mant) ^ 0xFF).astype(np.uint8)


def _alaw_code(m: np.ndarray, negative: np.ndarray) -> np.ndarray:
    seg = _bit_length(m >> 4, 7)
    mant = (m >> np.maximum(seg - 1, 0)) & 0xF
    positive = (~negative).astype(np.int32)
    return ((positive << 7 | seg << 4 | mant) ^ 0x55).astype(np.uint8)


@cache
def encode_table(law: str, flavor: str) -> np.ndarray:
    """The 65536-entry ``uint8`` encoder table of ``law`` in ``flavor``, indexed by bit pattern."""
    x = _all_int16()
    negative = x < 0
    shift = 2 if law == "mulaw" else 4
    if flavor == "itu":
        m = np.where(negative, ~x, x) >> shift
    elif flavor == "audioop":
        if law == "mulaw":
            p = x >> 2
            m = np.minimum(np.abs(p), 8159)
        else:
            m = np.where(negative, ~x, x) >> 4
    elif flavor == "libsndfile":
        m = np.minimum(np.abs(x) >> shift, (1 << (16 - shift - 1)) - 1)
    elif flavor == "sox":
        return _sox_table(law, x)
    elif flavor == "ffmpeg":
        return _ffmpeg_table(law, x)
    else:
        raise ParameterError(f"unknown G.711 flavor {flavor!r}; allowed: {', '.join(FLAVORS)}")
    table = _ulaw_code(m, negative) if law == "mulaw" else _alaw_code(m, negative)
    table.flags.writeable = False
    return table


def _sox_table(law: str, x: np.ndarray) -> np.ndarray:
    """sox: round to 14 (µ-law) or 13 (A-law) bits, clip, then the CCITT coder."""
    bits = 14 if law == "mulaw" else 13
    s = np.minimum((x + (1 << (15 - bits))) >> (16 - bits), (1 << (bits - 1)) - 1)
    negative = s < 0
    if law == "mulaw":
        table = _ulaw_code(np.minimum(np.abs(s), 8159), negative)
    else:
        table = _alaw_code(np.where(negative, -s - 1, s) >> 1, negative)
    table.flags.writeable = False
    return table


def _ffmpeg_table(law: str, x: np.ndarray) -> np.ndarray:
    """ffmpeg: nearest reconstruction of the 14-bit sample, decision values rounded to 14 bits."""
    mask = 0xFF if law == "mulaw" else 0xD5  # code of +0 / the smallest positive level
    positive = decode_table(law)[np.arange(128) ^ mask].astype(np.int32)  # increasing
    decisions = (positive[:-1] + positive[1:] + 4) >> 3
    j = x >> 2
    level = np.searchsorted(decisions, np.minimum(np.abs(j), 8191), side="right")
    table = (level ^ np.where(j < 0, mask ^ 0x80, mask)).astype(np.uint8)
    table.flags.writeable = False
    return table


@cache
def decode_table(law: str) -> np.ndarray:
    """The 256-entry ``int16`` decoder table of ``law`` (shared by every flavor)."""
    code = np.arange(256, dtype=np.int32)
    if law == "mulaw":
        c = code ^ 0xFF
        seg, mant = (c >> 4) & 7, c & 0xF
        magnitude = (((mant << 3) + 0x84) << seg) - 0x84
        value = np.where(c & 0x80, -magnitude, magnitude)
    else:
        c = code ^ 0x55
        seg, mant = (c >> 4) & 7, c & 0xF
        magnitude = np.where(seg == 0, (mant << 4) + 8, ((mant << 4) + 0x108) << np.maximum(seg - 1, 0))
        value = np.where(c & 0x80, magnitude, -magnitude)
    table = value.astype(np.int16)
    table.flags.writeable = False
    return table


@cache
def pair_decode_table(law: str) -> np.ndarray:
    """Decoder for two codes at once: 65536 ``uint32`` entries, indexed by a code pair's bits.

    Entry ``p`` holds, in memory order, the two int16 samples of the byte pair whose
    ``uint16`` view is ``p``, so ``table[codes.view(uint16)].view(int16)`` decodes in
    memory order on any byte order.  Half as many lookups as the 256-entry table.
    """
    single = decode_table(law)
    pair_bytes = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.uint8).reshape(-1, 2)
    samples = single[pair_bytes]
    table = np.ascontiguousarray(samples).view(np.uint32).reshape(-1)
    table.flags.writeable = False
    return table


def _gather(table: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = table[index]`` for 1-D arrays, in cache-sized chunks.

    ``np.take`` converts the index to intp; chunking keeps that temporary in cache, and
    ``mode="wrap"`` (never needed: the index dtype cannot exceed the table) skips the bounds
    branch of ``mode="raise"``.
    """
    for start in range(0, index.size, _CHUNK):
        stop = start + _CHUNK
        np.take(table, index[start:stop], out=out[start:stop], mode="wrap")


def encode(law: str, flavor: str, x: np.ndarray) -> np.ndarray:
    """Codes (``uint8``, same shape) of a C-contiguous ``int16`` array ``x``."""
    out = np.empty(x.shape, dtype=np.uint8)
    _gather(encode_table(law, flavor), x.reshape(-1).view(np.uint16), out.reshape(-1))
    return out


def decode(law: str, codes: np.ndarray) -> np.ndarray:
    """Samples (``int16``, same shape) of a C-contiguous ``uint8`` code array."""
    out = np.empty(codes.shape, dtype=np.int16)
    flat_in, flat_out = codes.reshape(-1), out.reshape(-1)
    even = flat_in.size & ~1
    _gather(pair_decode_table(law), flat_in[:even].view(np.uint16), flat_out[:even].view(np.uint32))
    if even < flat_in.size:
        flat_out[-1] = decode_table(law)[flat_in[-1]]
    return out
