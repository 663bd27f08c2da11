"""I-BERT integer nonlinearities: measured error against float over every code, within the
bounds stated in the docstrings (scipy's erf and NumPy's exp as float references), and the
integer square root against Python's math.isqrt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erf

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.nn.ibert import i_exp, i_gelu, i_layernorm, i_softmax, isqrt


def _gelu(x):
    return x * 0.5 * (1 + erf(x / np.sqrt(2)))


def _all_codes(bits, nonpositive=False):
    return np.arange(-(2 ** (bits - 1)), 1 if nonpositive else 2 ** (bits - 1), dtype=np.int64)


@pytest.mark.parametrize("bits,scale,bound", [(16, 2**-10, 0.0185), (16, 2**-12, 0.0185), (8, 2**-5, 0.0185), (8, 2**-4, 0.025)])
def test_i_gelu_error_within_stated_bound(bits, scale, bound):
    q = _all_codes(bits)
    q_out, s_out = i_gelu(q, scale)
    assert q_out.dtype == np.int64 and s_out > 0
    err = np.abs(q_out * s_out - _gelu(q * scale)).max()
    assert err <= bound
    assert err > 0.01  # the polynomial approximation is visible: this is not the float function


@pytest.mark.parametrize("bits,scale,bound", [(16, 2**-10, 0.0022), (16, 2**-12, 0.0022), (8, 2**-4, 0.04)])
def test_i_exp_error_within_stated_bound(bits, scale, bound):
    q = _all_codes(bits, nonpositive=True)
    q_out, s_out = i_exp(q, scale)
    err = np.abs(q_out * s_out - np.exp(q * scale)).max()
    assert 1e-4 < err <= bound
    assert q_out[-1] * s_out == pytest.approx(1.0, abs=bound)


@pytest.mark.parametrize("bits,scale,bound", [(16, 2**-10, 0.0012), (8, 2**-4, 0.017)])
@pytest.mark.parametrize("width", [8, 64, 512])
def test_i_softmax_error_within_stated_bound(bits, scale, bound, width):
    rng = np.random.default_rng(width + bits)
    q = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), (400, width))
    q_out, s_out = i_softmax(q, scale)
    x = q * scale
    ref = np.exp(x - x.max(axis=-1, keepdims=True))
    ref /= ref.sum(axis=-1, keepdims=True)
    assert np.abs(q_out * s_out - ref).max() <= bound
    assert np.all(np.abs(q_out.sum(axis=-1) * s_out - 1) <= width * s_out)


def test_isqrt_is_exact():
    rng = np.random.default_rng(3)
    n = np.concatenate([np.arange(70000), rng.integers(0, 2**62, 50000),
                        [2**63 - 1, 2**62, (2**31 - 1) ** 2, (2**31 - 1) ** 2 - 1]]).astype(np.int64)
    assert isqrt(n).tolist() == [math.isqrt(int(v)) for v in n]
    with pytest.raises(InputError):
        isqrt(np.array([-1]))


@pytest.mark.parametrize("width", [64, 768, 1024])
def test_i_layernorm_error_within_stated_bound(width):
    rng = np.random.default_rng(width)
    q = rng.integers(-128, 128, (100, width))
    gamma, beta = rng.uniform(0.5, 2, width), rng.uniform(-1, 1, width)
    q_out, s_out = i_layernorm(q, 0.1, gamma, beta)
    x = q * 0.1
    ref = gamma * (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True) + beta
    assert (np.abs(q_out * s_out - ref) / (np.abs(gamma) + np.abs(beta))).max() <= 1e-4
    q_t, s_t = i_layernorm(q.T, 0.1, gamma[:, None], beta[:, None], axis=0)
    assert np.array_equal(q_t, q_out.T)


def test_bad_arguments():
    with pytest.raises(InputError, match="<= 0"):
        i_exp(np.array([1]), 0.1)
    with pytest.raises(InputError, match="integer"):
        i_gelu(np.array([0.5]), 0.1)
    with pytest.raises(ParameterError, match="scale"):
        i_gelu(np.array([1]), -1.0)
    with pytest.raises(ParameterError, match="gamma"):
        i_layernorm(np.ones((2, 4), np.int64), 0.1, np.zeros(4), np.zeros(4))
