"""The com.microsoft quantized operators, dynamic quantization and low-bit DequantizeLinear
against onnxruntime, bit for bit, on random inputs with edge cases (every code of a lookup
table, zero points at the rails, scale ratios that saturate or overflow the float->int
conversion, both integer types)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from accel_models import ort_outputs  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_accel_ops import check, f32, model  # noqa: E402

from inwhale_hw.accel import SUPPORTED, execute, load_model, simulate  # noqa: E402
from inwhale_hw.accel.simulate import EXECUTORS  # noqa: E402

MS = "com.microsoft"
RNG = np.random.default_rng(12)
TYPES = (np.uint8, np.int8)


def codes(dtype, shape):
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max + 1, shape).astype(dtype)


def every_code(dtype, shape=(2, 128)):
    return np.arange(256, dtype=np.uint8).view(np.dtype(dtype)).reshape(shape)


def zp(dtype, value):
    return np.asarray(value).astype(dtype)


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("b_shape", [(2, 3, 5, 7), (1, 3, 1, 1), (1,), (7,)])
def test_qlinear_mul_broadcast_rails_and_overflow(dtype, b_shape):
    a, b = codes(dtype, (2, 3, 5, 7)), codes(dtype, b_shape)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    for sa, sb, sc, zc in ((0.02, 0.031, 0.05, lo), (0.1, 0.2, 1e-4, hi), (0.5, 0.5, 1e-9, 0), (3e-3, 7e-3, 0.4, 1)):
        m = model([helper.make_node("QLinearMul", ["a", "sa", "za", "b", "sb", "zb", "sc", "zc"], ["y"], domain=MS)],
                  {"a": a, "b": b}, {"y": dtype},
                  {"sa": f32(sa), "za": zp(dtype, lo + 5), "sb": f32(sb), "zb": zp(dtype, hi - 3), "sc": f32(sc), "zc": zp(dtype, zc)})
        check(m, {"a": a, "b": b})


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("shape", [(2, 5, 7, 9), (3, 4, 33), (1, 17, 1, 1)])
def test_qlinear_global_average_pool(dtype, shape):
    x = codes(dtype, shape)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    for sx, zx, sy, zy in ((0.02, lo, 0.013, 0), (0.05, hi, 0.05, lo), (0.01, 0, 0.3, hi)):
        m = model([helper.make_node("QLinearGlobalAveragePool", ["x", "sx", "zx", "sy", "zy"], ["y"], domain=MS, channels_last=0)],
                  {"x": x}, {"y": dtype}, {"sx": f32(sx), "zx": zp(dtype, zx), "sy": f32(sy), "zy": zp(dtype, zy)})
        check(m, {"x": x})


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("op,attrs", [("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.13}),
                                      ("QLinearLeakyRelu", {"alpha": 2.5})])
def test_lookup_table_ops_every_code(dtype, op, attrs):
    x = every_code(dtype)
    lo = np.iinfo(dtype).min
    for sx, zx, sy, zy in ((0.05, 0, 1 / 256, lo), (0.3, 17, 0.02, 0), (0.001, lo, 0.0007, 100 if dtype == np.uint8 else -100)):
        m = model([helper.make_node(op, ["x", "sx", "zx", "sy", "zy"], ["y"], domain=MS, **attrs)], {"x": x}, {"y": dtype},
                  {"sx": f32(sx), "zx": zp(dtype, zx), "sy": f32(sy), "zy": zp(dtype, zy)})
        check(m, {"x": x})


@pytest.mark.parametrize("dtype", TYPES)
def test_qlinear_concat_copy_and_requantize(dtype):
    a, b, c = codes(dtype, (2, 3, 4)), every_code(dtype, (2, 32, 4)), codes(dtype, (2, 1, 4))
    m = model([helper.make_node("QLinearConcat", ["sy", "zy", "a", "sa", "za", "b", "sb", "zb", "c", "sc", "zc"], ["y"],
                                domain=MS, axis=1)],
              {"a": a, "b": b, "c": c}, {"y": dtype},
              {"sy": f32(0.02), "zy": zp(dtype, 3), "sa": f32(0.02), "za": zp(dtype, 3), "sb": f32(0.0371), "zb": zp(dtype, -7 if dtype == np.int8 else 200),
               "sc": f32(0.5), "zc": zp(dtype, 1)})
    check(m, {"a": a, "b": b, "c": c})


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("axis,opset", [(-1, 13), (1, 13), (1, 12)])
def test_qlinear_softmax(dtype, axis, opset):
    x = codes(dtype, (3, 4, 10))
    x[0, 0] = np.iinfo(dtype).max  # a row of equal maxima
    for sx in (0.02, 0.3, 2.0):
        m = model([helper.make_node("QLinearSoftmax", ["x", "sx", "zx", "sy", "zy"], ["y"], domain=MS, axis=axis, opset=opset)],
                  {"x": x}, {"y": dtype}, {"sx": f32(sx), "zx": zp(dtype, 3), "sy": f32(1 / 256), "zy": zp(dtype, np.iinfo(dtype).min)})
        check(m, {"x": x})


def test_dynamic_quantization_ops():
    x = np.concatenate([RNG.normal(0, 3, 300), [0.0, 7.5, -2.25]]).astype(np.float32).reshape(3, 101)
    for data in (x, np.abs(x), -np.abs(x), np.zeros_like(x)):
        m = model([helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"])], {"x": data},
                  {"q": np.uint8, "s": np.float32, "z": np.uint8}, {})
        check(m, {"x": data})
    a, b = codes(np.uint8, (2, 5, 19)), codes(np.int8, (19, 6))
    m = model([helper.make_node("MatMulInteger", ["a", "b", "za", "zb"], ["y"])], {"a": a}, {"y": np.int32},
              {"b": b, "za": zp(np.uint8, 131), "zb": codes(np.int8, (6,))})
    check(m, {"a": a})
    x, w = codes(np.uint8, (2, 4, 9, 8)), codes(np.int8, (6, 2, 3, 3))
    m = model([helper.make_node("ConvInteger", ["x", "w", "zx", "zw"], ["y"], group=2, pads=[1, 0, 1, 2], strides=[2, 1])],
              {"x": x}, {"y": np.int32}, {"w": w, "zx": zp(np.uint8, 255), "zw": zp(np.int8, -3)})
    check(m, {"x": x})


def _dq_model(q_tensor, scale: np.ndarray, zero=None, out=TensorProto.FLOAT, **attrs):
    inits = [q_tensor, numpy_helper.from_array(scale, "s")] + ([zero] if zero is not None else [])
    node = helper.make_node("DequantizeLinear", ["q", "s"] + (["z"] if zero is not None else []), ["y"], **attrs)
    m = helper.make_model(helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", out, None)], inits),
                          opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    return m


def _same(m):
    ours = execute(load_model(m), {}).outputs["y"]
    theirs = ort_outputs(m, {})[0]
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs, equal_nan=True), f"{np.count_nonzero(ours != theirs)} differ"
    return ours


@pytest.mark.parametrize("elem", ["FLOAT8E4M3FN", "FLOAT8E5M2", "FLOAT8E4M3FNUZ", "FLOAT8E5M2FNUZ"])
def test_float8_dequantize_every_code(elem):
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes is the float8 reference")
    bits = np.arange(256, dtype=np.uint8)
    y = _same(_dq_model(helper.make_tensor("q", getattr(TensorProto, elem), [256], bits.tobytes(), raw=True), np.float32(0.37)))
    ref = bits.view(getattr(ml_dtypes, elem.lower().replace("float8", "float8_"))).astype(np.float32) * np.float32(0.37)
    assert np.array_equal(y, ref, equal_nan=True)


def test_float4_decoded_like_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes is the float4 reference")
    from inwhale_hw.accel.low_bit import decode

    bits = np.arange(16, dtype=np.uint8)
    values, is_float = decode(bits.view(ml_dtypes.float4_e2m1fn))
    assert is_float and np.array_equal(values, bits.view(ml_dtypes.float4_e2m1fn).astype(np.float32))


def test_blocked_int4_and_float16_dequantize():
    vals = RNG.integers(-8, 8, (6, 8))
    _same(_dq_model(helper.make_tensor("q", TensorProto.INT4, [6, 8], vals.ravel().tolist()),
                    RNG.uniform(0.01, 0.1, (6, 3)).astype(np.float32),
                    helper.make_tensor("z", TensorProto.INT4, [6, 3], RNG.integers(-8, 8, 18).tolist()), axis=1, block_size=3))
    _same(_dq_model(helper.make_tensor("q", TensorProto.UINT4, [6, 8], RNG.integers(0, 16, 48).tolist()),
                    RNG.uniform(0.01, 0.1, (2, 8)).astype(np.float32),
                    helper.make_tensor("z", TensorProto.UINT4, [2, 8], RNG.integers(0, 16, 16).tolist()), axis=0, block_size=4))
    q8 = numpy_helper.from_array(codes(np.int8, (4, 5)), "q")
    y = _same(_dq_model(q8, RNG.uniform(0.01, 0.1, (4,)).astype(np.float16), numpy_helper.from_array(codes(np.int8, (4,)), "z"),
                        out=TensorProto.FLOAT16, axis=0))
    assert y.dtype == np.float16


def test_every_supported_operator_has_an_executor():
    missing = [op for (_, op) in SUPPORTED if op not in EXECUTORS and op != "Constant"]
    assert not missing
    assert all(form in ("integer", "float32", "data", "qdq") for form, _ in SUPPORTED.values())


def _nbits_model(k: int, n: int, block: int, with_zp: bool, with_bias: bool):
    blocks = -(-k // block)
    codes = RNG.integers(0, 16, (n, blocks * block))
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8).reshape(n, blocks, block // 2)
    consts = {"b": packed, "s": RNG.uniform(0.01, 0.1, (n, blocks)).astype(np.float32)}
    inputs = ["a", "b", "s"]
    if with_zp:
        zps = RNG.integers(0, 16, (n, blocks + blocks % 2))
        consts["z"] = (zps[:, 0::2] | (zps[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    inputs.append("z" if with_zp else "")
    if with_bias:
        inputs += ["", "bias"]
        consts["bias"] = RNG.normal(0, 1, n).astype(np.float32)
    a = RNG.normal(0, 1, (2, 3, k)).astype(np.float32)
    node = helper.make_node("MatMulNBits", inputs, ["y"], domain=MS, K=k, N=n, bits=4, block_size=block)
    return model([node], {"a": a}, {"y": np.float32}, consts), a


@pytest.mark.parametrize("k,block,with_zp,with_bias", [(80, 32, False, False), (80, 16, True, False), (64, 32, True, True)])
def test_matmul_nbits_within_stated_tolerance(k, block, with_zp, with_bias):
    m, a = _nbits_model(k, 12, block, with_zp, with_bias)
    ours = execute(load_model(m), {"a": a}).outputs["y"]
    theirs = ort_outputs(m, {"a": a})[0]
    assert "rel 1e-5" in SUPPORTED[(MS, "MatMulNBits")][1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * float(np.abs(theirs).max()))


def test_matmul_nbits_as_matmul4bits_quantizer_writes_it():
    import logging

    from tests_support import need_module

    need_module("onnx_ir", "onnxruntime's MatMulNBitsQuantizer imports it (test extra)")
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger().setLevel(logging.ERROR)
    w = numpy_helper.from_array(RNG.normal(0, 0.3, (96, 20)).astype(np.float32), "w")
    m = model([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": np.zeros((4, 96), np.float32)}, {"y": np.float32}, {})
    m.graph.initializer.append(w)
    quantizer = MatMulNBitsQuantizer(m, block_size=32, is_symmetric=True)
    quantizer.process()
    qm = quantizer.model.model
    assert [n.op_type for n in qm.graph.node] == ["MatMulNBits"]
    x = RNG.normal(0, 1, (4, 96)).astype(np.float32)
    outputs, report = simulate(qm, x)
    assert report.outputs[0].ort_max_abs_diff <= 1e-5 * float(np.abs(outputs["y"]).max())
    assert "int4 weights 20x96" in report.layers[0].notes[0] and "zero points 8..8" in report.layers[0].notes[0]


def test_requantizing_vector_ops_count_saturation():
    a = np.array([[0, 255, 128, 250]], np.uint8)
    m = model([helper.make_node("QLinearMul", ["a", "sa", "za", "a", "sa", "za", "sc", "zc"], ["y"], domain=MS)],
              {"a": a}, {"y": np.uint8}, {"sa": f32(0.1), "za": zp(np.uint8, 128), "sc": f32(0.01), "zc": zp(np.uint8, 128)})
    outputs, report = simulate(m, a)
    layer = report.layers[0]
    # (a - 128)^2 * 0.1^2 / 0.01 + 128 = d^2 + 128: d = -128, 127, 0, 122 -> 3 above 255, none below 0
    assert (layer.clamped_low, layer.clamped_high) == (0, 3) and layer.ort_mismatches == 0
    assert outputs["y"].tolist() == [[255, 255, 128, 255]]


@pytest.mark.parametrize("dtype", [np.int16, np.uint16])
def test_sixteen_bit_quantize_dequantize_and_blocked_quantize(dtype):
    x = np.concatenate([RNG.normal(0, 300, 400), [0.5, -0.5, 1e9, -1e9]]).astype(np.float32).reshape(4, 101)
    info = np.iinfo(dtype)
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]), helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    m = model(nodes, {"x": x}, {"q": dtype, "y": np.float32}, {"s": f32(0.01), "z": zp(dtype, info.min // 2 + info.max // 3)})
    m.opset_import[0].version = 21
    m.ir_version = 10
    check(m, {"x": x})
    xb = RNG.normal(0, 3, (4, 10)).astype(np.float32)
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, block_size=4)
    m = model([node], {"x": xb}, {"q": np.int8}, {"s": RNG.uniform(0.01, 0.05, (4, 3)).astype(np.float32), "z": codes(np.int8, (4, 3))})
    m.opset_import[0].version = 21
    m.ir_version = 10
    check(m, {"x": xb})
