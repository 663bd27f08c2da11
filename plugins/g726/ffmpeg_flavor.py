"""The ``ffmpeg`` flavor of G.726: libavcodec's ``adpcm_g726`` / ``adpcm_g726le`` coder.

ffmpeg's ``g726.c`` is a native-integer rendition of G.726 section 4 that is not
bit-exact with the STL.  Where it differs from :mod:`.kernels` (the standard):

1. FMULT keeps the standard's rounding (``+ 0x30``) but takes the floating form of plain
   integer magnitudes (no 13-bit wrap of the coefficient) and sums the products as plain
   integers (the standard's ACCUM is 16-bit modular).
2. The predictor updates use native integers with clamps (f(a1) clamped to [-256, 255])
   and the b leak is 2**-8 at every rate (2**-9 at 40 kbit/s in the standard).
3. The speed-control averages carry F(I) << 4 (4 more fractional bits) and the speed
   control ap leaks by ``ap >> 4`` then adds 0x20, instead of FILTC's single rounding.
4. The encoder input is ``sample / 4`` truncated toward zero (the standard: ``>> 2``).
5. Output is ``sr << 2`` clipped to +-0xFFFF and stored in int16 (wrapping).

These are read from ffmpeg's source; the tests check the bits against the installed
ffmpeg, not each item separately.
Linear PCM only, all four rates.  Same plain-Python / numba pattern as :mod:`.kernels`.
"""

from __future__ import annotations

import numpy as np

from . import kernels

__all__ = ["ff_tables", "ff_reset_state", "ff_encode", "ff_decode"]

_INT_MAX = 2**31 - 1
_NEG = -32768
_TABLES = {
    2: ([260, _INT_MAX], [116, 365, 365, 116], [-22, 439, 439, -22], [0, 7, 7, 0]),
    3: ([7, 217, 330, _INT_MAX], [_NEG, 135, 273, 373, 373, 273, 135, _NEG],
        [-4, 30, 137, 582, 582, 137, 30, -4], [0, 1, 2, 7, 7, 2, 1, 0]),
    4: ([-125, 79, 177, 245, 299, 348, 399, _INT_MAX],
        [_NEG, 4, 135, 213, 273, 323, 373, 425, 425, 373, 323, 273, 213, 135, 4, _NEG],
        [-12, 18, 41, 64, 112, 198, 355, 1122, 1122, 355, 198, 112, 64, 41, 18, -12],
        [0, 0, 0, 1, 1, 1, 3, 7, 7, 3, 1, 1, 1, 0, 0, 0]),
    5: ([-122, -16, 67, 138, 197, 249, 297, 338, 377, 412, 444, 474, 501, 527, 552, _INT_MAX],
        [_NEG, -66, 28, 104, 169, 224, 274, 318, 358, 395, 429, 459, 488, 514, 539, 566,
         566, 539, 514, 488, 459, 429, 395, 358, 318, 274, 224, 169, 104, 28, -66, _NEG],
        [14, 14, 24, 39, 40, 41, 58, 100, 141, 179, 219, 280, 358, 440, 529, 696,
         696, 529, 440, 358, 280, 219, 179, 141, 100, 58, 41, 40, 39, 24, 14, 14],
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
}

#: state: a[2], b[6], pk[2], ap, yu, yl, dms, dml, td, se, sez, y, then sr[2] and dq[6] as
#: (sign, exp, mant) triples
_A, _B, _PK, _AP, _YU, _YL, _DMS, _DML, _TD, _SE, _SEZ, _Y, _SR, _DQ = 0, 2, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25
_SIZE = 43


def ff_tables(bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantizer levels, inverse quantizer, W, F) for ``bits`` per code."""
    return tuple(np.array(t, dtype=np.int64) for t in _TABLES[bits])


def ff_reset_state() -> np.ndarray:
    """ffmpeg's ``g726_reset``."""
    st = np.zeros(_SIZE, dtype=np.int64)
    for k in range(8):
        st[_SR + 3 * k + 2] = 32
    st[_PK], st[_PK + 1] = 1, 1
    st[_YU], st[_YL], st[_Y] = 544, 34816, 544
    return st


def _s16(v):
    return ((v + 32768) & 65535) - 32768


def _bitlen(v):
    n = 0
    while v >= (1 << n):
        n += 1
    return n


def _store_float(st, at, i):
    sign = 1 if i < 0 else 0
    if sign:
        i = -i
    e = _bitlen(i)
    st[at], st[at + 1], st[at + 2] = sign, e, ((i << 6) >> e) if i else 32


def _mult(s1, e1, m1, s2, e2, m2):
    e = e1 + e2
    res = (m1 * m2 + 0x30) >> 4
    res = res << (e - 19) if e > 19 else res >> (19 - e)
    return _s16(-res if s1 ^ s2 else res)


def _term(st, coef, at):
    c = coef >> 2
    s = 1 if c < 0 else 0
    m = -c if s else c
    e = _bitlen(m)
    return _mult(s, e, ((m << 6) >> e) if m else 32, st[at], st[at + 1], st[at + 2])


def _sgn(v):
    return -1 if v < 0 else 1


def _clip(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


def _decode_one(st, bits, code, iquant, w, f):
    i_sig = code >> (bits - 1)
    y = st[_Y]
    dql = iquant[code] + (y >> 2)
    dq = 0 if dql < 0 else (((1 << 7) + (dql & 0x7F)) << ((dql >> 7) & 0xF)) >> 7
    yl = st[_YL]
    ylint = yl >> 15
    thr2 = 0x1F << 10 if ylint > 9 else (0x20 + ((yl >> 10) & 0x1F)) << ylint
    tr = st[_TD] == 1 and dq > ((3 * thr2) >> 2)
    if i_sig:
        dq = -dq
    re_signal = st[_SE] + dq
    v = st[_SEZ] + dq
    pk0 = _sgn(v) if v else 0
    dq0 = _sgn(dq) if dq else 0
    if tr:
        for k in range(8):
            st[_A + k] = 0
    else:
        a0, a1 = st[_A], st[_A + 1]
        fa1 = _clip((-a0 * st[_PK] * pk0) >> 5, -256, 255)
        a1 = _clip(a1 + 128 * pk0 * st[_PK + 1] + fa1 - (a1 >> 7), -12288, 12288)
        a0 = a0 + 64 * 3 * pk0 * st[_PK] - (a0 >> 8)
        st[_A] = _clip(a0, -(15360 - a1), 15360 - a1)
        st[_A + 1] = a1
        for k in range(6):
            b = st[_B + k]
            st[_B + k] = b + 128 * dq0 * (-1 if st[_DQ + 3 * k] else 1) - (b >> 8)
    st[_PK + 1] = st[_PK]
    st[_PK] = pk0 if pk0 else 1
    for k in range(3):
        st[_SR + 3 + k] = st[_SR + k]
    _store_float(st, _SR, re_signal)
    for k in range(14, -1, -1):
        st[_DQ + 3 + k] = st[_DQ + k]
    _store_float(st, _DQ, dq)
    st[_DQ] = i_sig
    st[_TD] = 1 if st[_A + 1] < -11776 else 0
    st[_DMS] += (f[code] << 4) + ((-st[_DMS]) >> 5)
    st[_DML] += (f[code] << 4) + ((-st[_DML]) >> 7)
    if tr:
        st[_AP] = 256
    else:
        st[_AP] += (-st[_AP]) >> 4
        if y <= 1535 or st[_TD] or abs((st[_DMS] << 2) - st[_DML]) >= (st[_DML] >> 3):
            st[_AP] += 0x20
    yu = _clip(y + w[code] + ((-y) >> 5), 544, 5120)
    st[_YU] = yu
    yl = st[_YL] + yu + ((-st[_YL]) >> 6)
    st[_YL] = yl
    al = 64 if st[_AP] >= 256 else st[_AP] >> 2
    st[_Y] = (yl + (yu - (yl >> 6)) * al) >> 6
    se = 0
    for k in range(6):
        se += _term(st, st[_B + k], _DQ + 3 * k)
    st[_SEZ] = se >> 1
    for k in range(2):
        se += _term(st, st[_A + k], _SR + 3 * k)
    st[_SE] = se >> 1
    return _s16(_clip(re_signal << 2, -0xFFFF, 0xFFFF))


def ff_encode(samples, codes, bits, st, quant, iquant, w, f):
    """ffmpeg encoder: int16 samples -> codes; ``st`` updated."""
    mask = (1 << bits) - 1
    for j in range(samples.size):
        s = int(samples[j])
        d = (s // 4 if s >= 0 else -((-s) // 4)) - st[_SE]
        sign = 0
        if d < 0:
            sign = 1
            d = -d
        e = _bitlen(d | 1) - 1
        dln = (e << 7) + (((d << 7) >> e) & 0x7F) - (st[_Y] >> 2)
        i = 0
        while quant[i] < _INT_MAX and quant[i] < dln:
            i += 1
        if sign:
            i = ~i
        if bits != 2 and i == 0:
            i = 0xFF
        i &= mask
        codes[j] = i
        _decode_one(st, bits, i, iquant, w, f)


def ff_decode(codes, out, bits, st, iquant, w, f):
    """ffmpeg decoder: codes -> int16 samples; ``st`` updated."""
    mask = (1 << bits) - 1
    for j in range(codes.size):
        out[j] = _decode_one(st, bits, int(codes[j]) & mask, iquant, w, f)


if kernels.ENABLED:
    _jit = kernels.numba.njit(cache=True, nogil=True)
    _s16 = _jit(_s16)
    _bitlen = _jit(_bitlen)
    _store_float = _jit(_store_float)
    _mult = _jit(_mult)
    _term = _jit(_term)
    _sgn = _jit(_sgn)
    _clip = _jit(_clip)
    _decode_one = _jit(_decode_one)
    ff_encode = _jit(ff_encode)
    ff_decode = _jit(ff_decode)
