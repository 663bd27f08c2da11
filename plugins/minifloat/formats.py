"""Small binary floating-point formats and exact conversion to and from them, in integer NumPy.

A format ``E e M m`` has a sign bit, ``e`` exponent bits with bias ``b`` and ``m`` mantissa bits.
Code ``(s, E, F)`` is ``(-1)**s * 2**(1 - b) * F / 2**m`` when ``E = 0`` (subnormal) and
``(-1)**s * 2**(E - b) * (1 + F / 2**m)`` otherwise, except the special codes of each family:

============  ====  ==================================================  ===============  ======
name          bias  specials                                            max finite       source
============  ====  ==================================================  ===============  ======
fp8_e4m3fn    7     NaN = S.1111.111, no inf                            448              OFP8
fp8_e5m2      15    inf = S.11111.00, NaN = S.11111.xx (xx != 0)        57344            OFP8
fp8_e4m3fnuz  8     NaN = 0x80 (the "negative zero"), no inf, no -0     240              [1]
fp8_e5m2fnuz  16    NaN = 0x80, no inf, no -0                           57344            [1]
fp6_e2m3fn    1     none                                                7.5              MX 5.3
fp6_e3m2fn    3     none                                                28               MX 5.3
fp4_e2m1fn    1     none                                                6                MX 5.3
============  ====  ==================================================  ===============  ======

OFP8: OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, §3-§5; MX: OCP Microscaling
Formats (MX) v1.0, §5.3; [1] Graphcore/AMD "8-bit numerical formats for deep neural networks"
(arXiv:2206.02915), as in ONNX ``FLOAT8E4M3FNUZ``/``FLOAT8E5M2FNUZ`` and ``ml_dtypes``.

Encoding (:func:`encode`) rounds the float64 value to nearest, ties to even, exactly and once,
on the integer bits of the double: with ``|v| = M * 2**(E - 52)`` (``M`` the 53-bit
significand) the quantum is ``2**(max(E, emin) - m)`` (``emin = 1 - b``), so
``n = RNE(M / 2**k)`` with ``k = 52 - m + max(E, emin) - E``, and the magnitude code is
``((max(E, emin) - emin) << m) + n`` (a carry out of ``n`` moves to the next exponent by
itself).  A magnitude above the largest finite code overflows: ``saturate=True`` gives the
largest finite value (OFP8 §5's saturating conversion; always the case for formats with neither
inf nor NaN), ``saturate=False`` gives inf (E5M2) or NaN (the others with a NaN).  NaN input
gives the NaN code (formats without NaN raise at the caller), inf input is an overflow.
``fnuz`` formats have no negative zero: -0 and negative values rounding to 0 give code 0.
Decoding (:func:`decode`) is exact in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MiniFloat", "FORMATS", "encode", "decode"]


@dataclass(frozen=True)
class MiniFloat:
    """Bit fields and specials of one format (see the module table)."""

    name: str
    ebits: int
    mbits: int
    bias: int
    nan: str  # "ieee" (E5M2 style, with inf), "fn" (all ones), "fnuz" (0x80), "none"

    @property
    def bits(self) -> int:
        return 1 + self.ebits + self.mbits

    @property
    def max_code(self) -> int:
        """Largest finite magnitude code."""
        top = (1 << (self.ebits + self.mbits)) - 1
        return {"ieee": top - (1 << self.mbits), "fn": top - 1}.get(self.nan, top)

    @property
    def max_value(self) -> float:
        return float(decode(np.array([self.max_code]), self)[0])

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def has_nan(self) -> bool:
        return self.nan != "none"

    @property
    def nan_code(self) -> int:
        sign = 1 << (self.ebits + self.mbits)
        return {"ieee": sign - (1 << self.mbits) + (1 << (self.mbits - 1)), "fn": sign - 1, "fnuz": sign}[self.nan]

    def __repr__(self) -> str:
        return self.name


FORMATS = {
    f.name: f
    for f in (
        MiniFloat("fp8_e4m3fn", 4, 3, 7, "fn"),
        MiniFloat("fp8_e5m2", 5, 2, 15, "ieee"),
        MiniFloat("fp8_e4m3fnuz", 4, 3, 8, "fnuz"),
        MiniFloat("fp8_e5m2fnuz", 5, 2, 16, "fnuz"),
        MiniFloat("fp6_e2m3fn", 2, 3, 1, "none"),
        MiniFloat("fp6_e3m2fn", 3, 2, 3, "none"),
        MiniFloat("fp4_e2m1fn", 2, 1, 1, "none"),
    )
}


def encode(v: np.ndarray, fmt: MiniFloat, saturate: bool = True) -> np.ndarray:
    """Codes (uint8) of the float64 values ``v``, rounded to nearest even (module docstring)."""
    u = np.ascontiguousarray(v, dtype=np.float64).view(np.uint64)
    sign = (u >> np.uint64(63)).astype(np.int64)
    a = (u & np.uint64(0x7FFF_FFFF_FFFF_FFFF)).astype(np.int64)
    raw_e = a >> 52
    frac = a & ((1 << 52) - 1)
    nan = (raw_e == 0x7FF) & (frac != 0)
    inf = (raw_e == 0x7FF) & (frac == 0)
    sig = np.where(raw_e > 0, frac | (1 << 52), frac)  # significand M
    e = np.where(raw_e > 0, raw_e - 1023, -1022)  # |v| = M * 2**(e - 52)
    ee = np.maximum(e, fmt.emin)
    k = np.minimum(52 - fmt.mbits + (ee - e), 62)
    n = sig >> k
    rem = sig & ((np.int64(1) << k) - 1)
    half = np.int64(1) << (k - 1)
    n = n + ((rem > half) | ((rem == half) & ((n & 1) == 1)))
    mag = ((ee - fmt.emin) << fmt.mbits) + n
    over = inf | (mag > fmt.max_code)
    if saturate or not fmt.has_nan:
        mag = np.where(over, fmt.max_code, mag)
    elif fmt.nan == "ieee":
        mag = np.where(over, fmt.max_code + 1, mag)
    else:
        mag = np.where(over, -1, mag)  # marks NaN, below
    sbit = 1 << (fmt.ebits + fmt.mbits)
    code = mag | (sign * sbit)
    if fmt.nan == "fnuz":
        code = np.where(mag == 0, 0, code)
    if fmt.has_nan:
        code = np.where(nan | (mag < 0), fmt.nan_code | (0 if fmt.nan == "fnuz" else sign * sbit), code)
    return code.astype(np.uint8)


def decode(codes: np.ndarray, fmt: MiniFloat) -> np.ndarray:
    """float64 values of ``codes`` (exact); NaN and inf codes decode to NaN and inf."""
    c = np.asarray(codes).astype(np.int64)
    m, sbit = fmt.mbits, 1 << (fmt.ebits + fmt.mbits)
    mag = c & (sbit - 1)
    ex, f = mag >> m, mag & ((1 << m) - 1)
    val = np.where(ex == 0, np.ldexp(f.astype(np.float64), fmt.emin - m),
                   np.ldexp((f + (1 << m)).astype(np.float64), ex - fmt.bias - m))
    val = np.where(c & sbit, -val, val)
    if fmt.nan == "ieee":
        val = np.where(mag > fmt.max_code + 1, np.nan, val)
        val = np.where(mag == fmt.max_code + 1, np.copysign(np.inf, val), val)
    elif fmt.nan == "fn":
        val = np.where(mag > fmt.max_code, np.nan, val)
    elif fmt.nan == "fnuz":
        val = np.where(c == sbit, np.nan, val)
    return val
