"""Error analysis: SQNR against a direct float64 computation and the step^2/12 noise model."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.ptq.analysis import sqnr_db, tensor_error


def test_sqnr_definition():
    x = np.array([3.0, -4.0])
    assert sqnr_db(x, x) == float("inf")
    assert sqnr_db(x, x + [0.5, 0.0]) == pytest.approx(10 * np.log10(25 / 0.25))


def test_uniform_noise_model_and_outliers():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 200_000)
    s = 2 / 255
    e = tensor_error("u", "activation", x, s, 0, -128, 127)
    # a busy signal's rounding noise is uniform: measured SQNR within 0.1 dB of 10 log10(P / (s^2 / 12))
    assert e.theory_db == pytest.approx(10 * np.log10(np.mean(x**2) / (s**2 / 12)))
    assert abs(e.sqnr_db - e.theory_db) < 0.1 and e.clipped_fraction == 0
    # a few huge outliers clipped by a tight range: the error without them is far smaller
    y = x.copy()
    y[:100] = 50.0
    e = tensor_error("o", "activation", y, s, 0, -128, 127)
    assert e.clipped_fraction == pytest.approx(100 / len(y))
    assert e.sqnr_without_outliers_db > e.sqnr_db + 20
