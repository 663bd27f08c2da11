"""The G.726 functional blocks (ITU-T G.726 (12/90) section 4.2), one function each.

Every value is carried as the standard's unsigned bit pattern (two's complement or
sign-magnitude as the standard states the width), so the arithmetic is the standard's
modular arithmetic: 16-bit ``dq`` is sign-magnitude (bit 15 sign, 15-bit magnitude), ``se``,
``sez`` 15-bit and ``sr`` 16-bit two's complement, predictor coefficients 16-bit two's
complement (a1, a2 with 14 fractional bits, b1..b6 the same), ``y`` 13-bit, ``yl`` 19-bit,
delayed ``sr`` and ``dq`` in the 11-bit floating format (sign, 4-bit exponent, 6-bit
mantissa).  The block names and bit operations follow the STL reference (``g726.c``)
block for block, which this module is tested against bit for bit.

These are plain Python functions over ints; :mod:`.kernels` compiles them with numba
when it is installed (the same source, so the same bits).
"""

from __future__ import annotations

__all__ = [
    "expand", "compress", "subta", "log", "quan", "antilog", "fmult", "accum", "mix",
    "filtd", "filte", "limb", "filta", "filtb", "filtc", "subtc", "addb", "addc",
    "float_sm", "float_tc", "upa1", "upa2", "limc", "limd", "upb", "trans", "sync",
]


def expand(s, alaw):
    """EXPAND (4.2.1): G.711 code (A-law already XOR 0x55) -> 14-bit two's complement ``sl``."""
    s1 = s ^ 128
    if alaw:
        sig = 0
        if s1 >= 128:
            s1 -= 128
            sig = 4096
        iexp = s1 >> 4
        mant = s1 - (iexp << 4)
        ss = ((mant << 1) + 1 + sig) if iexp == 0 else ((1 << (iexp - 1)) * ((mant << 1) + 33) + sig)
        sss = ss >> 12
        ssq = (ss & 4095) << 1
    else:
        sig = 0
        if s1 >= 128:
            s1 -= 128
            sig = 8192
        s1 ^= 127
        iexp = s1 >> 4
        mant = s1 - (iexp << 4)
        ss = ((mant << 1) + sig) if iexp == 0 else ((1 << iexp) * ((mant << 1) + 33) - 33 + sig)
        sss = ss >> 13
        ssq = ss & 8191
    return ssq if sss == 0 else (16384 - ssq) & 16383


def compress(sr, alaw):
    """COMPRESS (4.2.7): 16-bit ``sr`` -> G.711 code (A-law before the final XOR 0x55)."""
    neg = sr >> 15
    im = sr if neg == 0 else (65536 - sr) & 32767
    if alaw:
        if sr == 32768:
            im = 2
        imag = (im >> 1) if neg == 0 else ((im + 1) >> 1)
        if neg:
            imag -= 1
        if imag > 4095:
            imag = 4095
        iesp = 7
        for k in range(1, 8):
            imag += imag
            if imag >= 4096:
                break
            iesp = 7 - k
        imag = (imag & 4095) >> 8
        sp = imag + (iesp << 4) + (128 if neg else 0)
        return sp ^ 128
    imag = im
    if imag > 8158:
        imag = 8158
    imag += 1
    iesp = 0
    ofst = 31
    if imag > ofst:
        ofst1 = ofst
        for iesp in range(1, 9):
            ofst1 = ofst
            ofst += 1 << (iesp + 5)
            if imag <= ofst:
                break
        imag -= ofst1 + 1
    imag //= 1 << (iesp + 1)
    sp = imag + (iesp << 4) + (128 if neg else 0)
    return sp ^ 128 ^ 127


def subta(sl, se):
    """SUBTA: d = sl - se, 16-bit two's complement from 14-bit sl and 15-bit se."""
    sli = sl if (sl >> 13) == 0 else sl + 49152
    sei = se if (se >> 14) == 0 else se + 32768
    return (sli + 65536 - sei) & 65535


def log(d):
    """LOG (4.2.2): 16-bit d -> (dl, ds): 11-bit log2|d| (4-bit exponent, 7-bit mantissa) and sign."""
    ds = d >> 15
    dqm = (65536 - d) & 32767 if ds else d
    exp_ = 0
    while exp_ < 14 and dqm >= (2 << exp_):
        exp_ += 1
    mant = ((dqm << 7) >> exp_) & 127
    return (exp_ << 7) + mant, ds


def quan(bits, dln, ds, levels, index, row):
    """QUAN (4.2.2, Tables 1-4): code word I from the normalized log difference ``dln``."""
    k = row[bits]
    while dln < levels[k]:
        k += 1
    i = index[k]
    top = (1 << bits) - 1
    if ds:
        i = top - i
    if bits != 2 and i == 0:
        i = top
    return i


def antilog(dql, dqs):
    """ANTILOG (4.2.3): 12-bit log ``dql`` and sign -> 16-bit sign-magnitude dq."""
    dex = (dql >> 7) & 15
    dqt = (dql & 127) + 128
    dqmag = 0 if (dql >> 11) else ((dqt << 7) >> (14 - dex))
    return (dqs << 15) + dqmag


def fmult(an, srn):
    """FMULT (4.2.6): 16-bit coefficient times an 11-bit floating value -> 16-bit product."""
    ans = an >> 15
    anmag = (an >> 2) if ans == 0 else (16384 - (an >> 2)) & 8191
    anexp = 0
    while anexp < 13 and anmag >= (1 << anexp):
        anexp += 1
    anmant = 32 if anmag == 0 else (anmag << 6) >> anexp
    wans = (srn >> 10) ^ ans
    wanexp = ((srn >> 6) & 15) + anexp
    wanmant = (((srn & 63) * anmant) + 48) >> 4
    if wanexp <= 26:
        wanmag = (wanmant << 7) >> (26 - wanexp)
    else:
        wanmag = ((wanmant << 7) << (wanexp - 26)) & 32767
    return wanmag if wans == 0 else (65536 - wanmag) & 65535


def accum(wa1, wa2, wb):
    """ACCUM (4.2.6): signal estimate se and the sixth-order part sez (15-bit each)."""
    sezi = 0
    for k in range(6):
        sezi = (sezi + wb[k]) & 65535
    sei = (((sezi + wa2) & 65535) + wa1) & 65535
    return sei >> 1, sezi >> 1


def mix(al, yu, yl):
    """MIX (4.2.3): y = al * yu + (1 - al) * yl, 13-bit."""
    ylh = yl >> 6
    dif = (yu + 16384 - ylh) & 16383
    difs = dif >> 13
    difm = dif if difs == 0 else (16384 - dif) & 8191
    prodm = (difm * al) >> 6
    prod = prodm if difs == 0 else (16384 - prodm) & 16383
    return (ylh + prod) & 8191


def filtd(wi, y):
    """FILTD (4.2.3): unlimited fast scale factor yut = (1 - 2**-5) y + 2**-5 W(I)."""
    dif = ((wi << 5) + 131072 - y) & 131071
    difsx = (dif >> 5) if (dif >> 16) == 0 else (dif >> 5) + 4096
    return (y + difsx) & 8191


def limb(yut):
    """LIMB (4.2.3): limit yup to 1.06 <= yup <= 10.00 (544..5120)."""
    if ((yut + 15840) & 16383) >> 13 == 1:
        return 544
    if ((yut + 11264) & 16383) >> 13 == 0:
        return 5120
    return yut


def filte(yup, yl):
    """FILTE (4.2.3): slow scale factor ylp = (1 - 2**-6) yl + 2**-6 yup, 19-bit."""
    dif = (yup + ((1048576 - yl) >> 6)) & 16383
    difsx = dif if (dif >> 13) == 0 else dif + 507904
    return (yl + difsx) & 524287


def filta(fi, dms):
    """FILTA (4.2.4): short-term average dmsp = (1 - 2**-5) dms + 2**-5 F(I), 12-bit."""
    dif = ((fi << 9) + 8192 - dms) & 8191
    difsx = (dif >> 5) if (dif >> 12) == 0 else (dif >> 5) + 3840
    return (difsx + dms) & 4095


def filtb(fi, dml):
    """FILTB (4.2.4): long-term average dmlp = (1 - 2**-7) dml + 2**-7 F(I), 14-bit."""
    dif = ((fi << 11) + 32768 - dml) & 32767
    difsx = (dif >> 7) if (dif >> 14) == 0 else (dif >> 7) + 16128
    return (difsx + dml) & 16383


def filtc(ax, ap):
    """FILTC (4.2.4): speed control app = (1 - 2**-4) ap + 2**-3 ax, 10-bit."""
    dif = ((ax << 9) + 2048 - ap) & 2047
    difsx = (dif >> 4) if (dif >> 10) == 0 else (dif >> 4) + 896
    return (difsx + ap) & 1023


def subtc(dmsp, dmlp, tdp, y):
    """SUBTC (4.2.4): ax = 1 unless y >= 3, |dms - dml| < dml / 8 and no tone."""
    dif = ((dmsp << 2) + 32768 - dmlp) & 32767
    difm = dif if (dif >> 14) == 0 else (32768 - dif) & 16383
    return 0 if (y >= 1536 and difm < (dmlp >> 3) and tdp == 0) else 1


def addb(dq, se):
    """ADDB (4.2.6): reconstructed signal sr = dq + se, 16-bit two's complement."""
    dqi = dq if (dq >> 15) == 0 else (65536 - (dq & 32767)) & 65535
    sei = se if (se >> 14) == 0 else 32768 + se
    return (dqi + sei) & 65535


def addc(dq, sez):
    """ADDC (4.2.5): sign pk0 of dq + sez and sigpk (1 when it is zero)."""
    dqi = dq if (dq >> 15) == 0 else (65536 - (dq & 32767)) & 65535
    sezi = sez if (sez >> 14) == 0 else sez + 32768
    dqsez = (dqi + sezi) & 65535
    return dqsez >> 15, 1 if dqsez == 0 else 0


def _float11(sign, mag):
    exp_ = 0
    while exp_ < 15 and mag >= (1 << exp_):
        exp_ += 1
    mant = 32 if mag == 0 else (mag << 6) >> exp_
    return (sign << 10) + (exp_ << 6) + mant


def float_sm(dq):
    """FLOATA (4.2.6): sign-magnitude dq -> 11-bit floating dq0."""
    return _float11(dq >> 15, dq & 32767)


def float_tc(sr):
    """FLOATB (4.2.6): two's complement sr -> 11-bit floating sr0."""
    srs = sr >> 15
    return _float11(srs, sr if srs == 0 else (65536 - sr) & 32767)


def upa1(pk0, pk1, a1, sigpk):
    """UPA1 (4.2.5): a1t = (1 - 2**-8) a1 + (3 * 2**-8) sgn(p0) sgn(p1)."""
    uga1 = 0 if sigpk == 1 else (192 if (pk0 ^ pk1) == 0 else 65344)
    ash = a1 >> 8
    ula1 = (65536 - ash) & 65535 if (a1 >> 15) == 0 else (65536 - (ash + 65280)) & 65535
    return (a1 + ((uga1 + ula1) & 65535)) & 65535


def upa2(pk0, pk1, pk2, a2, a1, sigpk):
    """UPA2 (4.2.5): a2t = (1 - 2**-7) a2 + 2**-7 (sgn p0 p2 - f(a1) sgn p0 p1)."""
    uga2a = 16384 if (pk0 ^ pk2) == 0 else 114688
    if (a1 >> 15) == 0:
        fa1 = (a1 << 2) if a1 <= 8191 else 8191 << 2
    else:
        fa1 = ((a1 << 2) & 131071) if a1 >= 57345 else 24577 << 2
    fa = fa1 if (pk0 ^ pk1) else (131072 - fa1) & 131071
    uga2b = (uga2a + fa) & 131071
    if sigpk == 1:
        uga2 = 0
    else:
        uga2 = (uga2b >> 7) + 64512 if (uga2b >> 16) else uga2b >> 7
    ula2 = (65536 - (a2 >> 7)) & 65535 if (a2 >> 15) == 0 else (65536 - ((a2 >> 7) + 65024)) & 65535
    return (a2 + ((uga2 + ula2) & 65535)) & 65535


def limc(a2t):
    """LIMC (4.2.5): |a2p| <= 0.75."""
    if 32768 <= a2t <= 53248:
        return 53248
    if 12288 <= a2t <= 32767:
        return 12288
    return a2t


def limd(a1t, a2p):
    """LIMD (4.2.5): |a1p| <= 1 - 2**-4 - a2p."""
    a1ul = (15360 + 65536 - a2p) & 65535
    a1ll = (a2p + 65536 - 15360) & 65535
    if 32768 <= a1t <= a1ll:
        return a1ll
    if a1ul <= a1t <= 32767:
        return a1ul
    return a1t


def upb(bits, u, b, dq):
    """UPB (4.2.5): bn = (1 - 2**-8) bn + 2**-7 sgn(dq) sgn(dq_n); leak 2**-9 at 40 kbit/s."""
    leak, param = (8, 65280) if bits != 5 else (9, 65408)
    ugb = 0 if (dq & 32767) == 0 else (128 if u == 0 else 65408)
    bl = b >> leak
    ulb = (65536 - bl) & 65535 if (b >> 15) == 0 else (65536 - (bl + param)) & 65535
    return (b + ((ugb + ulb) & 65535)) & 65535


def trans(td, yl, dq):
    """TRANS (4.2.8): transition detected when |dq| > 24 * 2**(yl) with a tone present."""
    ylint = yl >> 15
    thr1 = (((yl >> 10) & 31) + 32) << ylint
    thr2 = 31744 if ylint > 9 else thr1
    dqthr = (thr2 + (thr2 >> 1)) >> 1
    return 1 if ((dq & 32767) > dqthr and td == 1) else 0


def sync(bits, i, sp, dlnx, dsx, alaw, levels, index, row):
    """SYNC (4.2.7): synchronous coding adjustment of the decoder's G.711 output ``sp``.

    The code ``id`` that re-encoding ``sp`` would give is compared with ``i`` (both as
    ordinals, code XOR 2**(bits-1)); the output moves one G.711 level towards agreement.
    """
    half = 1 << (bits - 1)
    idd = quan(bits, dlnx, dsx, levels, index, row) ^ half
    im = i ^ half
    ss = (sp & 128) >> 7
    mask = sp & 127
    if alaw:
        if idd > im and ss == 1 and mask == 0:
            ss = 0
        elif idd > im and ss == 1 and mask != 0:
            mask -= 1
        elif idd > im and ss == 0 and mask != 127:
            mask += 1
        elif idd < im and ss == 1 and mask != 127:
            mask += 1
        elif idd < im and ss == 0 and mask == 0:
            ss = 1
        elif idd < im and ss == 0 and mask != 0:
            mask -= 1
    else:
        if idd > im and ss == 1 and mask == 127:
            ss = 0
            mask -= 1
        elif idd > im and ss == 1 and mask != 127:
            mask += 1
        elif idd > im and ss == 0 and mask != 0:
            mask -= 1
        elif idd < im and ss == 1 and mask != 0:
            mask -= 1
        elif idd < im and ss == 0 and mask == 127:
            ss = 1
        elif idd < im and ss == 0 and mask != 127:
            mask += 1
    return mask + (ss << 7)
