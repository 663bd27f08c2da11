"""Loading errors: unsupported operators, unreadable files, a missing onnx extra, bad inputs."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from inwhale_hw.accel import execute, load_model, simulate  # noqa: E402
from inwhale_hw.errors import InputError, ModelError, UnsupportedError  # noqa: E402


def _model(nodes, consts=None, out_type=TensorProto.FLOAT):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", out_type, None)],
        initializer=[numpy_helper.from_array(v, k) for k, v in (consts or {}).items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_unsupported_operator_names_op_and_node():
    m = _model([helper.make_node("Relu", ["x"], ["h"], name="act"), helper.make_node("TopK", ["h"], ["y"], name="probs")])
    with pytest.raises(ModelError, match=r"unsupported operator 'TopK' \(domain 'ai.onnx'\) in node 'probs' of the quantized model"):
        load_model(m)
    m2 = _model([helper.make_node("QAttention", ["x"], ["y"], name="att", domain="com.microsoft")])
    with pytest.raises(ModelError, match=r"'QAttention' \(domain 'com.microsoft'\) in node 'att' of the float model"):
        load_model(m2, role="float")


def test_unnamed_node_gets_a_positional_name():
    m = _model([helper.make_node("Relu", ["x"], ["h"]), helper.make_node("Sin", ["h"], ["y"])])
    with pytest.raises(ModelError, match=r"'Sin' \(domain 'ai.onnx'\) in node 'Sin_1'"):
        load_model(m)


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07 this is not protobuf \xff\xff\xff")
    with pytest.raises(ModelError, match="is not a readable ONNX model"):
        load_model(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "missing.onnx")


def test_missing_onnx_extra_is_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "onnx", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(UnsupportedError, match=r"inwhale_hw\[onnx\]"):
        load_model("any.onnx")


def test_bad_inputs_and_blocked_options():
    m = _model([helper.make_node("Relu", ["x"], ["y"])])
    g = load_model(m)
    with pytest.raises(InputError, match="has shape"):
        execute(g, np.zeros((3, 5), np.float32))
    with pytest.raises(InputError, match="missing model input 'x'"):
        execute(g, {"z": np.zeros((3, 4), np.float32)})
    with pytest.raises(InputError, match="dtype"):
        execute(g, np.zeros((3, 4), np.complex64))
    y = execute(g, np.array([[-1.0, 2.0, -0.5, 3.0]])).outputs["y"]  # float64 input converted to float32
    assert y.dtype == np.float32 and np.array_equal(y, [[0, 2, 0, 3]])
    blocked = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], block_size=2),
                      helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
                     {"s": np.ones((1, 2), np.float32), "z": np.zeros((1, 2), np.uint8)})
    with pytest.raises(ModelError, match=r"block_size=2 on axis 1 of \(3, 4\) needs scale and zero point of shape \(3, 2\)"):
        execute(load_model(blocked), np.zeros((3, 4), np.float32))


def test_maxpool_indices_output_is_refused():
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2], name="mp")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None), helper.make_tensor_value_info("idx", TensorProto.INT64, None)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ModelError, match="Indices"):
        load_model(m)


def test_constant_nodes_become_constants():
    m = _model([helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.full(4, 0.5, np.float32))),
                helper.make_node("Add", ["x", "c"], ["y"])])
    g = load_model(m)
    assert [op.kind for op in g.ops] == ["Add"]
    out, report = simulate(g, np.ones((2, 4), np.float32), reference=False)
    assert np.array_equal(out["y"], np.full((2, 4), 1.5, np.float32))
    assert report.layers[0].engine == "host"


def test_shape_arithmetic_on_constants_is_folded():
    from inwhale_hw.accel import simulate

    nodes = [helper.make_node("Shape", ["w"], ["ws"]),
             helper.make_node("Gather", ["ws", "zero"], ["d0"], axis=0),
             helper.make_node("Unsqueeze", ["d0", "ax"], ["d0u"]),
             helper.make_node("Concat", ["minus1", "d0u"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    consts = {"w": np.zeros((2, 3), np.float32), "zero": np.array(0, np.int64), "ax": np.array([0], np.int64),
              "minus1": np.array([-1], np.int64)}
    m = _model(nodes, consts)
    g = load_model(m)
    assert g.kinds() == ["Reshape"] and g.constants["target"].tolist() == [-1, 2]
    x = np.arange(4 * 300, dtype=np.float32).reshape(300, 4)
    outputs, report = simulate(m, x)
    assert outputs["y"].shape == (600, 2) and report.outputs[0].ort_mismatches == 0


def _qdq_matmul_gemm(act):
    """x -> Q/DQ (``act``) -> MatMul(DQ int8 w) -> Q/DQ -> Gemm(DQ int8 w, DQ int32 bias) -> y."""
    rng = np.random.default_rng(5)
    zp = act(0) if act == np.int8 else act(128)
    consts = {"s": np.float32(0.05), "z": zp, "w": rng.integers(-127, 128, (4, 6)).astype(np.int8),
              "ws": np.float32(0.01), "wz": np.int8(0), "s2": np.float32(0.02),
              "g": rng.integers(-127, 128, (6, 3)).astype(np.int8), "gs": np.float32(0.02),
              "b": rng.integers(-900, 900, 3).astype(np.int32), "bs": np.float32(0.02 * 0.02)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q_in"),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_in"),
             helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dq_w"),
             helper.make_node("MatMul", ["xd", "wd"], ["m"], name="mm"),
             helper.make_node("QuantizeLinear", ["m", "s2", "z"], ["mq"], name="q_mm"),
             helper.make_node("DequantizeLinear", ["mq", "s2", "z"], ["md"], name="dq_mm"),
             helper.make_node("DequantizeLinear", ["g", "gs", "wz"], ["gd"], name="dq_g"),
             helper.make_node("DequantizeLinear", ["b", "bs"], ["bd"], name="dq_b"),
             helper.make_node("Gemm", ["md", "gd", "bd"], ["y"], name="gemm")]
    return _model(nodes, consts), rng.uniform(-6, 6, (64, 4)).astype(np.float32)


@pytest.mark.parametrize("act", [np.uint8, np.int8])
def test_int8_activation_conv_and_matmul_stay_float_like_onnxruntime_x86(act):
    """onnxruntime's QDQ selectors fuse a Conv / MatMul with int8 activations only where
    QDQIsInt8Allowed() (ARM builds); on x86-64 it runs DQ -> float op -> Q, and so must the
    simulator.  Gemm fuses into QGemm for both types.  Every integer tensor is compared with
    onnxruntime; the float output too for uint8.  With int8 activations onnxruntime's s8s8 QGemm
    differs from the exact sum on some outputs (by one product: a known, not yet modelled gap,
    see CHANGELOG), so that output is not asserted."""
    pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")
    m, x = _qdq_matmul_gemm(act)
    kinds = {op.name: op.kind for op in load_model(m).ops}
    assert kinds["gemm"] == "QGemm"
    assert kinds["mm"] == ("MatMul" if act == np.int8 else "QLinearMatMul")
    _, report = simulate(m, x)
    ints = [layer for layer in report.layers if layer.ort_compared and "int" in layer.dtype]
    assert {layer.name for layer in ints} >= {"q_in", "q_mm" if act == np.int8 else "mm"}
    assert all(layer.ort_mismatches == 0 for layer in ints), [(layer.name, layer.ort_mismatches) for layer in ints]
    if act == np.uint8:
        assert report.outputs[0].ort_mismatches == 0 and report.outputs[0].ort_max_abs_diff == 0.0
