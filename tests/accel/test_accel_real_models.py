"""End-to-end networks in the shape of ResNet, SqueezeNet, MobileNetV3, DenseNet and a
transformer encoder block (examples/real_models/nets.py, small sizes), quantized by
onnxruntime (static QDQ per-tensor uint8, QDQ per-channel int8, QOperator per-channel uint8,
dynamic), simulated, and compared with onnxruntime: every integer tensor and the output."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from inwhale_hw.accel import simulate  # noqa: E402

NETS_DIR = Path(__file__).resolve().parents[2] / "examples" / "real_models"
MODES = [("qdq", False, "uint8"), ("qdq", True, "int8"), ("qoperator", True, "uint8"), ("dynamic", False, "uint8")]
#: (network, mode) pairs whose output is float32 after float operators (LayerNormalization,
#: Softmax, Erf) that onnxruntime approximates differently: compared within 1e-5
FLOAT_TAIL = {("transformer", "dynamic")}
#: onnxruntime 1.32 on x86-64 leaves int8 QDQ Conv / MatMul / Mul / Concat groups as
#: DQ -> float op -> Q, and so does the simulator (its float32 ops sum in another order, and
#: int8 QGemm is not modelled bit for bit yet); the two agree except at rounding ties: one
#: output code of the DenseNet-style net.  For the same reason the float tensors of int8 QDQ
#: models are not compared with the tolerance below.
KNOWN_LSB = {("densenet", "qdq", "int8")}


def nets():
    """examples/real_models/nets.py, loaded from its path (not via sys.path: the examples have
    other modules, e.g. two ``study.py``, that must not shadow each other)."""
    name = "real_models_nets"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, NETS_DIR / "nets.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime.quantization warns about pre-processing
    n = nets()
    out = tmp_path_factory.mktemp("real_models")
    paths = {}
    for name, builder in n.BUILDERS.items():
        fp = out / f"{name}.onnx"
        onnx.save(builder(), fp)
        for mode, per_channel, act in MODES:
            paths[(name, mode, per_channel, act)] = n.quantize(fp, out / f"{name}_{mode}_{per_channel}_{act}.onnx", mode,
                                                              per_channel, act)
        paths[name] = fp
    return paths


@pytest.mark.parametrize("name", ["resnet", "squeezenet", "mobilenetv3", "densenet", "transformer"])
@pytest.mark.parametrize("mode,per_channel,act", MODES)
def test_network_matches_onnxruntime(built, name, mode, per_channel, act):
    fp = built[name]
    x = nets().calibration(onnx.load(str(fp)), 1, seed=99)[0]
    outputs, report = simulate(built[(name, mode, per_channel, act)], x, float_model=fp)
    compared = [layer for layer in report.layers if layer.ort_compared and "int" in layer.dtype]
    assert compared and all(layer.ort_mismatches == 0 for layer in compared), \
        [(layer.name, layer.op, layer.ort_mismatches) for layer in compared if layer.ort_mismatches]
    floats = [layer for layer in report.layers if layer.ort_compared and "float" in layer.dtype and act == "uint8"]
    assert all(layer.ort_max_abs_diff <= 1e-5 for layer in floats), [(f.name, f.op, f.ort_max_abs_diff) for f in floats]
    assert report.versions["onnxruntime"] and report.versions["onnx"]
    out = report.outputs[0]
    if (name, mode) in FLOAT_TAIL:
        assert out.ort_max_abs_diff <= 1e-5
    elif (name, mode, act) in KNOWN_LSB:
        assert out.ort_mismatches <= 1
    else:
        assert out.ort_mismatches == 0 and out.ort_max_abs_diff == 0.0
    assert np.all(np.isfinite(outputs["y"])) and out.float_max_abs_error is not None


def test_structure_has_the_operators_named(built):
    kinds = {name: {n.op_type for n in onnx.load(str(built[name])).graph.node} for name in nets().BUILDERS}
    assert "Sum" in kinds["resnet"] and "Concat" in kinds["squeezenet"]
    assert {"HardSwish", "HardSigmoid", "GlobalAveragePool", "Mul"} <= kinds["mobilenetv3"]
    assert {"BatchNormalization", "Concat", "AveragePool"} <= kinds["densenet"]
    assert {"LayerNormalization", "Softmax", "Erf", "MatMul", "Transpose"} <= kinds["transformer"]


@pytest.mark.parametrize("mode", ["qdq", "dynamic"])
def test_decomposed_layernorm_transformer(tmp_path, mode):
    n = nets()
    fp = tmp_path / "t.onnx"
    onnx.save(n.transformer(layernorm="decomposed"), fp)
    assert {"ReduceMean", "Pow", "Sqrt"} <= {node.op_type for node in onnx.load(str(fp)).graph.node}
    logging.getLogger().setLevel(logging.ERROR)
    q = n.quantize(fp, tmp_path / "q.onnx", mode)
    x = n.calibration(onnx.load(str(fp)), 1, seed=99)[0]
    outputs, report = simulate(q, x, float_model=fp)
    ints = [layer for layer in report.layers if layer.ort_compared and "int" in layer.dtype]
    assert ints and sum(layer.ort_mismatches for layer in ints) == 0
    assert report.outputs[0].ort_max_abs_diff <= 1e-5 and report.outputs[0].float_max_abs_error < 1.0


def test_gelu_operator_form():
    m = nets().transformer(gelu="op")
    import onnxruntime as ort

    x = nets().calibration(m, 1, seed=5)[0]
    outputs, report = simulate(m, x)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(outputs["y"], ref, rtol=1e-5, atol=1e-5)
