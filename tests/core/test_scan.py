"""inwhale_hw.scan: the one clamp-add scan ``y[t] = clamp(y[t-1] + a[t], lo, hi)`` against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.scan import _chunked, clamp_add_frames, clamp_add_scan


def _loop(adds, start, lo, hi):
    out = np.empty(adds.shape, dtype=np.int64)
    for lane in range(adds.shape[0]):
        y = int(start[lane])
        for t in range(adds.shape[1]):
            y = min(max(y + int(adds[lane, t]), lo), hi)
            out[lane, t] = y
    return out


@pytest.mark.parametrize("scale,bias", [(1, 0), (6, 0), (40, 0), (3, 2), (3, -2)])
def test_clamp_add_scan_every_path_matches_a_loop(scale, bias):
    """Plain sums, one-sided reflections and the chunked general method all agree with a loop."""
    rng = np.random.default_rng(scale * 10 + bias)
    for _ in range(20):
        lanes, steps = int(rng.integers(1, 4)), int(rng.integers(1, 900))
        lo, hi = sorted(int(v) for v in rng.integers(-40, 40, 2))
        adds = rng.integers(-scale, scale + 1, (lanes, steps)) + bias
        start = rng.integers(lo, hi + 1, lanes)
        ref = _loop(adds, start, lo, hi)
        assert np.array_equal(clamp_add_scan(adds, start, lo, hi), ref)
        assert np.array_equal(_chunked(adds.astype(np.int32), start.astype(np.int64), lo, hi), ref)


def _scalar_clamp_add(a: np.ndarray, y0: np.ndarray, lo: int, hi: int) -> np.ndarray:
    out = np.empty_like(a)
    for ch in range(a.shape[1]):
        y = int(y0[ch])
        for k, v in enumerate(a[:, ch].tolist()):
            y = min(max(y + v, lo), hi)
            out[k, ch] = y
    return out


@pytest.mark.parametrize("seed", [1, 2, 5, 64, 1000])
def test_clamp_add_frames_matches_scalar_loop(seed):
    """The (n, channels) layout the codecs use, including steps far beyond the range width."""
    rng = np.random.default_rng(seed)
    for _ in range(10):
        n, ch = int(rng.integers(1, 700)), int(rng.integers(1, 4))
        a = rng.integers(-3000, 3001, (n, ch)) + int(rng.integers(-800, 800))
        y0 = rng.integers(-32768, 32768, ch)
        assert np.array_equal(clamp_add_frames(a, y0, -32768, 32767), _scalar_clamp_add(a, y0, -32768, 32767))
        huge = rng.integers(-(10**12), 10**12, (n, ch))
        y0 = rng.integers(-100, 51, ch)
        assert np.array_equal(clamp_add_frames(huge, y0, -100, 50), _scalar_clamp_add(huge, y0, -100, 50))
