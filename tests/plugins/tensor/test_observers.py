"""Range observers, through ``affine`` and directly, against plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.plugins.tensor import observers
from inwhale_hw.plugins.tensor.affine import Affine


def percentile_ref(values: list[float], p: float) -> float:
    """Hyndman & Fan definition 7 (NumPy's "linear"), written out."""
    v = sorted(values)
    h = (len(v) - 1) * p / 100
    lo = int(h)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def test_minmax_rows():
    rows = np.array([[1.0, -3.0, 2.0], [0.5, 0.25, 0.75]])
    lo, hi = observers.minmax(rows, symmetric=False)
    assert lo.tolist() == [-3.0, 0.25] and hi.tolist() == [2.0, 0.75]
    lo, hi = observers.minmax(rows, symmetric=True)
    assert lo.tolist() == [-3.0, -0.75] and hi.tolist() == [3.0, 0.75]


def test_running_minmax_over_batches_is_global_minmax():
    rng = np.random.default_rng(0)
    batches = [rng.normal(0, 1 + i, 50) for i in range(4)]
    q = Affine(bits=8, symmetric=False)
    for b in batches:
        q.partial_fit(b)
    allv = [float(v) for b in batches for v in b]
    ref = Affine(bits=8, symmetric=False).fit(np.array(allv))
    assert float(q.scale) == float(ref.scale) and int(q.zero_point) == int(ref.zero_point)


@pytest.mark.parametrize("symmetric", [True, False])
def test_moving_average_matches_python_ema(symmetric):
    rng = np.random.default_rng(1)
    batches = [rng.normal(0.3 * i, 1.0, (6, 20)) for i in range(5)]
    m = 0.25
    q = Affine(bits=8, symmetric=symmetric, observer="moving-average", momentum=m, granularity="channel")
    q.fit(batches[0])
    for b in batches[1:]:
        q.partial_fit(b)
    for c in range(6):
        lo = hi = None
        for b in batches:
            vals = [float(v) for v in b[c]]
            new_lo, new_hi = (-max(map(abs, vals)), max(map(abs, vals))) if symmetric else (min(vals), max(vals))
            if lo is None:
                lo, hi = new_lo, new_hi
            else:
                lo, hi = lo + m * (new_lo - lo), hi + m * (new_hi - hi)
        if symmetric:
            assert float(q.scale[c]) == pytest.approx(max(-lo, hi) / 127, rel=1e-15)
        else:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            assert float(q.scale[c]) == pytest.approx((hi - lo) / 255, rel=1e-15)
            assert int(q.zero_point[c]) == min(max(-128 - round(lo / ((hi - lo) / 255)), -128), 127)


def test_fit_forgets_earlier_batches():
    q = Affine(observer="moving-average").fit(np.array([10.0]))
    q.fit(np.array([1.0]))
    assert float(q.scale) == 1.0 / 127


@pytest.mark.parametrize("p", [99.99, 95.0, 50.0, 100.0])
def test_percentile(p):
    rng = np.random.default_rng(2)
    x = rng.standard_t(3, 2001)
    sym = Affine(bits=8, observer="percentile", percentile=p).fit(x)
    assert float(sym.scale) == pytest.approx(percentile_ref([abs(float(v)) for v in x], p) / 127, rel=1e-14)
    asym = Affine(bits=8, symmetric=False, signed=False, observer="percentile", percentile=p).fit(x)
    lo = min(percentile_ref(x.tolist(), 100 - p), 0.0)
    hi = max(percentile_ref(x.tolist(), p), 0.0)
    assert float(asym.scale) == pytest.approx((hi - lo) / 255, rel=1e-14)


def grid_sse_ref(x: np.ndarray, ratio: float, amax: float) -> float:
    """Squared error of symmetric int4 [-7, 7] with clip ratio * amax, written from the formula."""
    s = ratio * amax / 7
    xh = np.clip(np.rint(x / s), -7, 7) * s
    return float(np.sum((x - xh) ** 2))


def test_mse_search_picks_the_documented_grid_minimum():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 4000)
    amax = float(np.max(np.abs(x)))
    n = 50
    coarse = {k / n: grid_sse_ref(x, k / n, amax) for k in range(1, n + 1)}
    r0 = min(coarse, key=coarse.get)
    fine = {r0 + j / (10 * n): grid_sse_ref(x, r0 + j / (10 * n), amax) for j in range(-10, 11) if 0 < r0 + j / (10 * n) <= 1}
    best = min(fine.values())
    q = Affine(bits=4, observer="mse", grid=n).fit(x)
    got = grid_sse_ref(x, float(q.scale) * 7 / amax, amax)
    assert got == pytest.approx(best, rel=1e-12)
    assert got <= min(coarse.values())
    minmax = Affine(bits=4).fit(x)
    assert got < float(np.sum((minmax.decode(minmax.encode(x)) - x) ** 2))


def test_mse_search_per_channel_rows_are_independent():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (3, 500)) * np.array([[0.1], [1.0], [30.0]])
    q = Affine(bits=3, symmetric=False, observer="mse", granularity="channel").fit(x)
    for c in range(3):
        one = Affine(bits=3, symmetric=False, observer="mse").fit(x[c])
        assert float(q.scale[c]) == float(one.scale) and int(q.zero_point[c]) == int(one.zero_point)


def test_mse_search_function_directly():
    # a made-up error curve with its minimum at ratio 0.537: coarse 0.54, refined 0.537
    lo0, hi0 = np.array([-2.0, -1.0]), np.array([2.0, 1.0])
    lo, hi = observers.mse_search(lo0, hi0, lambda lo, hi: (hi / hi0 - 0.537) ** 2, 100)
    assert hi.tolist() == pytest.approx([2 * 0.537, 0.537], abs=1e-12)
    assert lo.tolist() == pytest.approx([-2 * 0.537, -0.537], abs=1e-12)
