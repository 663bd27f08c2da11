"""The ``libsndfile`` flavor of G.726: Sun Microsystems' G.721/G.723 code as libsndfile ships it.

libsndfile's G721_32 (WAV 0x0040), G723_24 and G723_40 (Sun .au) coders derive from Sun's
public-domain ``g72x.c``, which computes the G.721/G.723 blocks with native integers and
lookup tables instead of the bit-level blocks of ITU-T G.726 section 4.2.  Where this model
(and libsndfile) differs from the STL / Appendix II model of :mod:`.kernels`:

1. FMULT (4.2.6): the product of the mantissas is truncated, ``(anmant * srn_mant) >> 4``,
   without the standard's rounding constant ``+ 48`` (libsndfile's edit of Sun's code,
   which its source says improved the SNR; checked against libsndfile 1.2.2).
2. UPA2/LIMC (4.2.5): the a2 update is computed as ``a2 - a2 >> 7`` plus a clamped
   ``f(a1)`` term and the limit |a2| <= 0.75 is applied only when ``dq + sez != 0``.
3. MIX (4.2.3): ``y`` rounds the negative product ``(yu - yl) * al`` up (``+ 0x3F``) and
   is plain integer arithmetic; ``sr``, ``se``, ``d`` are C ``short`` values (wrapping),
   not the standard's modular 15/16-bit words.
4. Linear output is ``sr << 2`` stored in a C short (wraps), input ``sample >> 2``.

Only linear PCM (int16) and the rates libsndfile writes (24, 32, 40 kbit/s) are provided.
The per-sample loop is compiled with numba when available (same source, same bits).
"""

from __future__ import annotations

import numpy as np

from . import kernels

__all__ = ["SUN_RATES", "sun_tables", "sun_encode", "sun_decode", "sun_reset_state"]

#: bits -> (quantizer table, dqln, wi, fi); wi already scaled as Sun's code uses it
_TABLES = {
    3: ([8, 218, 331], [-2048, 135, 273, 373, 373, 273, 135, -2048],
        [-128, 960, 4384, 18624, 18624, 4384, 960, -128], [0, 0x200, 0x400, 0xE00, 0xE00, 0x400, 0x200, 0]),
    4: ([-124, 80, 178, 246, 300, 349, 400],
        [-2048, 4, 135, 213, 273, 323, 373, 425, 425, 373, 323, 273, 213, 135, 4, -2048],
        [v << 5 for v in (-12, 18, 41, 64, 112, 198, 355, 1122, 1122, 355, 198, 112, 64, 41, 18, -12)],
        [0, 0, 0, 0x200, 0x200, 0x200, 0x600, 0xE00, 0xE00, 0x600, 0x200, 0x200, 0x200, 0, 0, 0]),
    5: ([-122, -16, 68, 139, 198, 250, 298, 339, 378, 413, 445, 475, 502, 528, 553],
        [-2048, -66, 28, 104, 169, 224, 274, 318, 358, 395, 429, 459, 488, 514, 539, 566,
         566, 539, 514, 488, 459, 429, 395, 358, 318, 274, 224, 169, 104, 28, -66, -2048],
        [448, 448, 768, 1248, 1280, 1312, 1856, 3200, 4512, 5728, 7008, 8960, 11456, 14080, 16928, 22272,
         22272, 16928, 14080, 11456, 8960, 7008, 5728, 4512, 3200, 1856, 1312, 1280, 1248, 768, 448, 448],
        [0, 0, 0, 0, 0, 0x200, 0x200, 0x200, 0x200, 0x200, 0x400, 0x600, 0x800, 0xA00, 0xC00, 0xC00,
         0xC00, 0xC00, 0xA00, 0x800, 0x600, 0x400, 0x200, 0x200, 0x200, 0x200, 0x200, 0, 0, 0, 0, 0]),
}
SUN_RATES = {24: 3, 32: 4, 40: 5}

#: state: yl, yu, dms, dml, ap, a[2], pk[2], sr[2], b[6], dq[6], td
_YL, _YU, _DMS, _DML, _AP, _A, _PK, _SR, _B, _DQ, _TD = 0, 1, 2, 3, 4, 5, 7, 9, 11, 17, 23
_SIZE = 24


def sun_tables(bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantizer levels, dqln, wi, fi) for ``bits`` per code, int64 arrays."""
    return tuple(np.array(t, dtype=np.int64) for t in _TABLES[bits])


def sun_reset_state() -> np.ndarray:
    """Sun's ``private_init_state``: the G.721 reset values."""
    st = np.zeros(_SIZE, dtype=np.int64)
    st[_YL], st[_YU] = 34816, 544
    st[_SR:_SR + 2] = 32
    st[_DQ:_DQ + 6] = 32
    return st


def _s16(v):
    """C conversion to ``short`` (two's complement wrap)."""
    return ((v + 32768) & 65535) - 32768


def _bitlen(v):
    """Sun's ``quan(v, power2, 15)``: count of powers of two 1..2**14 not above v."""
    n = 0
    while n < 15 and v >= (1 << n):
        n += 1
    return n


def _fmult(an, srn):
    anmag = an if an > 0 else (-an) & 0x1FFF
    anexp = _bitlen(anmag) - 6
    if anmag == 0:
        anmant = 32
    elif anexp >= 0:
        anmant = anmag >> anexp
    else:
        anmant = anmag << -anexp
    wanexp = anexp + ((srn >> 6) & 0xF) - 13
    wanmant = (anmant * (srn & 0x3F)) >> 4
    retval = ((wanmant << wanexp) & 0x7FFF) if wanexp >= 0 else wanmant >> -wanexp
    return -retval if (an ^ srn) < 0 else retval


def _estimate(st, encoder):
    sezi = 0
    for k in range(6):
        sezi += _fmult(st[_B + k] >> 2, st[_DQ + k])
    sezi = _s16(sezi)
    pole = _fmult(st[_A + 1] >> 2, st[_SR + 1]) + _fmult(st[_A] >> 2, st[_SR])
    se = _s16((sezi + pole) >> 1) if encoder else _s16(sezi + pole) >> 1
    return se, sezi >> 1


def _step(st):
    ap = st[_AP]
    if ap >= 256:
        return st[_YU]
    y = st[_YL] >> 6
    dif = st[_YU] - y
    al = ap >> 2
    if dif > 0:
        y += (dif * al) >> 6
    elif dif < 0:
        y += (dif * al + 0x3F) >> 6
    return _s16(y)


def _float(v):
    if v == 0:
        return 0x20
    mag = v if v > 0 else -v
    e = _bitlen(mag)
    f = (e << 6) + ((mag << 6) >> e)
    return f if v > 0 else f - 0x400


def _update(st, bits, y, wi, fi, dq, sr, dqsez):
    pk0 = 1 if dqsez < 0 else 0
    mag = dq & 0x7FFF
    yl = st[_YL]
    ylint = yl >> 15
    thr2 = 31 << 10 if ylint > 9 else (32 + ((yl >> 10) & 0x1F)) << ylint
    dqthr = (thr2 + (thr2 >> 1)) >> 1
    tr = 1 if (st[_TD] != 0 and mag > dqthr) else 0
    yu = _s16(y + ((wi - y) >> 5))
    yu = 544 if yu < 544 else (5120 if yu > 5120 else yu)
    st[_YU] = yu
    st[_YL] = yl + yu + ((-yl) >> 6)
    a2p = 0
    if tr == 1:
        for k in range(2):
            st[_A + k] = 0
        for k in range(6):
            st[_B + k] = 0
    else:
        pks1 = pk0 ^ st[_PK]
        a1 = st[_A]
        a2p = _s16(st[_A + 1] - (st[_A + 1] >> 7))
        if dqsez != 0:
            fa1 = _s16(a1 if pks1 else -a1)
            if fa1 < -8191:
                a2p -= 0x100
            elif fa1 > 8191:
                a2p += 0xFF
            else:
                a2p += fa1 >> 5
            if pk0 ^ st[_PK + 1]:
                a2p = -12288 if a2p <= -12160 else (12288 if a2p >= 12416 else a2p - 0x80)
            else:
                a2p = -12288 if a2p <= -12416 else (12288 if a2p >= 12160 else a2p + 0x80)
            a2p = _s16(a2p)
        st[_A + 1] = a2p
        a1 = _s16(a1 - (a1 >> 8))
        if dqsez != 0:
            a1 = _s16(a1 + (192 if pks1 == 0 else -192))
        a1ul = 15360 - a2p
        a1 = -a1ul if a1 < -a1ul else (a1ul if a1 > a1ul else a1)
        st[_A] = a1
        leak = 9 if bits == 5 else 8
        for k in range(6):
            b = _s16(st[_B + k] - (st[_B + k] >> leak))
            if mag:
                b = _s16(b + (128 if (dq ^ st[_DQ + k]) >= 0 else -128))
            st[_B + k] = b
    for k in range(5, 0, -1):
        st[_DQ + k] = st[_DQ + k - 1]
    if mag == 0:
        st[_DQ] = 0x20 if dq >= 0 else 0x20 - 0x400
    else:
        st[_DQ] = _float(mag) if dq >= 0 else _float(mag) - 0x400
    st[_SR + 1] = st[_SR]
    st[_SR] = _float(sr) if sr > -32768 else 0x20 - 0x400
    st[_PK + 1] = st[_PK]
    st[_PK] = pk0
    st[_TD] = 0 if tr == 1 else (1 if a2p < -11776 else 0)
    st[_DMS] = st[_DMS] + ((fi - st[_DMS]) >> 5)
    st[_DML] = st[_DML] + (((fi << 2) - st[_DML]) >> 7)
    ap = st[_AP]
    if tr == 1:
        ap = 256
    elif y < 1536 or st[_TD] == 1 or abs((st[_DMS] << 2) - st[_DML]) >= (st[_DML] >> 3):
        ap += (0x200 - ap) >> 4
    else:
        ap += (-ap) >> 4
    st[_AP] = ap


def _reconstruct(bits, i, y, dqln):
    sign = i >> (bits - 1)
    dql = _s16(dqln[i] + (y >> 2))
    if dql < 0:
        return -0x8000 if sign else 0
    dq = _s16((((dql & 127) + 128) << 7) >> (14 - ((dql >> 7) & 15)))
    return dq - 0x8000 if sign else dq


def _finish(bits, i, y, se, sez, st, dqln, wi, fi):
    dq = _reconstruct(bits, i, y, dqln)
    keep = 0x7FFF if bits == 5 else 0x3FFF
    sr = _s16(se - (dq & keep)) if dq < 0 else _s16(se + dq)
    _update(st, bits, y, wi[i], fi[i], dq, sr, _s16(sr + sez - se))
    return sr


def sun_encode(samples, codes, bits, st, qtab, dqln, wi, fi):
    """Sun/libsndfile encoder over int16 ``samples`` into ``codes``; ``st`` updated."""
    size = qtab.size
    for j in range(samples.size):
        sl = int(samples[j]) >> 2
        se, sez = _estimate(st, True)
        d = _s16(sl - se)
        y = _step(st)
        dqm = d if d >= 0 else -d
        e = _bitlen(dqm >> 1)
        dln = _s16((e << 7) + (((dqm << 7) >> e) & 0x7F) - (y >> 2))
        i = 0
        while i < size and dln >= qtab[i]:
            i += 1
        if d < 0:
            i = (size << 1) + 1 - i
        elif i == 0:
            i = (size << 1) + 1
        codes[j] = i
        _finish(bits, i, y, se, sez, st, dqln, wi, fi)


def sun_decode(codes, out, bits, st, dqln, wi, fi):
    """Sun/libsndfile decoder: codes -> int16 ``sr << 2`` (wrapping as a C short)."""
    mask = (1 << bits) - 1
    for j in range(codes.size):
        i = int(codes[j]) & mask
        se, sez = _estimate(st, False)
        y = _step(st)
        out[j] = _s16(_finish(bits, i, y, se, sez, st, dqln, wi, fi) << 2)


if kernels.ENABLED:
    _jit = kernels.numba.njit(cache=True, nogil=True)
    _s16 = _jit(_s16)
    _bitlen = _jit(_bitlen)
    _fmult = _jit(_fmult)
    _estimate = _jit(_estimate)
    _step = _jit(_step)
    _float = _jit(_float)
    _update = _jit(_update)
    _reconstruct = _jit(_reconstruct)
    _finish = _jit(_finish)
    sun_encode = _jit(sun_encode)
    sun_decode = _jit(sun_decode)
