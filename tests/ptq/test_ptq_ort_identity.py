"""Byte identity with onnxruntime.quantization.quantize_static (onnxruntime 1.32.0, pinned below).

Both quantizers get the same float model, the same calibration batches (64 images each, in the
same order) and the same options; our calibrator runs the float graph through onnxruntime with
graph optimizations off, as onnxruntime's calibrator does, so both see the same float32
activations.  Every initializer (scales, zero points, quantized weights and biases) must be
byte-identical under the same name, and both QDQ models must give the same outputs in
onnxruntime and in our simulator (0 mismatches).
"""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import BATCH, OrtReader, built_models, calibration_images, ort_outputs, ort_runner  # noqa: E402

from inwhale_hw.accel import simulate  # noqa: E402
from inwhale_hw.ptq import PTQConfig, prepare  # noqa: E402
from inwhale_hw.ptq.static import load_float_model  # noqa: E402

PINNED_ORT = "1.32.0"

CASES = [(m, c, False) for m in ("mlp", "cnn", "res") for c in ("minmax", "percentile", "entropy")]
CASES += [(m, "minmax", True) for m in ("mlp", "cnn", "res")]


def _initializers(model):
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_pinned_onnxruntime_version():
    assert ort.__version__ == PINNED_ORT, "histogram calibration follows onnxruntime's version: re-check and re-pin"


@pytest.mark.parametrize("name,method,per_channel", CASES)
def test_same_bytes_as_quantize_static(tmp_path_factory, tmp_path, name, method, per_channel):
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    ref_path = tmp_path / "ort_qdq.onnx"
    quantize_static(str(paths[f"{name}_float"]), str(ref_path), OrtReader(x), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=per_channel,
                    calibrate_method={"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                                      "entropy": CalibrationMethod.Entropy}[method])
    ref = onnx.load(str(ref_path))

    proto = load_float_model(paths[f"{name}_float"])
    config = PTQConfig(calibration=method, per_channel=per_channel)
    prepared = prepare(proto, config, runner=ort_runner, batch=BATCH)
    ours = prepared.calibrate(x).convert()

    a, b = _initializers(ref), _initializers(ours)
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), key
    assert sorted(n.op_type for n in ref.graph.node) == sorted(n.op_type for n in ours.graph.node)

    images = np.load(paths["x"])
    ref_out = ort_outputs(ref, {"x": images})[0]
    our_out = ort_outputs(ours, {"x": images})[0]
    assert np.array_equal(ref_out, our_out)
    sim_out, report = simulate(ours, {"x": images})
    assert np.array_equal(sim_out["logits"], ref_out)
    assert report.outputs[0].ort_mismatches == 0


def test_default_runner_is_our_simulator(tmp_path_factory):
    """Without a runner the float graph runs on our executors; the model still simulates with
    0 mismatches against onnxruntime, and every scale is within 1e-6 (relative) of onnxruntime's
    (their float Conv / Gemm sum in another order)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    paths = built_models(tmp_path_factory)
    x = calibration_images(paths)
    for name in ("mlp", "cnn", "res"):
        ours = prepare(paths[f"{name}_float"], PTQConfig(), x, batch=BATCH).convert()
        import onnx

        ref_path = paths[f"{name}_float"].with_name(f"ident_{name}.onnx")
        quantize_static(str(paths[f"{name}_float"]), str(ref_path), OrtReader(x), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        a, b = _initializers(onnx.load(str(ref_path))), _initializers(ours)
        for key in a:
            if key.endswith("_scale"):
                np.testing.assert_allclose(b[key], a[key], rtol=1e-6)
        images = np.load(paths["x"])
        out, report = simulate(ours, {"x": images})
        assert report.outputs[0].ort_mismatches == 0
        assert np.array_equal(out["logits"], ort_outputs(ours, {"x": images})[0])
