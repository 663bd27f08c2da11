"""inwhale_hw.metrics against straightforward loops in exact (Fraction) or fsum arithmetic."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.metrics import (
    compare,
    default_frame_length,
    error_histogram,
    max_abs_error,
    segmental_snr_db,
    snr_db,
)


def _signals(n=5000, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.integers(-20000, 20000, (n, channels)).astype(np.int16)
    y = np.clip(s.astype(np.int32) + rng.integers(-300, 300, s.shape), -32768, 32767).astype(np.int16)
    return s, y


def _ref_snr(s, y):
    num = sum(Fraction(int(v)) ** 2 for v in s.reshape(-1))
    den = sum(Fraction(int(a) - int(b)) ** 2 for a, b in zip(s.reshape(-1), y.reshape(-1)))
    return 10 * math.log10(num / den)


def _ref_segsnr(s, y, frame, lo=-10.0, hi=35.0):
    s2 = s.reshape(len(s), -1)
    y2 = y.reshape(len(y), -1)
    values = []
    count = max(len(s2) // frame, 1)
    frame = frame if len(s2) >= frame else len(s2)
    for c in range(s2.shape[1]):
        for k in range(count):
            seg = range(k * frame, (k + 1) * frame)
            es = math.fsum(float(s2[i, c]) ** 2 for i in seg)
            ee = math.fsum((float(s2[i, c]) - float(y2[i, c])) ** 2 for i in seg)
            if ee == 0:
                v = hi
            elif es == 0:
                v = lo
            else:
                v = min(max(10 * math.log10(es / ee), lo), hi)
            values.append(v)
    return math.fsum(values) / len(values)


def test_snr_matches_exact_arithmetic():
    s, y = _signals(3000)
    assert snr_db(s, y) == pytest.approx(_ref_snr(s, y), abs=1e-9)
    assert snr_db(s[:, 0], y[:, 0]) == pytest.approx(_ref_snr(s[:, :1], y[:, :1]), abs=1e-9)


def test_snr_special_cases():
    s = np.array([1, -2, 3], dtype=np.int16)
    assert snr_db(s, s) == math.inf
    assert snr_db(np.zeros(3, np.int16), s) == -math.inf
    assert math.isnan(snr_db(np.zeros(3, np.int16), np.zeros(3, np.int16)))


def test_segmental_snr_matches_loop_with_clamps():
    s, y = _signals(2000, 2, seed=1)
    s[256:512] = 0  # a silent frame with error -> lo
    y[512:768] = s[512:768]  # an exact frame -> hi
    y[768:1024, 1] = s[768:1024, 1] // 2 + 1  # poor frame, may clamp low
    for frame in (256, 300, 1):
        ours = segmental_snr_db(s, y, frame=frame)
        assert ours == pytest.approx(_ref_segsnr(s, y, frame), abs=1e-9)
    assert segmental_snr_db(s, y, rate=8000) == pytest.approx(_ref_segsnr(s, y, 256), abs=1e-9)
    assert segmental_snr_db(s, y, frame=256, clamp=(0, 20)) == pytest.approx(_ref_segsnr(s, y, 256, 0, 20), abs=1e-9)


def test_segmental_snr_short_signal_is_one_frame_and_silence_counts_as_perfect():
    s, y = _signals(100, 1, seed=2)
    assert segmental_snr_db(s, y, frame=256) == pytest.approx(_ref_segsnr(s, y, 256), abs=1e-9)
    z = np.zeros((512, 1), np.int16)
    assert segmental_snr_db(z, z, frame=256) == 35.0


def test_default_frame_is_32_ms():
    assert default_frame_length(8000) == 256
    assert default_frame_length(16000) == 512
    assert default_frame_length(44100) == 1411


def test_max_abs_error_and_histogram_match_counter():
    s, y = _signals(4000, 2, seed=3)
    errors = [int(a) - int(b) for a, b in zip(s.reshape(-1), y.reshape(-1))]
    assert max_abs_error(s, y) == max(abs(e) for e in errors)
    small = np.clip(s // 100, -40, 40).astype(np.int16)
    small_y = np.clip(small.astype(np.int32) + np.arange(small.size).reshape(small.shape) % 7 - 3, -32768, 32767)
    edges, counts = error_histogram(small, small_y)
    truth = Counter(int(a) - int(b) for a, b in zip(small.reshape(-1), small_y.reshape(-1)))
    assert list(edges[:-1] + 0.5) == list(range(min(truth), max(truth) + 1))
    assert [int(c) for c in counts] == [truth.get(v, 0) for v in range(min(truth), max(truth) + 1)]
    wide_edges, wide_counts = error_histogram(s, y)
    assert len(wide_counts) == 64 and wide_counts.sum() == len(errors)
    lo, hi = min(errors), max(errors)
    width = (hi - lo) / 64
    manual = Counter(min(int((e - lo) / width), 63) for e in errors)
    assert [int(c) for c in wide_counts] == [manual.get(k, 0) for k in range(64)]
    assert wide_edges[0] == lo and wide_edges[-1] == hi


def test_compare_bitrates_and_json():
    s, y = _signals(8000, 2, seed=4)
    m = compare(s, y, 8000, bits_per_sample=8, payload_bytes=16000)
    assert m.bitrate_bps == 8 * 8000 * 2
    assert m.payload_bitrate_bps == 8 * 16000 * 8000 / 8000
    d = m.to_dict()
    assert d["snr_db"] == pytest.approx(_ref_snr(s, y), abs=1e-9)
    assert d["segmental_snr_frame_samples"] == 256 and d["segmental_snr_clamp_db"] == [-10.0, 35.0]
    assert isinstance(d["max_abs_error"], int)
    assert compare(s, s, 8000).to_dict()["snr_db"] == "inf"


def test_bad_inputs():
    with pytest.raises(InputError, match=r"shape \(3,\) and test shape \(4,\)"):
        snr_db(np.zeros(3), np.zeros(4))
    with pytest.raises(InputError, match="NaN"):
        snr_db(np.array([1.0, np.nan]), np.zeros(2))
    with pytest.raises(ParameterError, match="frame length 0"):
        segmental_snr_db(np.ones(3), np.ones(3), frame=0)
    with pytest.raises(ParameterError, match="sample rate or an explicit frame"):
        segmental_snr_db(np.ones(3), np.ones(3))
    with pytest.raises(ParameterError, match=r"clamp \(5, 5\)"):
        segmental_snr_db(np.ones(3), np.ones(3), frame=1, clamp=(5, 5))


@pytest.mark.parametrize("n, channels, noise", [(10007, 2, 3), (100, 1, 400), (5000, 1, 0), (40000, 2, 9000)])
def test_accumulator_block_by_block_equals_compare(n, channels, noise):
    from inwhale_hw.metrics import MetricsAccumulator, compare

    rng = np.random.default_rng(n)
    s = rng.integers(-20000, 20000, (n, channels)).astype(np.int16)
    y = np.clip(s + rng.integers(-noise, noise + 1, s.shape), -32768, 32767).astype(np.int16)
    one = compare(s, y, 8000, bits_per_sample=4, payload_bytes=n)
    acc = MetricsAccumulator(8000, channels, bits_per_sample=4)
    at = 0
    while at < n:
        step = int(rng.integers(1, 3000))
        acc.update(s[at : at + step], y[at : at + step])
        at += step
    got = acc.result(payload_bytes=n)
    assert got.snr_db == pytest.approx(one.snr_db, rel=1e-12, abs=0) or got.snr_db == one.snr_db
    assert got.segmental_snr_db == pytest.approx(one.segmental_snr_db, abs=1e-9)
    assert got.max_abs_error == one.max_abs_error and got.segment_frame == one.segment_frame
    assert np.array_equal(got.histogram_edges, one.histogram_edges)
    assert np.array_equal(got.histogram_counts, one.histogram_counts)
    assert got.to_dict()["bitrate_bps"] == one.to_dict()["bitrate_bps"]
    assert got.payload_bitrate_bps == one.payload_bitrate_bps


def test_unclamped_segmental_snr_is_not_pinned_and_streams():
    """Unclamped segSNR: the mean over frames with signal and error of 10 log10(Es/Ee), by hand."""
    from fractions import Fraction

    from inwhale_hw.metrics import MetricsAccumulator, compare

    rng = np.random.default_rng(5)
    s = rng.integers(-20000, 20000, size=(1000, 2)).astype(np.int16)
    y = s.copy()
    y[::7] += 1  # tiny error: every frame SNR far above 35 dB
    y[:100] = s[:100]  # first frame exact: excluded
    frame = 100
    want = []
    for k in range(len(s) // frame):
        for c in range(2):
            es = sum(Fraction(int(v) ** 2) for v in s[k * frame : (k + 1) * frame, c])
            ee = sum(Fraction((int(a) - int(b)) ** 2) for a, b in zip(s[k * frame : (k + 1) * frame, c], y[k * frame : (k + 1) * frame, c]))
            if es and ee:
                want.append(10 * np.log10(float(es / ee)))
    m = compare(s, y, 8000, frame=frame)
    assert m.segmental_snr_db < 35.0 + 1e-9 and min(want) > 60
    assert m.segmental_snr_unclamped_db == pytest.approx(np.mean(want), rel=1e-12)
    acc = MetricsAccumulator(8000, 2, frame=frame)
    for i in range(0, 1000, 333):
        acc.update(s[i : i + 333], y[i : i + 333])
    assert acc.result().segmental_snr_unclamped_db == pytest.approx(np.mean(want), rel=1e-12)
    assert m.to_dict()["segmental_snr_clamp_db"] == [-10.0, 35.0]
