"""Every family's default verification vectors reach the corner cases its reference counts."""

from __future__ import annotations

import pytest

from inwhale_hw import get_hardware
from inwhale_hw.hdlsim import golden_vectors

CASES = [
    ("delta", {}, ("rail_high", "rail_low", "loads")),
    pytest.param("cvsd", {"input_rate": 64000}, ("rail_high", "rail_low", "step_max", "step_min", "run_hits"),
                 marks=pytest.mark.slow),
    ("dpcm", {}, ("rail_high", "rail_low", "step_max", "step_min")),
    ("ima-adpcm", {}, ("index_max", "index_min", "rail_high", "rail_low", "loads")),
    ("mac", {}, ("overflows", "clears")),
    ("requant", {}, ("rail_low", "rail_high")),
]


@pytest.mark.parametrize("name, params, counters", CASES)
def test_default_vectors_reach_every_counted_corner(name, params, counters):
    model = get_hardware(name, **params)
    for block in model.blocks:
        vectors = golden_vectors(model, block, model.datapath(block))
        assert set(counters) <= set(vectors.coverage), vectors.coverage
        assert all(vectors.coverage[c] > 0 for c in counters), (block, vectors.coverage)
        assert all(isinstance(v, int) and v >= 0 for v in vectors.coverage.values())


def test_dpcm_predictor_ties_are_the_samples_predicted_from_an_odd_value():
    """One tap of 0.5: p = h / 2 is a rounding tie exactly when the previous value h is odd.
    (The default coefficients, 0.9, tie only at multiples of 4096 that are not of 8192, which
    the default vectors never hold.)"""
    model = get_hardware("dpcm", coeffs=(0.5,))
    vectors = golden_vectors(model, "encoder", model.datapath("encoder"))
    y, load, load_h = vectors.expected["history__0"], vectors.inputs["load"], vectors.inputs["load_history__0"]
    previous = [0] + y[:-1].tolist()
    odd = sum(1 for n, h in enumerate(previous) if (int(load_h[n]) if load[n] else h) % 2)
    assert vectors.coverage["predictor_ties"] == odd > 1000
