"""qlinear_matmul / qlinear_conv argument handling: per-row scales (ONNX allows them, checked
against onnx.reference), statistics, and typed errors for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.nn import AccumulatorStats, qlinear_conv, qlinear_matmul


def test_per_row_a_scale_matches_onnx_reference():
    pytest.importorskip("onnx", reason="onnx is in the test extra")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(8)
    names = ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"]
    graph = helper.make_graph(
        [helper.make_node("QLinearMatMul", names, ["y"])], "g",
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in names],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
    )
    evaluator = ReferenceEvaluator(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    a = rng.integers(0, 256, (20, 30)).astype(np.uint8)
    b = rng.integers(0, 256, (30, 12)).astype(np.uint8)
    sa = rng.uniform(0.01, 0.05, (20, 1)).astype(np.float32)
    za = rng.integers(100, 150, (20, 1)).astype(np.uint8)
    sb = rng.uniform(0.01, 0.05, 12).astype(np.float32)
    zb = rng.integers(100, 150, 12).astype(np.uint8)
    sy, zy = np.asarray(0.4, np.float32), np.asarray(128, np.uint8)
    ref = evaluator.run(None, dict(zip(names, [a, sa, za, b, sb, zb, sy, zy])))[0]
    ours = qlinear_matmul(a, sa, za, b, sb, zb, sy, zy, profile="onnx-reference")
    ours_1d = qlinear_matmul(a, sa.ravel(), za.ravel(), b, sb, zb, sy, zy, profile="onnx-reference")
    assert np.array_equal(ours, ref) and np.array_equal(ours_1d, ref)
    assert len(np.unique(ref)) > 30


def test_with_stats_reports_accumulator():
    a = np.full((4, 1000), 127, np.int8)
    b = np.full((1000, 3), 127, np.int8)
    one, z = np.asarray(1.0, np.float32), np.asarray(0, np.int8)
    y, stats = qlinear_matmul(a, one, z, b, one, z, np.asarray(2.0**20, np.float32), z, acc_bits=24,
                              overflow="sat", with_stats=True)
    assert isinstance(stats, AccumulatorStats)
    assert stats.outputs == 12 and stats.k == 1000
    assert stats.overflowed == 12 and stats.final_out_of_range == 12
    assert stats.peak == 1000 * 127 * 127 and stats.bits_needed == 25
    assert y.tolist() == [[8] * 3] * 4  # (2^23 - 1) / 2^20 = 7.99999 -> 8


def test_bad_inputs():
    a = np.zeros((2, 3), np.uint8)
    b = np.zeros((3, 2), np.uint8)
    s, z = np.asarray(0.1, np.float32), np.asarray(0, np.uint8)
    with pytest.raises(InputError, match="uint8 or int8"):
        qlinear_matmul(a.astype(np.int16), s, z, b, s, z, s, z)
    with pytest.raises(InputError, match="must match"):
        qlinear_matmul(a, s, np.asarray(0, np.int8), b, s, z, s, z)
    with pytest.raises(InputError, match="scales > 0"):
        qlinear_matmul(a, np.asarray(0.0, np.float32), z, b, s, z, s, z)
    with pytest.raises(ParameterError, match="unknown requantization profile"):
        qlinear_matmul(a, s, z, b, s, z, s, z, profile="nope")
    x = np.zeros((1, 2, 5, 5), np.uint8)
    w = np.zeros((3, 2, 3, 3), np.uint8)
    with pytest.raises(InputError, match="w_scale"):
        qlinear_conv(x, s, z, w, np.ones(2, np.float32), z, s, z)
    with pytest.raises(InputError, match="int32"):
        qlinear_conv(x, s, z, w, s, z, s, z, np.zeros(3, np.int64))
    with pytest.raises(ParameterError, match="auto_pad"):
        qlinear_conv(x, s, z, w, s, z, s, z, auto_pad="SAME")
    with pytest.raises(InputError, match="kernel_shape"):
        qlinear_conv(x, s, z, w, s, z, s, z, kernel_shape=[2, 2])
