"""The built-in ``uniform`` quantizer: conformance, and codes against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import inwhale_hw
from inwhale_hw.errors import FixedPointOverflowError, InputError, ParameterError
from inwhale_hw.plugins.tensor.uniform import UniformQuantizer
from inwhale_hw.testing import check_quantizer

CONFIGS = [
    {},
    {"bits": 1, "mode": "mid-rise"},
    {"bits": 4, "mode": "mid-rise", "signed": False},
    {"bits": 16, "mode": "dead-zone", "reconstruction": 0.375},
    {"bits": 3, "symmetric": False, "signed": False},
    {"bits": 12, "symmetric": False, "mode": "mid-rise"},
    {"bits": 8, "scale": 0.05, "overflow": "wrap"},
    {"bits": 6, "rounding": "RND_INF", "overflow": "SAT_SYM"},
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "default")
def test_conformance(params):
    report = check_quantizer(UniformQuantizer, params)
    assert "bad input errors" in report.checks


def test_registered_by_name():
    q = inwhale_hw.get_quantizer("uniform", bits=4, scale=0.5)
    assert isinstance(q, UniformQuantizer) and "uniform" in inwhale_hw.list_quantizers("tensor")


def _ref_codes(x, step, zero, bits, signed, mode, rounding="HALF_EVEN", overflow="SAT"):
    """Exact reference: Fraction quotient, rounding by definition, Python-int code range."""
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    out = []
    for v in x:
        u = Fraction(float(v)) / Fraction(step)
        if mode == "mid-rise":
            q = math.floor(u)
        elif mode == "dead-zone":
            q = math.trunc(u)
        elif rounding == "HALF_EVEN":
            q = round(u)  # Python rounds Fractions half to even
        else:  # HALF_AWAY
            q = math.floor(abs(u) + Fraction(1, 2)) * (1 if u >= 0 else -1)
        c = q + zero
        if not lo <= c <= hi:
            c = {"SAT": min(max(c, lo), hi), "WRAP": (c - lo) % 2**bits + lo, "SAT_ZERO": zero}[overflow]
        out.append(c)
    return out


@pytest.mark.parametrize("mode", ["mid-tread", "mid-rise", "dead-zone"])
@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("overflow", ["SAT", "WRAP", "SAT_ZERO"])
def test_power_of_two_step_is_exact_against_fractions(mode, signed, overflow):
    # x / D is exact for D = 2**-5, so the reference is fully independent of float division
    rng = np.random.default_rng(len(mode) * 7 + signed)
    step, bits = 2.0**-5, 7
    k = rng.integers(-200, 200, 300)
    x = np.concatenate([rng.normal(0, 2, 400), (k + 0.5) * step, k * step, np.nextafter((k + 0.5) * step, 0)])
    q = UniformQuantizer(bits=bits, mode=mode, signed=signed, scale=step, overflow=overflow)
    zero = 0 if signed else 64
    assert q.encode(x).tolist() == _ref_codes(x, step, zero, bits, signed, mode, overflow=overflow)
    codes = q.encode(x)
    level = [Fraction(int(c) - zero) for c in codes]
    if mode == "mid-rise":
        level = [lv + Fraction(1, 2) for lv in level]
    elif mode == "dead-zone":
        level = [lv + (Fraction(1, 2) * (1 if lv > 0 else -1) if lv else 0) for lv in level]
    assert [Fraction(v) for v in q.decode(codes)] == [lv * Fraction(step) for lv in level]


def test_fitted_scale_codes_match_fractions_outside_the_double_rounding_window():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 3000)
    for params in ({"bits": 8}, {"bits": 5, "symmetric": False, "signed": False}, {"bits": 10, "mode": "mid-rise"}):
        q = UniformQuantizer(**params).fit(x)
        got = q.encode(x).tolist()
        want = _ref_codes(x, q.step, q.zero, q.bits, q.signed, q.mode)
        for g, w, v in zip(got, want, x):
            if g != w:  # only allowed when the exact quotient lies within 2**-50 of a decision point
                u = Fraction(float(v)) / Fraction(q.step)
                frac = u - math.floor(u)
                assert min(abs(frac - Fraction(1, 2)), frac, 1 - frac) < Fraction(1, 2**50)
        assert sum(g != w for g, w in zip(got, want)) <= 1


def test_fit_rules():
    x = np.array([-3.0, 0.5, 1.5])
    assert UniformQuantizer(bits=8).fit(x).step == 3.0 / 127
    assert UniformQuantizer(bits=8, mode="mid-rise").fit(x).step == 3.0 / 127.5
    assert UniformQuantizer(bits=8, mode="dead-zone").fit(x).step == 3.0 / 127.5
    a = UniformQuantizer(bits=8, symmetric=False, signed=False).fit(x)
    assert a.step == 4.5 / 255 and a.zero == 0 - round(-3.0 / a.step) == 170
    assert a.decode(a.encode([0.0])).tolist() == [0.0]  # zero is exactly representable
    assert UniformQuantizer(bits=8).fit(np.zeros(5)).step == 1.0
    codes = UniformQuantizer(bits=8).fit(x).encode(x)
    assert codes.dtype == np.int8 and codes.tolist() == [-127, 21, 64]


def test_errors():
    with pytest.raises(ParameterError, match="scale is not set"):
        UniformQuantizer().encode([0.0])
    with pytest.raises(ParameterError, match="zero_point=3"):
        UniformQuantizer(zero_point=3)
    with pytest.raises(ParameterError, match="'FLOOR'"):
        UniformQuantizer(mode="mid-rise", rounding="floor")
    with pytest.raises(ParameterError, match="-1.0"):
        UniformQuantizer(scale=-1.0)
    with pytest.raises(ParameterError, match="'stochastic'"):
        UniformQuantizer(rounding="stochastic")
    with pytest.raises(ParameterError, match="dead-zone"):
        UniformQuantizer(mode="dead-zone", bits=1)
    q = UniformQuantizer(bits=4, scale=1.0, overflow="error")
    with pytest.raises(FixedPointOverflowError) as info:
        q.encode([0.0, 9.0, -20.0])
    assert (info.value.count, info.value.first_index) == (2, 1)
    with pytest.raises(InputError, match="flat index 1"):
        q.encode([0.0, np.inf])
    with pytest.raises(InputError, match=r"\[-8, 7\]"):
        q.decode(np.array([8]))
