"""Dynamic quantization against onnxruntime.quantization.quantize_dynamic (1.32.0): the same
nodes (type, name, inputs, outputs, attributes), the same initializers byte for byte, the same
outputs in onnxruntime, and our simulator's integer ops give onnxruntime's outputs."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import built_models, ort_outputs  # noqa: E402

from inwhale_hw.accel import simulate  # noqa: E402
from inwhale_hw.ptq import quantize_dynamic  # noqa: E402


def _nodes(model):
    import onnx

    return sorted((n.op_type, n.name, tuple(n.input), tuple(n.output),
                   tuple(sorted((a.name, str(onnx.helper.get_attribute_value(a))) for a in n.attribute)))
                  for n in model.graph.node)


@pytest.mark.parametrize("name", ["mlp", "cnn", "res"])
def test_same_as_quantize_dynamic(tmp_path_factory, tmp_path, name):
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as ort_quantize_dynamic

    paths = built_models(tmp_path_factory)
    ref_path = tmp_path / "dyn.onnx"
    ort_quantize_dynamic(str(paths[f"{name}_float"]), str(ref_path), weight_type=QuantType.QInt8)
    ref = onnx.load(str(ref_path))
    ours = quantize_dynamic(paths[f"{name}_float"])
    assert _nodes(ours) == _nodes(ref)
    a = {t.name: numpy_helper.to_array(t) for t in ref.graph.initializer}
    b = {t.name: numpy_helper.to_array(t) for t in ours.graph.initializer}
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key
    images = np.load(paths["x"])
    ref_out = ort_outputs(ref, {"x": images})[0]
    assert np.array_equal(ort_outputs(ours, {"x": images})[0], ref_out)
    sim, report = simulate(ours, {"x": images})
    mism = int(np.sum(sim["logits"] != ref_out))
    assert mism == report.outputs[0].ort_mismatches
    first = next((layer for layer in report.layers if layer.ort_mismatches), None)
    # res keeps a float AveragePool between the dynamic integer ops; it sums in MLAS's order
    assert mism == 0 and first is None
