"""Observers, histograms, scale / zero point and configs against independent references:
onnxruntime's own calibration collector and compute_scale_zp (reference only), NumPy's
histogram of the concatenated data, and brute-force float64 restatements."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError
from inwhale_hw.ptq import PTQConfig, load_config
from inwhale_hw.ptq.histogram import Histogram, TwoPassHistogram, entropy_range, mse_range, percentile_range
from inwhale_hw.ptq.observers import MinMaxObserver, MovingAverageObserver
from inwhale_hw.ptq.qparams import qrange, quantize_array, scale_zero_point


def _batches(seed=0, n=6):
    rng = np.random.default_rng(seed)
    # growing spread so the signed histogram widens between batches
    return [(rng.standard_normal(500) * (1 + k) + 0.3 * k).astype(np.float32) for k in range(n)]


@pytest.mark.parametrize("absolute", [False, True])
def test_two_pass_histogram_is_numpy_histogram_of_everything(absolute):
    batches = _batches()
    tp = TwoPassHistogram(absolute, 64)
    for b in batches:
        tp.first(b)
    for b in batches:
        tp.second(b)
    h = tp.result()
    allx = np.concatenate(batches)
    if absolute:
        ref, edges = np.histogram(np.abs(allx), bins=64)
    else:
        t = np.array(max(abs(allx.min()), abs(allx.max())), np.float32)
        ref, edges = np.histogram(allx, 64, range=(-t, t))
    assert np.array_equal(h.hist, ref) and np.array_equal(h.edges, edges.astype(np.float32))


@pytest.mark.parametrize("method,symmetric", [("entropy", False), ("percentile", False), ("percentile", True)])
def test_streaming_histogram_matches_onnxruntime_collector(method, symmetric):
    calibrate = pytest.importorskip("onnxruntime.quantization.calibrate")
    ref = calibrate.HistogramCollector(method, symmetric, 128, 128, 99.9, "same")
    ours = Histogram(absolute=(method == "percentile" and symmetric), bins=128)
    for b in _batches(1):
        ref.collect({"t": [b]})  # one collect() per batch: onnxruntime's merge path
        ours.update(b)
    r = ref.histogram_dict["t"]
    assert np.array_equal(ours.hist, r[0]) and np.array_equal(ours.edges, r[1])
    expect = ref.compute_collection_result()["t"]
    got = entropy_range(ours, 128) if method == "entropy" else percentile_range(ours, 99.9, symmetric)
    assert np.asarray(got[0]).tobytes() == np.asarray(expect[0]).tobytes()
    assert np.asarray(got[1]).tobytes() == np.asarray(expect[1]).tobytes()


def test_scale_zero_point_matches_onnxruntime():
    qu = pytest.importorskip("onnxruntime.quantization.quant_utils")
    from onnx import TensorProto

    rng = np.random.default_rng(3)
    for qtype, onnx_type in (("uint8", TensorProto.UINT8), ("int8", TensorProto.INT8), ("int16", TensorProto.INT16)):
        for sym in (False, True):
            qmin, qmax = qrange(qtype, sym)
            rmin_ref, rmax_ref = qu.get_qmin_qmax_for_qType(onnx_type, symmetric=sym)
            assert (qmin, qmax) == (rmin_ref, rmax_ref)
            for _ in range(200):
                lo, hi = np.sort(rng.standard_normal(2).astype(np.float32) * rng.choice([1e-3, 1, 100]))
                zp, s = scale_zero_point(np.float32(lo), np.float32(hi), qmin, qmax, sym)
                zr, sr = qu.compute_scale_zp(np.float32(lo), np.float32(hi), qmin, qmax, sym)
                assert zp.tobytes() == np.asarray(zr).tobytes() and s.tobytes() == np.asarray(sr).tobytes()
                x = rng.standard_normal(50).astype(np.float32) * hi
                assert np.array_equal(quantize_array(x, s, zp, qtype), qu.quantize_nparray(onnx_type, x, sr, zr))


def test_scale_zero_point_formula_exact():
    """s = (max(hi,0) - min(lo,0)) / 255 and z = round(-lo / s) for uint8, from the definition."""
    qmin, qmax = qrange("uint8")
    zp, s = scale_zero_point(np.float32(-0.5), np.float32(1.5), qmin, qmax, False)
    assert s == np.float32(2.0 / 255) and zp == round(0.5 / (2.0 / 255))
    zp, s = scale_zero_point(np.float32(0.0), np.float32(0.0), qmin, qmax, False)
    assert (s, zp) == (1.0, 0)


def test_minmax_and_moving_average_formulas():
    batches = _batches(2, 4)
    mm, ma = MinMaxObserver(), MovingAverageObserver(0.25)
    for b in batches:
        mm.update(b)
        ma.update(b)
    assert mm.range() == (min(b.min() for b in batches), max(b.max() for b in batches))
    lo, hi = float(batches[0].min()), float(batches[0].max())
    for b in batches[1:]:
        lo, hi = lo + 0.25 * (float(b.min()) - lo), hi + 0.25 * (float(b.max()) - hi)
    np.testing.assert_allclose([float(v) for v in ma.range()], [lo, hi], rtol=1e-6)
    sym = MinMaxObserver(symmetric=True)
    sym.update(np.array([-3, 1], np.float32))
    assert sym.range() == (-3, 3)


def test_mse_range_is_the_brute_force_minimum():
    """Restated from the definition with the element-wise quantizer of qparams (a float64 loop)."""
    x = np.concatenate(_batches(4, 3))
    h = Histogram(absolute=False, bins=64)
    h.update(x)
    lo, hi = mse_range(h, 256)
    centres = (h.edges[:-1].astype(np.float64) + h.edges[1:]) / 2
    lo0, hi0 = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    best, best_r = np.inf, None
    for k in range(1, 101):
        a, b = k / 100 * lo0, k / 100 * hi0
        step = (b - a) / 255
        z = round(-a / step)
        err = sum(c * (m - (min(max(round(m / step) + z, 0), 255) - z) * step) ** 2 for c, m in zip(h.hist, centres))
        if err < best:
            best, best_r = err, k / 100
    assert float(hi) == pytest.approx(best_r * hi0, rel=1e-6) and float(lo) == pytest.approx(best_r * lo0, rel=1e-6)


def test_config_from_toml_and_typed_errors(tmp_path):
    path = tmp_path / "ptq.toml"
    path.write_text('[static]\ncalibration = "entropy"\nper_channel = true\nexclude_nodes = ["fc2"]\n')
    cfg = load_config(path)
    assert cfg == PTQConfig(calibration="entropy", per_channel=True, exclude_nodes=("fc2",))
    with pytest.raises(ParameterError, match="calibration"):
        PTQConfig(calibration="kl")
    path.write_text('[static]\nbogus = 1\n')
    with pytest.raises(ParameterError, match="bogus"):
        load_config(path)
