"""The numba DPCM kernels give the bits of the exact Python-integer loops (INWHALE_HW_NUMBA=0 path)."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.plugins.dpcm import kernels, loops

CONFIGS = [
    {},
    {"bits": 2},
    {"bits": 8, "quantizer": "midtread"},
    {"coeffs": (1.8, -0.81)},
    {"coeffs": (1.0,)},
    {"coeffs": (0.0,)},
    {"adapt": "none", "step": 100.0},
    {"coeffs": (0.5, 0.3, -0.2, 0.1), "bits": 3, "rounding": "FLOOR"},
    {"coeffs": (1.9, -0.95), "coeff_int_bits": 3, "step_max": 32767.0, "bits": 5},
]


def _signal(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 900, (6000, 2)), axis=0)
    x[1000:1200] = 40000  # rails
    x[2000:2100] = -40000
    x[3000:3300] = rng.choice([-32768, 32767], (300, 2))
    return np.clip(x, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("params", CONFIGS)
def test_kernels_equal_the_python_loops(params):
    if not kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    q = get_quantizer("dpcm", **params)
    d = q.design
    assert kernels.fits_int64(d)
    x = _signal(len(str(params)))
    for ch in range(2):
        history, step = (3, -7, 11, 0)[: len(d.coeffs)], d.step
        k1, y1, h1, s1 = loops.encode_channel(x[:, ch].tolist(), history, step, d)
        k2, y2, h2, s2 = kernels.encode_channel(x[:, ch], history, step, d)
        assert (list(k2), list(y2), h2, s2) == (k1, y1, h1, s1)
        index = np.asarray(k1) + (1 << (q.bits - 1))
        if d.multipliers:
            r1, t1 = loops.residuals_adaptive(index.tolist(), step, d)
            r2, t2 = kernels.residuals_adaptive(index, step, d)
            assert (list(r2), t2) == (r1, t1)
        resid = np.asarray(y1) - np.roll(np.asarray(y1), 1)
        assert list(kernels.predict_channel(resid, history, d)) == loops.predict_channel(resid.tolist(), history, d)


def test_model_round_trip_is_the_same_with_and_without_kernels(monkeypatch):
    x = _signal(3)
    q = get_quantizer("dpcm", coeffs=(1.8, -0.81))
    codes, y = q.encode(x), q.decode(q.encode(x))
    monkeypatch.setattr(kernels, "ENABLED", False)
    slow = get_quantizer("dpcm", coeffs=(1.8, -0.81))
    np.testing.assert_array_equal(slow.encode(x), codes)
    np.testing.assert_array_equal(slow.decode(codes), y)


def test_designs_beyond_int64_use_the_exact_loops():
    q = get_quantizer("dpcm", coeffs=(32000.0,) * 8, coeff_int_bits=16, coeff_frac_bits=30)
    assert not kernels.fits_int64(q.design)
