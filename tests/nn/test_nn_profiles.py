"""Requantization profiles against scalar re-implementations of their documented formulas.

The references use only Python ints, ``fractions.Fraction``, ``math.frexp`` and ``struct``'s
IEEE single-precision packing (float32 rounding of an exact double product or of a correctly
rounded double quotient is the correctly rounded float32 result, since 53 >= 2*24 + 2), so
they share no code with the NumPy implementations under test.  Accumulators include every
value around the ties of power-of-two multipliers and multipliers one ulp away.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError
from inwhale_hw.nn import PROFILES, get_profile
from inwhale_hw.nn.requant import rounding_divide_by_pot, saturating_rounding_doubling_high_mul


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def half_away(q: Fraction) -> int:
    whole = math.floor(abs(q))
    r = whole + (abs(q) - whole >= Fraction(1, 2))
    return r if q >= 0 else -r


def quantize_multiplier(m: float, single: bool = False):
    if m == 0:
        return 0, 0
    mant, shift = math.frexp(m)
    q = half_away(Fraction(mant) * 2**31)
    if q == 2**31:
        q, shift = q // 2, shift + 1
    if shift < -31:
        q, shift = 0, 0
    if single and shift > 30:
        q, shift = 2**31 - 1, 30
    return q, shift


def clamp(v, lo, hi):
    return min(max(v, lo), hi)


def ref_onnxruntime(acc, sa, sw, sy, zp, lo, hi):
    m = f32(f32(sa * sw) / sy)
    return clamp(round(f32(f32(acc) * m)) + zp, lo, hi)  # round(): ties to even


def ref_onnx_reference(acc, sa, sw, sy, zp, lo, hi):
    m = f32(f32(sa * sw) / sy)
    return clamp(round(float(acc) * m + zp), lo, hi)


def ref_tflite_reference(acc, sa, sw, sy, zp, lo, hi):
    return clamp(half_away(Fraction(float(acc) * sa * sw / sy)) + zp, lo, hi)


def _mbqm_parts(acc, sa, sw, sy, single=False):
    q, shift = quantize_multiplier(sa * sw / sy, single)
    x = acc * 2 ** max(shift, 0)
    return x, q, shift


def ref_gemmlowp(acc, sa, sw, sy, zp, lo, hi):
    x, q, shift = _mbqm_parts(acc, sa, sw, sy)
    ab = x * q
    nudged = ab + (2**30 if ab >= 0 else 1 - 2**30)
    high = int(Fraction(nudged, 2**31))  # C division truncates toward zero
    return clamp(half_away(Fraction(high, 2 ** max(-shift, 0))) + zp, lo, hi)


def ref_tflite_ruy(acc, sa, sw, sy, zp, lo, hi):
    x, q, shift = _mbqm_parts(acc, sa, sw, sy)
    y1 = math.floor(Fraction(x * q, 2**31) + Fraction(1, 2))
    return clamp(math.floor(Fraction(y1, 2 ** max(-shift, 0)) + Fraction(1, 2)) + zp, lo, hi)


def ref_dyadic(acc, sa, sw, sy, zp, lo, hi):
    b, shift = quantize_multiplier(sa * sw / sy, single=True)
    return clamp(math.floor(Fraction(acc * b, 2 ** (31 - shift)) + Fraction(1, 2)) + zp, lo, hi)


def ref_shift_only(acc, sa, sw, sy, zp, lo, hi):
    k = -round(math.log2(sa * sw / sy))
    return clamp(math.floor(Fraction(acc, 2**k) + Fraction(1, 2)) + zp, lo, hi)


REFERENCES = {
    "onnxruntime": ref_onnxruntime,
    "xnnpack": ref_onnxruntime,
    "onnx-reference": ref_onnx_reference,
    "tflite-reference": ref_tflite_reference,
    "gemmlowp": ref_gemmlowp,
    "tflite-ruy": ref_tflite_ruy,
    "dyadic": ref_dyadic,
    "shift-only": ref_shift_only,
}


def _scale_sets(rng):
    sets = []
    for p in (1, 3, 6, 9):  # exact power-of-two multipliers: ties at acc = 2^(p-1) mod 2^p
        sets.append((1.0, 2.0**-p, 1.0))
        sets.append((0.5, f32(np.nextafter(np.float32(2.0 ** (1 - p)), np.float32(1))), 1.0))
        sets.append((1.0, f32(np.nextafter(np.float32(2.0**-p), np.float32(0))), 1.0))
    for _ in range(6):
        sa, sw = f32(rng.uniform(0.001, 0.1)), f32(rng.uniform(0.001, 0.1))
        sets.append((sa, sw, f32(sa * sw * rng.uniform(20, 2000))))
    sets.append((1.0, 3.0, 1.0))  # multiplier > 1: left shift before the high multiply
    return sets


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("dtype,zp", [(np.int8, -3), (np.uint8, 131)])
def test_profile_matches_its_formula(name, dtype, zp):
    rng = np.random.default_rng(2024)
    fn = PROFILES[name]
    ref = REFERENCES[name]
    lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    checked = 0
    for sa, sw, sy in _scale_sets(rng):
        m = sa * sw / sy
        if name == "shift-only" and math.frexp(m)[0] != 0.5:
            continue
        ties = (np.arange(-140, 140) + 0.5) / m
        accs = np.unique(np.concatenate([
            (np.floor(ties).astype(np.int64)[:, None] + np.arange(-1, 3)[None, :]).ravel(),
            rng.integers(-(2**20), 2**20, 200),
        ]))
        accs = accs[np.abs(accs) < 2**31 // max(1, int(m) * 2)]
        ours = fn(accs, np.float32(sa), np.float32(sw), np.float32(sy), zp, dtype)
        expected = [ref(int(a), sa, sw, sy, zp, lo, hi) for a in accs]
        assert ours.tolist() == expected, name
        checked += accs.size
    assert checked > 2000


def test_profiles_disagree_exactly_where_their_rounding_differs():
    accs = np.array([-6, -2, 2, 6, 10])  # m = 1/4: every value is a tie
    one, quarter = np.float32(1), np.float32(0.25)
    # ties to even; half away from zero; half up then half away; half up twice
    assert PROFILES["onnxruntime"](accs, one, quarter, one, 0, np.int8).tolist() == [-2, 0, 0, 2, 2]
    assert PROFILES["tflite-reference"](accs, one, quarter, one, 0, np.int8).tolist() == [-2, -1, 1, 2, 3]
    assert PROFILES["gemmlowp"](accs, one, quarter, one, 0, np.int8).tolist() == [-2, -1, 1, 2, 3]
    assert PROFILES["tflite-ruy"](accs, one, quarter, one, 0, np.int8).tolist() == [-1, 0, 1, 2, 3]
    assert PROFILES["shift-only"](accs, one, quarter, one, 0, np.int8).tolist() == [-1, 0, 1, 2, 3]


def test_gemmlowp_primitives_edge_cases():
    imin = -(2**31)
    assert saturating_rounding_doubling_high_mul(np.array([imin]), np.array([imin])).tolist() == [2**31 - 1]
    assert saturating_rounding_doubling_high_mul(np.array([imin]), np.array([2**30])).tolist() == [-(2**30)]
    x = np.array([-6, -5, -3, -2, 2, 3, 5, 6])
    assert rounding_divide_by_pot(x, np.array(2)).tolist() == [-2, -1, -1, -1, 1, 1, 1, 2]
    assert rounding_divide_by_pot(x, np.array(1)).tolist() == [-3, -3, -2, -1, 1, 2, 3, 3]


def test_pytorch_profiles_take_float_bias_and_others_refuse_it():
    acc = np.array([10, -10])
    s = np.float32(0.5)
    y = PROFILES["pytorch-fbgemm"](acc, s, s, s, 0, np.int8, float_bias=np.float32(0.25))
    assert y.tolist() == [6, -4]  # (10 + 1) * 0.5 = 5.5 -> 6 (even); (-10 + 1) * 0.5 = -4.5 -> -4
    with pytest.raises(ParameterError, match="float_bias"):
        PROFILES["onnxruntime"](acc, s, s, s, 0, np.int8, float_bias=np.float32(1))
    with pytest.raises(ParameterError, match="power of two"):
        PROFILES["shift-only"](acc, np.float32(0.3), s, s, 0, np.int8)
    with pytest.raises(ParameterError, match="unknown requantization profile"):
        get_profile("tensorrt")
    with pytest.raises(ParameterError, match="zero_point"):
        PROFILES["onnxruntime"](acc, s, s, s, 300, np.uint8)
