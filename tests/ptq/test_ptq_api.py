"""The prepare / calibrate / convert interface: streaming, options, and typed errors."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import built_models, calibration_images, ort_outputs, ort_runner  # noqa: E402

from inwhale_hw.errors import InputError, ParameterError  # noqa: E402
from inwhale_hw.ptq import PTQConfig, prepare  # noqa: E402


def _inits(model):
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t).tobytes() for t in model.graph.initializer}


def test_streaming_batches_equal_one_array(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    whole = prepare(paths["cnn_float"], PTQConfig(), x, runner=ort_runner).convert()
    streamed = prepare(paths["cnn_float"], PTQConfig(), runner=ort_runner)
    for i in range(0, len(x), 64):  # one call per batch, a generator each time
        streamed.calibrate(b for b in [x[i : i + 64]])
    assert _inits(streamed.convert()) == _inits(whole)


def test_two_pass_histogram_needs_rereadable_data(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    p = prepare(paths["mlp_float"], PTQConfig(calibration="entropy"), runner=ort_runner)
    with pytest.raises(InputError, match="read twice"):
        p.calibrate(iter([x[:64]]))
    # the single-pass merge streams from an iterator
    one = prepare(paths["mlp_float"], PTQConfig(calibration="entropy", two_pass_histogram=False), runner=ort_runner)
    one.calibrate(iter([x[:64], x[64:128]]))
    assert one.convert().graph.node
    with pytest.raises(ParameterError, match="before calibrate"):
        prepare(paths["mlp_float"], PTQConfig(), runner=ort_runner).convert()


def test_exclude_nodes_and_int16_activations(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    q = prepare(paths["mlp_float"], PTQConfig(exclude_nodes=("fc2",)), x, runner=ort_runner).convert()
    assert "w2_quantized" not in _inits(q) and "w2" in _inits(q) and "w1_quantized" in _inits(q)
    q16 = prepare(paths["cnn_float"], PTQConfig(activation_type="int16", weight_type="int16"), x,
                  runner=ort_runner).convert()
    assert max(o.version for o in q16.opset_import if o.domain in ("", "ai.onnx")) >= 21
    images = np.load(paths["x"])
    float_out = ort_outputs(paths["cnn_float"], {"x": images})[0]
    out16 = ort_outputs(q16, {"x": images})[0]
    out8 = ort_outputs(prepare(paths["cnn_float"], PTQConfig(), x, runner=ort_runner).convert(), {"x": images})[0]
    # 16-bit activations and weights: far closer to float than 8-bit ones
    assert np.abs(out16 - float_out).max() < np.abs(out8 - float_out).max() / 10


def test_mse_weight_calibration_never_loses_sqnr(tmp_path_factory):
    """Weights by MSE clip: per-tensor SQNR (float64, from the definition) at least min-max's."""
    import onnx
    from onnx import numpy_helper

    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)[:256]
    floats = {t.name: numpy_helper.to_array(t).astype(np.float64)
              for t in onnx.load(str(paths["res_float"])).graph.initializer}
    gains = []
    for w in ("w1", "w2", "wd"):
        sqnr = []
        for method in ("minmax", "mse"):
            q = prepare(paths["res_float"], PTQConfig(weight_calibration=method), x, runner=ort_runner).convert()
            i = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
            deq = (i[f"{w}_quantized"].astype(np.float64) - i[f"{w}_zero_point"]) * i[f"{w}_scale"].astype(np.float64)
            sqnr.append(10 * np.log10(np.sum(floats[w] ** 2) / np.sum((floats[w] - deq) ** 2)))
        assert sqnr[1] >= sqnr[0] - 0.05, (w, sqnr)
        gains.append(sqnr[1] - sqnr[0])
    assert max(gains) > 0


@pytest.mark.parametrize("name", ["mlp", "cnn", "res"])
def test_qoperator_form_gives_the_qdq_models_integers(tmp_path_factory, name):
    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    qdq = prepare(paths[f"{name}_float"], PTQConfig(per_channel=True), x, runner=ort_runner).convert()
    qop = prepare(paths[f"{name}_float"], PTQConfig(per_channel=True, qoperator=True), x, runner=ort_runner).convert()
    ops = {n.op_type for n in qop.graph.node}
    assert ops & {"QLinearConv", "QGemm", "QLinearMatMul"} and not ops & {"Conv", "Gemm", "MatMul"}
    images = np.load(paths["x"])
    ref = ort_outputs(qdq, {"x": images})[0]
    assert np.array_equal(ort_outputs(qop, {"x": images})[0], ref)
    from inwhale_hw.accel import simulate

    out, report = simulate(qop, {"x": images})
    assert np.array_equal(out["logits"], ref) and report.outputs[0].ort_mismatches == 0
