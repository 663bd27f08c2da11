"""Sub-byte and minifloat element types of QuantizeLinear / DequantizeLinear (ONNX opset 19-23),
decoded from their bits here (``ml_dtypes`` is only the tests' reference).

Integers: INT4 / UINT4 and INT2 / UINT2 (two's complement / unsigned in the low bits of one
byte per element, as ``onnx.numpy_helper`` unpacks them).  Minifloats (ONNX operators.md
"Float stored in 8 bits", OCP 8-bit floating point spec; OCP MX for FP4):

============  ====  ====  ====  =====================================================
format        sign  exp   man   bias, specials
============  ====  ====  ====  =====================================================
E4M3FN         1     4     3    7; no inf, NaN = S.1111.111
E4M3FNUZ       1     4     3    8; no inf, no -0, NaN = 1.0000.000
E5M2           1     5     2    15; IEEE-like inf (S.11111.00) and NaN
E5M2FNUZ       1     5     2    16; no inf, no -0, NaN = 1.00000.00
E2M1 (FP4)     1     2     1    1; no inf, no NaN
============  ====  ====  ====  =====================================================

A value is ``(-1)^s * 2^(e - bias) * (1 + m / 2^M)``, subnormal ``2^(1 - bias) * m / 2^M`` for
``e = 0``.  Every such value is exact in float32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MINIFLOATS", "SUB_BYTE_INTS", "decode", "is_low_bit"]

#: name -> (exponent bits, mantissa bits, bias, specials) of the minifloat formats
MINIFLOATS: dict[str, tuple[int, int, int, str]] = {
    "float8_e4m3fn": (4, 3, 7, "fn"),
    "float8_e4m3fnuz": (4, 3, 8, "fnuz"),
    "float8_e5m2": (5, 2, 15, "ieee"),
    "float8_e5m2fnuz": (5, 2, 16, "fnuz"),
    "float4_e2m1fn": (2, 1, 1, "none"),
}
#: name -> (bits, signed) of the sub-byte integer formats
SUB_BYTE_INTS: dict[str, tuple[int, bool]] = {"int4": (4, True), "uint4": (4, False), "int2": (2, True),
                                              "uint2": (2, False)}


def is_low_bit(dtype: np.dtype) -> bool:
    """True for the sub-byte integer and minifloat dtypes handled here."""
    return np.dtype(dtype).name in MINIFLOATS or np.dtype(dtype).name in SUB_BYTE_INTS


def _minifloat(bits: np.ndarray, name: str) -> np.ndarray:
    e_bits, m_bits, bias, specials = MINIFLOATS[name]
    width = 1 + e_bits + m_bits
    b = bits.astype(np.int64) & ((1 << width) - 1)
    sign = (b >> (width - 1)) & 1
    exp = (b >> m_bits) & ((1 << e_bits) - 1)
    man = b & ((1 << m_bits) - 1)
    normal = np.ldexp(1.0 + man / (1 << m_bits), exp - bias)
    sub = np.ldexp(man / (1 << m_bits), 1 - bias)
    mag = np.where(exp == 0, sub, normal)
    value = np.where(sign == 1, -mag, mag)
    top = (1 << e_bits) - 1
    if specials == "fn":
        value = np.where((exp == top) & (man == (1 << m_bits) - 1), np.nan, value)
    elif specials == "fnuz":
        value = np.where(b == 1 << (width - 1), np.nan, value)
    elif specials == "ieee":
        value = np.where((exp == top) & (man == 0), np.where(sign == 1, -np.inf, np.inf), value)
        value = np.where((exp == top) & (man != 0), np.nan, value)
    return value.astype(np.float32)


def decode(q: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(values, is_float)``: int32 codes of an integer tensor (sub-byte types sign-extended
    from their bits) or the float32 values of a minifloat tensor."""
    q = np.asarray(q)
    name = q.dtype.name
    if name in MINIFLOATS:
        return _minifloat(q.view(np.uint8), name), True
    if name in SUB_BYTE_INTS:
        bits, signed = SUB_BYTE_INTS[name]
        raw = q.view(np.uint8).astype(np.int32) & ((1 << bits) - 1)
        return (np.where(raw >= 1 << (bits - 1), raw - (1 << bits), raw) if signed else raw), False
    return q.astype(np.int32), False
