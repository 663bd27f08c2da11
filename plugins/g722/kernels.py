"""G.722 sub-band ADPCM loops (ITU-T G.722 sections 3 and 4 / 6), bit-exact with the STL C code.

Each loop is sequential (every code depends on the adapted predictor), so it runs compiled by
numba (``cache=True``) when available; ``INWHALE_HW_NUMBA=0`` (read at import) runs the very
same functions as plain Python, giving the same bits.

Arithmetic is the STL's 16-bit basic operators: ``add``/``sub`` saturate to [-32768, 32767],
``mult(a, b) = sat16((a * b) >> 15)``, ``shl`` saturates, ``shr`` is arithmetic, 32-bit
accumulators saturate to [-2^31, 2^31 - 1] (:func:`_sat32`).

State of one direction: an int64 vector of :data:`STATE_SIZE` entries: two bands of
:data:`BAND_SIZE` (lower band at 0, higher band at :data:`HIGH`), each ``a[0..2]`` (pole
predictor, ``a[1..2]`` used), ``b[0..6]`` (zero predictor), ``det`` (step size), ``d[0..6]``
(quantized differences), ``nb`` (log step size), ``p[0..2]`` (partial reconstructions),
``r[0..2]`` (reconstructions), ``s``, ``sp``, ``sz`` (predictions); then the 24-word QMF delay
line at :data:`QMF`.
"""

from __future__ import annotations

import os

import numpy as np

from .tables import (
    DET_HIGH_RESET, DET_LOW_RESET, IH2, ILA, MISIH, MISIL, OQ2, OQ4, OQ5, OQ6, Q6, QMF_COEFS,
    RIL4, RIL5, RIL6, RISI5, RISI6, RISIL, SIH, WH, WL,
)

__all__ = ["BAND_SIZE", "ENABLED", "HIGH", "QMF", "STATE_SIZE", "decode", "encode", "reset_state"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

A, B, DET, D, NB, P, R, S, SP, SZ = 0, 3, 10, 11, 18, 19, 22, 25, 26, 27
BAND_SIZE = 28
HIGH = BAND_SIZE
QMF = 2 * BAND_SIZE
STATE_SIZE = QMF + 24


def reset_state() -> np.ndarray:
    """The state after the G.722 reset (section 3.8): zeros, DETL = 32, DETH = 8."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[DET] = DET_LOW_RESET
    state[HIGH + DET] = DET_HIGH_RESET
    return state


def _sat16(x):
    return 32767 if x > 32767 else (-32768 if x < -32768 else x)


def _sat32(x):
    return 2147483647 if x > 2147483647 else (-2147483648 if x < -2147483648 else x)


def _mult(a, b):
    return _sat16((a * b) >> 15)


def _shl(a, n):
    return _sat16(a << n)


def _limit(x):
    """LIMIT: clamp to the 15-bit signal range [-16384, 16383]."""
    return 16383 if x > 16383 else (-16384 if x < -16384 else x)


def _sign(x):
    """``shr(x, 15)``: -1 for negative, 0 otherwise."""
    return -1 if x < 0 else 0


def _adapt(st, o, dq, nbp, det):
    """The predictor update shared by both bands and both directions (blocks PARREC, RECONS,
    UPZERO, UPPOL2, UPPOL1, FILTEZ, FILTEP, PREDIC) after the quantized difference ``dq``
    and the new log step ``nbp`` / step ``det`` are known."""
    st[o + D] = dq
    st[o + NB] = nbp
    st[o + DET] = det
    st[o + P] = _sat16(dq + st[o + SZ])
    st[o + R] = _sat16(st[o + S] + dq)
    # UPZERO: sign-sign update of the six zero-predictor coefficients, shift of d
    wd1 = 0 if dq == 0 else 128
    sg0 = _sign(dq)
    for i in range(6, 0, -1):
        wd2 = wd1 if sg0 == _sign(st[o + D + i]) else -wd1
        st[o + B + i] = _sat16(wd2 + _mult(st[o + B + i], 32640))
        st[o + D + i] = st[o + D + i - 1]
    # UPPOL2
    sg0 = _sign(st[o + P])
    sg1 = _sign(st[o + P + 1])
    sg2 = _sign(st[o + P + 2])
    wd1 = _shl(st[o + A + 1], 2)
    wd2 = _sat16(-wd1) if sg0 == sg1 else wd1
    wd2 = wd2 >> 7
    wd3 = 128 if sg0 == sg2 else -128
    apl2 = _sat16(_sat16(wd2 + wd3) + _mult(st[o + A + 2], 32512))
    apl2 = 12288 if apl2 > 12288 else (-12288 if apl2 < -12288 else apl2)
    st[o + A + 2] = apl2
    # UPPOL1
    wd1 = 192 if sg0 == sg1 else -192
    apl1 = _sat16(wd1 + _mult(st[o + A + 1], 32640))
    wd3 = _sat16(15360 - apl2)
    if apl1 > wd3:
        apl1 = wd3
    elif _sat16(apl1 + wd3) < 0:
        apl1 = _sat16(-wd3)
    st[o + P + 2] = st[o + P + 1]
    st[o + P + 1] = st[o + P]
    st[o + A + 1] = apl1
    # FILTEZ
    sz = 0
    for i in range(6, 0, -1):
        sz = _sat16(sz + _mult(_sat16(2 * st[o + D + i]), st[o + B + i]))
    st[o + SZ] = sz
    # FILTEP
    st[o + R + 2] = st[o + R + 1]
    st[o + R + 1] = st[o + R]
    sp = _sat16(_mult(st[o + A + 1], _sat16(2 * st[o + R + 1])) + _mult(st[o + A + 2], _sat16(2 * st[o + R + 2])))
    st[o + SP] = sp
    st[o + S] = _sat16(sp + sz)


def _low_adapt(st, il):
    """INVQAL, LOGSCL, SCALEL and the predictor update for lower-band code ``il`` (6 bits)."""
    det = st[DET]
    ril = il >> 2
    wd1 = OQ4[RIL4[ril]] << 3
    dlt = _mult(det, -wd1 if RISIL[ril] != 0 else wd1)
    nbpl = _sat16(_mult(st[NB], 32512) + WL[RIL4[ril]])
    nbpl = 0 if nbpl < 0 else (18432 if nbpl > 18432 else nbpl)
    detl = (ILA[((nbpl >> 6) & 511) + 64] + 1) << 2
    _adapt(st, 0, dlt, nbpl, detl)


def _high_adapt(st, ih):
    """INVQAH, LOGSCH, SCALEH and the predictor update for higher-band code ``ih`` (2 bits)."""
    o = HIGH
    wd1 = OQ2[IH2[ih]] << 3
    dh = _mult(-wd1 if SIH[ih] != 0 else wd1, st[o + DET])
    nbph = _sat16(_mult(st[o + NB], 32512) + WH[IH2[ih]])
    nbph = 0 if nbph < 0 else (22528 if nbph > 22528 else nbph)
    deth = (ILA[(nbph >> 6) & 511] + 1) << 2
    _adapt(st, o, dh, nbph, deth)


def _quantl(el, detl):
    """QUANTL: 6-bit code of the lower-band difference ``el``."""
    sil = _sign(el)
    wd = el if sil == 0 else 32767 - (el & 32767)
    mil = 1
    while mil < 30 and _mult(Q6[mil] << 3, detl) <= wd:
        mil += 1
    return MISIL[sil + 1, mil]


def _quanth(eh, deth):
    """QUANTH: 2-bit code of the higher-band difference ``eh``."""
    sih = _sign(eh)
    wd = eh if sih == 0 else 32767 - (eh & 32767)
    mih = 2 if wd >= _mult(564 << 3, deth) else 1
    return MISIH[sih + 1, mih]


def _invqbl(ilr, detl, mode):
    """INVQBL: the decoder's lower-band reconstruction at 64 (mode 1), 56 (2) or 48 (3) kbit/s."""
    if mode == 2:
        ril = ilr >> 1
        wd1 = OQ5[RIL5[ril]] << 3
        neg = RISI5[ril] != 0
    elif mode == 3:
        ril = ilr >> 2
        wd1 = OQ4[RIL4[ril]] << 3
        neg = RISIL[ril] != 0
    else:
        wd1 = OQ6[RIL6[ilr]] << 3
        neg = RISI6[ilr] != 0
    return _mult(detl, -wd1 if neg else wd1)


def encode(pcm, st):
    """Encode int64 samples (an even count, 16 kHz) to one uint8 code per pair, updating ``st``.

    Per pair: the transmit QMF (section 3.1) gives ``xl``, ``xh``; the band encoders code them;
    the octet is ``ih << 6 | il``.
    """
    n = pcm.size // 2
    codes = np.empty(n, dtype=np.uint8)
    for k in range(n):
        # QMF transmit filter: delay[1] = first sample, delay[0] = second
        st[QMF + 1] = pcm[2 * k]
        st[QMF] = pcm[2 * k + 1]
        acca = 0
        accb = 0
        for i in range(12):
            acca = _sat32(acca + QMF_COEFS[2 * i] * st[QMF + 2 * i])
            accb = _sat32(accb + QMF_COEFS[2 * i + 1] * st[QMF + 2 * i + 1])
        for i in range(22):
            st[QMF + 23 - i] = st[QMF + 21 - i]
        low = _sat32(acca + accb)
        high = _sat32(acca - accb)
        xl = _limit(_sat32(low + low) >> 16)
        xh = _limit(_sat32(high + high) >> 16)
        il = _quantl(_sat16(xl - st[S]), st[DET])
        _low_adapt(st, il)
        ih = _quanth(_sat16(xh - st[HIGH + S]), st[HIGH + DET])
        _high_adapt(st, ih)
        codes[k] = ((ih << 6) + il) & 0xFF
    return codes


def decode(codes, st, mode):
    """Decode uint8 codes to two int16 samples each (16 kHz), updating ``st`` (section 4/6)."""
    n = codes.size
    out = np.empty(2 * n, dtype=np.int16)
    for k in range(n):
        il = codes[k] & 0x3F
        ih = (codes[k] >> 6) & 0x03
        rl = _limit(_sat16(st[S] + _invqbl(il, st[DET], mode)))
        _low_adapt(st, il)
        _high_adapt(st, ih)
        rh = _limit(st[HIGH + R])
        # QMF receive filter
        st[QMF + 1] = _sat16(rl + rh)
        st[QMF] = _sat16(rl - rh)
        acca = 0
        accb = 0
        for i in range(12):
            acca = _sat32(acca + QMF_COEFS[2 * i] * st[QMF + 2 * i])
            accb = _sat32(accb + QMF_COEFS[2 * i + 1] * st[QMF + 2 * i + 1])
        for i in range(22):
            st[QMF + 23 - i] = st[QMF + 21 - i]
        out[2 * k] = _sat32(acca << 4) >> 16
        out[2 * k + 1] = _sat32(accb << 4) >> 16
    return out


if ENABLED:
    _jit = numba.njit(cache=True, nogil=True)
    _sat16 = _jit(_sat16)
    _sat32 = _jit(_sat32)
    _mult = _jit(_mult)
    _shl = _jit(_shl)
    _limit = _jit(_limit)
    _sign = _jit(_sign)
    _adapt = _jit(_adapt)
    _low_adapt = _jit(_low_adapt)
    _high_adapt = _jit(_high_adapt)
    _quantl = _jit(_quantl)
    _quanth = _jit(_quanth)
    _invqbl = _jit(_invqbl)
    encode = _jit(encode)
    decode = _jit(decode)
