"""Weight-only block formats on float models (inwhale_hw.accel.weight_formats): the rewritten
weights against gguf.quants and the OCP MX formula with ml_dtypes casts, the run against
onnxruntime on the same rewritten model."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="needs onnx (accel extra)")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from inwhale_hw.accel.weight_compare import compare_weight_formats  # noqa: E402
from inwhale_hw.accel.weight_formats import WEIGHT_FORMATS, quantize_weights  # noqa: E402
from inwhale_hw.errors import InputError, ModelError  # noqa: E402

K, H, N = 64, 96, 32


def _mlp(seed: int = 0, k: int = K) -> onnx.ModelProto:
    """x (B, k) -> MatMul W1 (k, H) -> Relu -> Gemm(transB=1) W2 (N, H) + b -> y (B, N)."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((k, H)) / np.sqrt(k)).astype(np.float32)
    w2 = (rng.standard_t(4, (N, H)) / np.sqrt(H)).astype(np.float32)
    b2 = rng.standard_normal(N).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", N])],
                              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                               numpy_helper.from_array(b2, "b2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _weights(proto) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}


@pytest.mark.parametrize("fmt, gtype", [("q4_0", "Q4_0"), ("q4_1", "Q4_1"), ("q5_0", "Q5_0"), ("q8_0", "Q8_0")])
def test_gguf_weights_equal_gguf_quants(fmt, gtype):
    quants = pytest.importorskip("gguf.quants", reason="needs gguf (test extra)")
    from gguf import GGMLQuantizationType

    model = _mlp()
    proto, layers = quantize_weights(model, fmt)
    before, after = _weights(model), _weights(proto)
    t = GGMLQuantizationType[gtype]
    # blocks run along K: rows of W^T for MatMul, rows of B for Gemm(transB=1)
    ref1 = quants.dequantize(quants.quantize(np.ascontiguousarray(before["w1"].T), t), t).T
    ref2 = quants.dequantize(quants.quantize(before["w2"], t), t)
    np.testing.assert_array_equal(after["w1"], ref1.astype(np.float32))
    np.testing.assert_array_equal(after["w2"], ref2.astype(np.float32))
    np.testing.assert_array_equal(after["b2"], before["b2"])
    block, size = quants.GGML_QUANT_SIZES[t]
    assert [(c.node, c.op, c.k, c.n) for c in layers] == [("fc1", "MatMul", K, H), ("fc2", "Gemm", H, N)]
    assert all(c.bits_per_weight == 8 * size / block for c in layers)


def test_mxfp8_weights_equal_ocp_formula_with_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="needs ml_dtypes (test extra)")
    model = _mlp(1)
    proto, layers = quantize_weights(model, "mxfp8")
    w = _weights(model)["w2"].astype(np.float64).reshape(N, -1, 32)
    # OCP MX v1.0 §6.3: X = 2^(floor(log2 amax) - emax_elem), emax(E4M3) = 8; elements RNE, clamped to ±448
    x = np.floor(np.log2(np.abs(w).max(axis=2, keepdims=True))) - 8
    elems = np.clip(w / 2.0**x, -448, 448).astype(ml_dtypes.float8_e4m3fn).astype(np.float64)
    np.testing.assert_array_equal(_weights(proto)["w2"], (elems * 2.0**x).reshape(N, H).astype(np.float32))
    assert layers[1].bits_per_weight == 8.25


def test_run_matches_onnxruntime_and_reports_cost():
    ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime (test extra)")
    model = _mlp(2)
    x = np.random.default_rng(3).standard_normal((8, K)).astype(np.float32)
    formats = ["q4_0", "q8_0", "mxfp4", "nf4", "fp8", "int4"]
    reference, results = compare_weight_formats(model, x, formats)
    float_ort = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(reference["y"], float_ort, rtol=1e-5, atol=1e-5)
    for res in results:
        proto, _ = quantize_weights(model, res.format)
        got = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        np.testing.assert_allclose(res.outputs["y"], got, rtol=1e-5, atol=1e-5)
        err = got.astype(np.float64) - float_ort
        sqnr = 10 * np.log10(np.sum(float_ort.astype(np.float64) ** 2) / np.sum(err**2))
        assert res.output_sqnr_db == pytest.approx(sqnr, abs=0.01)
        assert res.max_abs_error == pytest.approx(np.abs(err).max(), rel=1e-3, abs=1e-5)
    by = {r.format: r for r in results}
    assert by["q4_0"].bits_per_weight == 4.5 and by["mxfp4"].bits_per_weight == 4.25
    assert by["int4"].bits_per_weight == pytest.approx((4 * K * H + 32 * H + 4 * H * N + 32 * N) / (K * H + H * N))
    assert by["q4_0"].weight_bytes == pytest.approx(4.5 * (K * H + H * N) / 8)
    # 8-bit weights disturb the output less than 4-bit ones on the same model
    assert by["q8_0"].output_sqnr_db > by["q4_0"].output_sqnr_db + 15


def test_bad_inputs():
    with pytest.raises(InputError, match="weight format 'q3' is not known"):
        quantize_weights(_mlp(), "q3")
    with pytest.raises(ModelError, match="K=40 is not a multiple of the q4_0 block size 32"):
        quantize_weights(_mlp(k=40), "q4_0")
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    with pytest.raises(ModelError, match="no MatMul/Gemm"):
        quantize_weights(helper.make_model(graph), "q8_0")


def test_every_format_runs():
    model = _mlp(4)
    x = np.random.default_rng(5).standard_normal((2, K)).astype(np.float32)
    _, results = compare_weight_formats(model, x, list(WEIGHT_FORMATS))
    assert [r.format for r in results] == list(WEIGHT_FORMATS)
    assert all(np.isfinite(r.output_sqnr_db) and r.output_sqnr_db > 10 for r in results)


def test_cli_formats(tmp_path):
    import json

    from click.testing import CliRunner

    from inwhale_hw.cli import cli

    onnx.save(_mlp(6), str(tmp_path / "m.onnx"))
    x = np.random.default_rng(7).standard_normal((4, K)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    args = ["accel", "formats", str(tmp_path / "m.onnx"), "-i", str(tmp_path / "x.npy"), "-f", "q4_0", "-f", "mxfp8"]
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    _, direct = compare_weight_formats(_mlp(6), x, ["q4_0", "mxfp8"])
    assert [(d["format"], d["bits_per_weight"], d["output_sqnr_db"]) for d in data] == [
        (r.format, r.bits_per_weight, r.output_sqnr_db) for r in direct]
    assert [c["node"] for c in data[0]["layers"]] == ["fc1", "fc2"]
    text = CliRunner().invoke(cli, args + ["--layers"])
    assert text.exit_code == 0 and "q4_0" in text.output and "K=64" in text.output
    a8 = CliRunner().invoke(cli, args + ["--json", "--activations", "q8_0"])
    _, direct = compare_weight_formats(_mlp(6), x, ["q4_0", "mxfp8"], activations="q8_0")
    assert [d["output_sqnr_db"] for d in json.loads(a8.output)] == [r.output_sqnr_db for r in direct]
    bad = CliRunner().invoke(cli, args[:5] + ["-f", "q3"])
    assert bad.exit_code == 1 and "weight format 'q3' is not known" in bad.output


def test_q8_0_activations_equal_llama_cpp_arithmetic():
    """W4A8: Q4_0 weights x Q8_0 activations (llama.cpp's vec_dot_q4_0_q8_0), values from gguf."""
    quants = pytest.importorskip("gguf.quants", reason="needs gguf (test extra)")
    from gguf import GGMLQuantizationType as T

    rng = np.random.default_rng(8)
    w = rng.standard_normal((K, H)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "one",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, K])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, H])],
                              [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    x = rng.standard_normal((4, K)).astype(np.float32)
    _, (w4a8,) = compare_weight_formats(model, x, ["q4_0"], activations="q8_0")
    _, (w4a16,) = compare_weight_formats(model, x, ["q4_0"])
    wq = quants.dequantize(quants.quantize(np.ascontiguousarray(w.T), T.Q4_0), T.Q4_0).astype(np.float64)
    xq = quants.dequantize(quants.quantize(x, T.Q8_0), T.Q8_0).astype(np.float64)
    expect = xq @ wq.T
    np.testing.assert_allclose(w4a8.outputs["y"], expect, rtol=0, atol=1e-5 * np.abs(expect).max())
    # the activation quantization is really there: the weight-only run differs by far more
    assert np.abs(w4a16.outputs["y"] - expect).max() > 100 * 1e-5 * np.abs(expect).max()
    with pytest.raises(InputError, match="activations='int8'"):
        compare_weight_formats(model, x, ["q4_0"], activations="int8")


def test_simulate_with_a_block_weight_format(tmp_path):
    pytest.importorskip("onnxruntime", reason="needs onnxruntime (test extra)")
    from inwhale_hw.accel import AccelConfig, load_model, simulate
    from inwhale_hw.errors import ParameterError

    path = tmp_path / "mlp.onnx"
    onnx.save(_mlp(9), str(path))
    x = np.random.default_rng(10).standard_normal((3, K)).astype(np.float32)
    outputs, report = simulate(str(path), x, AccelConfig(weights="nf4"), float_model=str(path))
    _, (direct,) = compare_weight_formats(_mlp(9), x, ["nf4"])
    np.testing.assert_array_equal(outputs["y"], direct.outputs["y"])
    text = report.to_text()
    assert "weights: nf4 (weight-only), MatMul 'fc1' K=64 N=96" in text and "Gemm 'fc2' K=96 N=32" in text
    assert AccelConfig(weights="q4_0").block_weights and not AccelConfig(weights="int4").block_weights
    with pytest.raises(ParameterError, match="weights.format='q3' is not allowed.*q4_0, q4_1"):
        AccelConfig(weights="q3")
    with pytest.raises(InputError, match="pass a path or ModelProto, not a Graph"):
        simulate(load_model(_mlp(9), role="float"), x, AccelConfig(weights="q8_0"))
