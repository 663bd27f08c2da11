"""Running a batch in chunks gives the same tensors and statistics as one batch."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from inwhale_hw.accel import AccelConfig, execute, load_model  # noqa: E402


def _stats(run):
    return [(s.macs, s.cycles, s.acc_peak, s.acc_bits_needed, s.acc_bound_bits, s.overflowed, s.out_of_range,
             s.clamped_low, s.clamped_high) for s in run.layers]


@pytest.mark.parametrize("net", ["cnn_qdq", "res_qoperator", "mlp_qdq"])
def test_chunked_equals_whole_batch(tmp_path_factory, net):
    paths = built_models(tmp_path_factory)
    graph = load_model(paths[net])
    x = np.load(paths["x"])[:700]
    for config in (AccelConfig(), AccelConfig(acc_bits=14, overflow="sat", track_partials=True)):
        whole = execute(graph, x, config, chunk=None)
        for chunk in ("auto", 100, 333):
            part = execute(graph, x, config, chunk=chunk)
            assert set(part.tensors) == set(whole.tensors)
            assert all(np.array_equal(part.tensors[k], whole.tensors[k]) for k in whole.tensors)
            assert _stats(part) == _stats(whole)


def test_graph_mixing_images_runs_as_one_batch():
    """Reshape to (1, -1) folds the batch: chunking must notice and fall back."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["flat"]), helper.make_node("Relu", ["flat"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.array([1, -1], np.int64), "shape")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.arange(-600, 600, dtype=np.float32).reshape(400, 3)
    run = execute(load_model(m), x, chunk=50)
    assert run.outputs["y"].shape == (1, 1200) and np.array_equal(run.outputs["y"][0], np.maximum(x.reshape(-1), 0))
