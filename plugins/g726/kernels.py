"""Per-sample G.726 encoder and decoder loops (ITU-T G.726 (12/90) section 4.2, Figures 2-3).

The loops call the blocks of :mod:`.blocks` in the order of the STL reference
(``g726.c``: G726_encode / G726_decode).  State is one int64 array (:data:`STATE_SIZE`
entries, layout ``S_*``) updated in place, so a stream split anywhere continues exactly.

With numba installed (and ``INWHALE_HW_NUMBA`` not ``0``, read at import) the same Python
source is compiled (``cache=True``); otherwise it runs as plain Python.  Both give the same
bits (tested).  PCM laws: ``LAW_ULAW`` (0), ``LAW_ALAW`` (1), ``LAW_LINEAR`` (2: 14-bit
uniform PCM, 16-bit samples shifted right by 2 in, ``sr`` shifted left by 2 and saturated
to int16 out, with no G.711 stage and no synchronous adjustment).
"""

from __future__ import annotations

import os

import numpy as np

from . import blocks as _b
from .tables import DQLN, FI, OFFSET, QUANT_INDEX, QUANT_LEVELS, QUANT_ROW, WI

__all__ = ["ENABLED", "STATE_SIZE", "LAW_ULAW", "LAW_ALAW", "LAW_LINEAR", "reset_state", "encode", "decode"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

LAW_ULAW, LAW_ALAW, LAW_LINEAR = 0, 1, 2

#: state layout: sr(k-1), sr(k-2) and dq(k-1..k-6) in 11-bit float format; a1, a2, b1..b6;
#: dms, dml, ap, yu, yl, td, pk(k-1), pk(k-2)
S_SR, S_A, S_B, S_DQ = 0, 2, 4, 10
S_DMS, S_DML, S_AP, S_YU, S_YL, S_TD, S_PK = 16, 17, 18, 19, 20, 21, 22
STATE_SIZE = 24


def reset_state() -> np.ndarray:
    """The reset state of section 4.2 (all delays at their reset values)."""
    st = np.zeros(STATE_SIZE, dtype=np.int64)
    st[S_SR:S_SR + 2] = 32
    st[S_DQ:S_DQ + 6] = 32
    st[S_YU] = 544
    st[S_YL] = 34816
    return st


def _predict(st, wb):
    """Signal estimate (se, sez) from the delayed state (FMULT, ACCUM)."""
    for k in range(6):
        wb[k] = _b.fmult(st[S_B + k], st[S_DQ + k])
    wa1 = _b.fmult(st[S_A], st[S_SR])
    wa2 = _b.fmult(st[S_A + 1], st[S_SR + 1])
    return _b.accum(wa1, wa2, wb)


def _scale(st):
    """Quantizer scale factor y (LIMA, MIX)."""
    ap = st[S_AP]
    al = 64 if ap >= 256 else ap >> 2
    return _b.mix(al, st[S_YU], st[S_YL])


def _update(st, bits, i, y, dq, se, sez):
    """Everything after the code is known: scale factor, speed control, tone/transition
    detection and the predictor update (sections 4.2.3-4.2.6, 4.2.8)."""
    k = OFFSET[bits] + i
    yl = st[S_YL]
    tr = _b.trans(st[S_TD], yl, dq)
    fi = FI[k]
    dmsp = _b.filta(fi, st[S_DMS])
    dmlp = _b.filtb(fi, st[S_DML])
    yup = _b.limb(_b.filtd(WI[k], y))
    st[S_YU] = yup
    st[S_YL] = _b.filte(yup, yl)
    st[S_DMS] = dmsp
    st[S_DML] = dmlp
    pk2 = st[S_PK + 1]
    pk1 = st[S_PK]
    pk0, sigpk = _b.addc(dq, sez)
    st[S_PK + 1] = pk1
    st[S_PK] = pk0
    sr = _b.addb(dq, se)
    a1 = st[S_A]
    a2 = st[S_A + 1]
    a2p = _b.limc(_b.upa2(pk0, pk1, pk2, a2, a1, sigpk))
    a1p = _b.limd(_b.upa1(pk0, pk1, a1, sigpk), a2p)
    tdp = 1 if 32768 <= a2p < 53760 else 0
    ap = st[S_AP]
    app = _b.filtc(_b.subtc(dmsp, dmlp, tdp, y), ap)
    dqs = dq >> 15
    for n in range(5, -1, -1):
        b = st[S_B + n]
        u = dqs ^ (st[S_DQ + n] >> 10)
        st[S_B + n] = 0 if tr else _b.upb(bits, u, b, dq)
        if n > 0:
            st[S_DQ + n] = st[S_DQ + n - 1]
    st[S_DQ] = _b.float_sm(dq)
    st[S_SR + 1] = st[S_SR]
    st[S_SR] = _b.float_tc(sr)
    st[S_A] = 0 if tr else a1p
    st[S_A + 1] = 0 if tr else a2p
    st[S_TD] = 0 if tr else tdp
    st[S_AP] = 256 if tr else app
    return sr


def _dequantize(bits, i, y):
    """RECONST, ADDA, ANTILOG (4.2.3): code -> 16-bit sign-magnitude dq."""
    dql = (DQLN[OFFSET[bits] + i] + (y >> 2)) & 4095
    return _b.antilog(dql, i >> (bits - 1))


def encode(samples, codes, bits, law, st):
    """Encode ``samples`` (G.711 codes or int16 for ``LAW_LINEAR``) into ``codes``; ``st`` updated."""
    wb = np.zeros(6, dtype=np.int64)
    for j in range(samples.size):
        se, sez = _predict(st, wb)
        s = int(samples[j])
        if law == LAW_LINEAR:
            sl = (s >> 2) & 16383
        else:
            sl = _b.expand(s ^ 85 if law == LAW_ALAW else s, law == LAW_ALAW)
        y = _scale(st)
        dl, ds = _b.log(_b.subta(sl, se))
        i = _b.quan(bits, (dl + 4096 - (y >> 2)) & 4095, ds, QUANT_LEVELS, QUANT_INDEX, QUANT_ROW)
        codes[j] = i
        _update(st, bits, i, y, _dequantize(bits, i, y), se, sez)


def decode(codes, out, bits, law, st):
    """Decode ``codes`` into ``out`` (G.711 codes, or int16 for ``LAW_LINEAR``); ``st`` updated."""
    wb = np.zeros(6, dtype=np.int64)
    mask = (1 << bits) - 1
    for j in range(codes.size):
        se, sez = _predict(st, wb)
        y = _scale(st)
        i = int(codes[j]) & mask
        sr = _update(st, bits, i, y, _dequantize(bits, i, y), se, sez)
        if law == LAW_LINEAR:
            v = (sr - 65536 if sr >= 32768 else sr) * 4
            out[j] = 32767 if v > 32767 else (-32768 if v < -32768 else v)
        else:
            alaw = law == LAW_ALAW
            sp = _b.compress(sr, alaw)
            dlx, dsx = _b.log(_b.subta(_b.expand(sp, alaw), se))
            dlnx = (dlx + 4096 - (y >> 2)) & 4095
            sd = _b.sync(bits, i, sp, dlnx, dsx, alaw, QUANT_LEVELS, QUANT_INDEX, QUANT_ROW)
            out[j] = sd ^ 85 if alaw else sd


if ENABLED:
    _jit = numba.njit(cache=True, nogil=True)
    for _name in _b.__all__:
        setattr(_b, _name, _jit(getattr(_b, _name)))
    _b._float11 = _jit(_b._float11)
    _predict = _jit(_predict)
    _scale = _jit(_scale)
    _update = _jit(_update)
    _dequantize = _jit(_dequantize)
    encode = _jit(encode)
    decode = _jit(decode)
