"""Scalar minifloats: every code and random/tie inputs bit-exact with ``ml_dtypes`` casts."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import InputError
from inwhale_hw.plugins.minifloat.formats import FORMATS, decode, encode
from inwhale_hw.plugins.minifloat.model import MiniFloatQuantizer
from inwhale_hw.testing import check_quantizer

md = pytest.importorskip("ml_dtypes", reason="ml_dtypes (test extra) is the reference")

ML = {
    "fp8_e4m3fn": "float8_e4m3fn", "fp8_e5m2": "float8_e5m2", "fp8_e4m3fnuz": "float8_e4m3fnuz",
    "fp8_e5m2fnuz": "float8_e5m2fnuz", "fp6_e2m3fn": "float6_e2m3fn", "fp6_e3m2fn": "float6_e3m2fn",
    "fp4_e2m1fn": "float4_e2m1fn",
}


def _ref_values(name):
    fmt = FORMATS[name]
    codes = np.arange(1 << fmt.bits, dtype=np.uint8)
    return codes, codes.view(getattr(md, ML[name])).astype(np.float64)


def _ref_encode(x, name):
    return np.asarray(x, np.float64).astype(getattr(md, ML[name])).view(np.uint8)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_code_decodes_and_round_trips(name):
    fmt = FORMATS[name]
    codes, ref = _ref_values(name)
    got = decode(codes, fmt)
    assert np.array_equal(got, ref, equal_nan=True)
    num = ~np.isnan(ref)
    assert np.array_equal(np.signbit(got[num]), np.signbit(ref[num]))  # -0 where the format has it
    assert fmt.max_value == float(md.finfo(getattr(md, ML[name])).max)
    back = encode(ref, fmt, saturate=False)
    assert np.array_equal(back, _ref_encode(ref, name))
    assert np.array_equal(decode(back, fmt), ref, equal_nan=True)  # every value (and NaN/inf) survives


def _probe(name, rng):
    fmt = FORMATS[name]
    _, ref = _ref_values(name)
    fin = np.unique(ref[np.isfinite(ref)])
    mids = (fin[:-1] + fin[1:]) / 2  # exact ties between neighbours
    nudged = np.concatenate([np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf)])
    wide = rng.standard_normal(50_000) * 10.0 ** rng.integers(-10, 3, 50_000) * fmt.max_value
    beyond = fmt.max_value * np.array([1.0, 1.03, 1.07, 1.2, 2.0, 1e30])
    x = np.concatenate([mids, nudged, wide, rng.standard_normal(50_000), beyond, -beyond, [0.0, -0.0, 5e-324]])
    if fmt.has_nan:
        x = np.concatenate([x, [np.inf, -np.inf, np.nan]])
    return x


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("name", list(FORMATS))
def test_random_and_ties_equal_ml_dtypes(name, saturate):
    fmt = FORMATS[name]
    x = _probe(name, np.random.default_rng(fmt.bits * 7 + saturate))
    ref_in = np.clip(x, -fmt.max_value, fmt.max_value) if saturate else x
    got, ref = encode(x, fmt, saturate), _ref_encode(ref_in, name)
    bad = np.flatnonzero(got != ref)
    assert bad.size == 0, f"{bad.size} differ, e.g. x={x[bad[:3]]} got {got[bad[:3]]} ref {ref[bad[:3]]}"


@pytest.mark.parametrize("granularity", ["tensor", "channel"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_quantizer_scales(name, granularity):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 40)) * rng.uniform(0.01, 100, (16, 1))
    q = MiniFloatQuantizer(format=name, granularity=granularity).fit(x)
    s = q.scale.reshape(-1, 1) if granularity == "channel" else q.scale
    amax = np.abs(x).max(axis=1, keepdims=True) if granularity == "channel" else np.abs(x).max()
    assert np.allclose(amax / s, FORMATS[name].max_value, rtol=1e-15)
    codes = q.encode(x)
    assert np.array_equal(codes, _ref_encode(x / s, name))
    assert np.array_equal(q.decode(codes), codes.view(getattr(md, ML[name])).astype(np.float64) * s)
    p = MiniFloatQuantizer(format=name, granularity=granularity, scale_rule="pow2").fit(x)
    frac, _ = np.frexp(p.scale)
    assert np.all(frac == 0.5)  # a power of two
    assert np.all(amax / p.scale.reshape(np.shape(s)) <= FORMATS[name].max_value)
    assert np.all(amax / p.scale.reshape(np.shape(s)) > FORMATS[name].max_value / 2)
    check_quantizer(MiniFloatQuantizer, {"format": name, "granularity": granularity})


def test_errors():
    q = MiniFloatQuantizer(format="fp4_e2m1fn")
    with pytest.raises(InputError, match="not finite"):
        q.encode(np.array([1.0, np.nan]))
    q.fit(np.ones(3))
    with pytest.raises(InputError, match="code 16"):
        q.decode(np.array([16]))
    with pytest.raises(InputError, match="axis=3"):
        MiniFloatQuantizer(granularity="channel", axis=3).fit(np.ones((2, 2)))
