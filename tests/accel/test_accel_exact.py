"""The acceptance claim: 32-bit accumulators and the onnxruntime profile give onnxruntime's bits.

Every digits model (MLP, CNN, residual CNN), in both the QDQ and the QOperator form written by
``onnxruntime.quantization.quantize_static``, on all 1797 images: final outputs compared with
onnxruntime's own session here, and every integer intermediate tensor through the report.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, ort_outputs  # noqa: E402

from inwhale_hw.accel import AccelConfig, load_model, simulate  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return built_models(tmp_path_factory)


@pytest.mark.parametrize("form", ["qdq", "qoperator"])
@pytest.mark.parametrize("net", ["mlp", "cnn", "res"])
def test_identical_to_onnxruntime_on_all_digits(models, net, form):
    x, y = np.load(models["x"]), np.load(models["y"])
    assert len(x) == 1797
    path = models[f"{net}_{form}"]
    outputs, report = simulate(path, x, AccelConfig(), float_model=models[f"{net}_float"], labels=y)
    (theirs,) = ort_outputs(path, {"x": x})
    assert outputs["logits"].dtype == theirs.dtype == np.float32
    assert np.array_equal(outputs["logits"], theirs)
    compared = [layer for layer in report.layers if layer.ort_compared]
    assert len(compared) >= 3  # the input QuantizeLinear and every integer layer
    assert all(layer.ort_mismatches == 0 for layer in compared), [(s.name, s.ort_mismatches) for s in compared]
    out = report.outputs[0]
    assert out.ort_mismatches == 0 and out.accuracy == out.ort_accuracy
    assert out.accuracy > 0.95 and out.float_accuracy > 0.95
    assert report.totals()["overflowed"] == 0


@pytest.mark.parametrize("net", ["mlp", "cnn", "res"])
def test_qdq_fuses_into_the_qoperator_kernels(models, net):
    qdq = load_model(models[f"{net}_qdq"])
    qop = load_model(models[f"{net}_qoperator"])
    assert qdq.kinds() == qop.kinds()
    assert all(op.origin == "qdq" for op in qdq.ops if op.kind.startswith(("QLinear", "QGemm")))
    expected = {"mlp": {"QGemm"}, "cnn": {"QLinearConv", "QGemm", "MaxPool"},
                "res": {"QLinearConv", "QLinearAveragePool", "QLinearAdd", "QLinearMatMul"}}[net]
    assert expected <= set(qdq.kinds())
    assert "Conv" not in qdq.kinds() and "Gemm" not in qdq.kinds() and "MatMul" not in qdq.kinds()


def test_without_onnxruntime_the_float_model_runs_on_the_simulator(models, monkeypatch):
    import sys

    from inwhale_hw.accel import _deps

    x, y = np.load(models["x"])[:300], np.load(models["y"])[:300]
    (float_ref,) = ort_outputs(models["cnn_float"], {"x": x})
    _, with_ort = simulate(models["cnn_qdq"], x, float_model=models["cnn_float"], labels=y)
    monkeypatch.setattr(_deps, "available", lambda module: False)
    monkeypatch.setattr(sys.modules["inwhale_hw.accel.simulate"], "available", lambda module: False)
    _, report = simulate(models["cnn_qdq"], x, float_model=models["cnn_float"], labels=y)
    out, ref = report.outputs[0], with_ort.outputs[0]
    assert out.ort_mismatches is None and any("onnxruntime is not installed" in n for n in report.notes)
    assert out.float_accuracy == ref.float_accuracy and out.accuracy == ref.accuracy
    assert out.float_max_abs_error == pytest.approx(ref.float_max_abs_error, rel=1e-4, abs=1e-5)
    assert np.abs(float_ref).max() > 1  # the float logits the error is measured against are real
