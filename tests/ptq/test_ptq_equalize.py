"""SmoothQuant, cross-layer equalization and bias correction: the closed forms, the float
model's unchanged output (onnxruntime runs both), and the error reduction after quantization
on a model with badly scaled channels."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.ptq.equalize import equalize_pair, smoothquant_scales

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import built_models, calibration_images, ort_outputs, ort_runner  # noqa: E402

from inwhale_hw.ptq import PTQConfig, SmoothQuantConfig, quantize  # noqa: E402
from inwhale_hw.ptq.equalize import bias_correct, cross_layer_equalize, smoothquant  # noqa: E402
from inwhale_hw.ptq.qparams import qrange, quantize_array, scale_zero_point  # noqa: E402
from inwhale_hw.ptq.static import load_float_model  # noqa: E402


def test_smoothquant_scale_formula():
    rng = np.random.default_rng(0)
    xa, w = rng.uniform(0.1, 50, 8), rng.standard_normal((8, 3))
    for alpha in (0.0, 0.5, 0.85, 1.0):
        s = smoothquant_scales(xa, w, alpha)
        for j in range(8):
            assert s[j] == pytest.approx(xa[j] ** alpha / max(abs(w[j])) ** (1 - alpha), rel=1e-12)
    # alpha = 0.5 balances the two ranges exactly
    s = smoothquant_scales(xa, w, 0.5)
    np.testing.assert_allclose(xa / s, np.max(np.abs(w * s[:, None]), axis=1), rtol=1e-12)


def test_equalize_pair_balances_ranges_and_keeps_the_function():
    rng = np.random.default_rng(1)
    w1, b1, w2 = rng.standard_normal((5, 4)) * [1e-2, 1, 30, 3], rng.standard_normal(4), rng.standard_normal((4, 3))
    w1n, b1n, w2n, _ = equalize_pair(w1, b1, w2)
    np.testing.assert_allclose(np.max(np.abs(w1n), axis=0), np.max(np.abs(w2n), axis=1), rtol=1e-12)
    x = rng.standard_normal((10, 5))
    f = lambda a, b, c: np.maximum(x @ a + b, 0) @ c  # noqa: E731
    np.testing.assert_allclose(f(w1n, b1n, w2n), f(w1, b1, w2), rtol=1e-12, atol=1e-12)


def _badly_scaled_mlp(paths):
    """The digits MLP with its hidden channels scaled by 10^U(-2, 2) (and undone in fc2): the
    same float function, hopeless for per-tensor int8 weights."""
    from onnx import numpy_helper

    proto = load_float_model(paths["mlp_float"])
    c = 10.0 ** np.random.default_rng(5).uniform(-2, 2, 32)
    for t in proto.graph.initializer:
        a = numpy_helper.to_array(t)
        if t.name in ("w1", "b1"):
            t.CopyFrom(numpy_helper.from_array((a * c).astype(np.float32), t.name))
        elif t.name == "w2":
            t.CopyFrom(numpy_helper.from_array((a / c[:, None]).astype(np.float32), t.name))
    return proto


def _error(q, ref, x):
    return float(np.sqrt(np.mean((ort_outputs(q, {"x": x})[0] - ref) ** 2)))


def test_cle_restores_a_badly_scaled_model(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    x, calib = np.load(paths["x"]), calibration_images(paths)
    bad = _badly_scaled_mlp(paths)
    ref = ort_outputs(paths["mlp_float"], {"x": x})[0]
    np.testing.assert_allclose(ort_outputs(bad, {"x": x})[0], ref, rtol=1e-4, atol=1e-4)
    fixed = cross_layer_equalize(bad)
    np.testing.assert_allclose(ort_outputs(fixed, {"x": x})[0], ref, rtol=1e-4, atol=1e-4)
    cfg = PTQConfig()
    err_bad = _error(quantize(bad, calib, cfg, runner=ort_runner), ref, x)
    err_cle = _error(quantize(fixed, calib, cfg, runner=ort_runner), ref, x)
    assert err_cle < err_bad / 3, (err_bad, err_cle)


def test_smoothquant_keeps_the_float_output(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    x, calib = np.load(paths["x"]), calibration_images(paths)
    ref = ort_outputs(paths["res_float"], {"x": x})[0]
    smooth = smoothquant(paths["res_float"], calib, SmoothQuantConfig(alpha=0.5), runner=ort_runner)
    np.testing.assert_allclose(ort_outputs(smooth, {"x": x})[0], ref, rtol=1e-4, atol=1e-4)
    assert sum(n.op_type == "Mul" for n in smooth.graph.node) == 1


def test_bias_correction_removes_the_mean_output_shift(tmp_path_factory):
    """Weights quantized (int8 per tensor on the badly scaled MLP), activations float: the
    corrected biases cancel the mean shift of fc1's output on the calibration set (E[x] is
    exact there) and shrink the mean shift of the logits."""
    from onnx import numpy_helper

    paths = built_models(tmp_path_factory)
    calib = calibration_images(paths)
    bad = _badly_scaled_mlp(paths)
    qmin, qmax = qrange("int8", True)
    w_hat = {}
    for t in bad.graph.initializer:
        if t.name in ("w1", "w2"):
            w = numpy_helper.to_array(t)
            zp, s = scale_zero_point(np.array(w.min()), np.array(w.max()), qmin, qmax, True)
            w_hat[t.name] = quantize_array(w, s, zp, "int8").astype(np.float64) * s

    def with_w_hat(proto):
        out = load_float_model(proto)
        for t in out.graph.initializer:
            if t.name in w_hat:
                t.CopyFrom(numpy_helper.from_array(w_hat[t.name].astype(np.float32), t.name))
        return out

    corrected = bias_correct(bad, calib, w_hat, runner=ort_runner)
    feeds = {"x": calib}
    names = ["h", "logits"]
    ref = ort_runner(bad, names)(feeds)
    before = ort_runner(with_w_hat(bad), names)(feeds)
    after = ort_runner(with_w_hat(corrected), names)(feeds)
    shift = lambda run, t: np.abs(np.mean(run[t].astype(np.float64) - ref[t], axis=0))  # noqa: E731
    assert shift(after, "h").max() < 1e-4 * max(1.0, shift(before, "h").max())
    assert shift(after, "logits").mean() < shift(before, "logits").mean() / 2
