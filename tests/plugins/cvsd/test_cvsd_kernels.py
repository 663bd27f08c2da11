"""The numba CVSD kernels give the bits of the Python-integer loops (INWHALE_HW_NUMBA=0 path)."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.plugins.cvsd import kernels, loops

CONFIGS = [{}, {"J": 3, "K": 3}, {"J": 2, "K": 6, "frac_bits": 24}, {"frac_bits": 4, "rounding": "FLOOR"},
           {"input_rate": 8000}]


def _signal(seed: int, n: int = 40000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 700, n))
    x[5000:5400] = 40000
    x[9000:9400] = -40000
    x[12000:12300] = rng.choice([-32768, 32767], 300)
    return np.clip(x, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("params", CONFIGS)
def test_kernels_equal_the_python_loops(params):
    if not kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    q = get_quantizer("cvsd", **params)
    p = q._raw
    assert kernels.fits_int64(p)
    x = _signal(len(params))
    for st in (loops.ChannelState(0, p.step_min, -1, 0, p.k_minus_j + 1), loops.ChannelState(12345, p.step_max, 1, 2, 0)):
        b1, e1, s1 = loops.encode_channel(x.tolist(), st, p)
        b2, e2, s2 = kernels.encode_channel(x, st, p)
        assert (list(b2), list(e2), s2) == (b1, e1, s1)
        bits = np.asarray(b1, dtype=np.int64)
        d1, t1 = loops.decode_channel(bits, st, p)
        d2, t2 = kernels.decode_channel(bits, st, p)
        assert (list(d2), t2) == (d1, t1)


def test_model_round_trip_is_the_same_with_and_without_kernels(monkeypatch):
    x = np.stack([_signal(1, 16000), _signal(2, 16000)], axis=1)
    for params in ({}, {"input_rate": 8000}):
        codes = get_quantizer("cvsd", **params).encode(x)
        y = get_quantizer("cvsd", **params).decode(codes)
        with monkeypatch.context() as m:
            m.setattr(kernels, "ENABLED", False)
            slow = get_quantizer("cvsd", **params)
            assert not slow._compiled
            np.testing.assert_array_equal(slow.encode(x), codes)
            np.testing.assert_array_equal(slow.decode(codes), y)
