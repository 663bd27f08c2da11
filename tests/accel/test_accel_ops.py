"""Every executor against onnxruntime on small models built with onnx.helper.

Random data with seeds, plus crafted cases: QuantizeLinear ties (``x / s`` exactly half-way),
saturation, padding, ceil mode, groups, per-channel scales, broadcasting in QLinearAdd.
Equality is bit for bit (``np.array_equal``) except for the float Conv / Gemm / MatMul /
AveragePool, whose summation order differs from MLAS's (documented in ``ops_float``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from accel_models import ort_outputs  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from inwhale_hw.accel import execute, load_model  # noqa: E402
from inwhale_hw.accel.f32 import fma_f32  # noqa: E402

RNG = np.random.default_rng(2024)
_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.uint8): TensorProto.UINT8,
          np.dtype(np.int8): TensorProto.INT8, np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int64): TensorProto.INT64,
          np.dtype(np.int16): TensorProto.INT16, np.dtype(np.uint16): TensorProto.UINT16}


def model(nodes, inputs: dict[str, np.ndarray], outputs: dict[str, np.dtype], consts: dict[str, np.ndarray]):
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(k, _TYPES[v.dtype], list(v.shape)) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, _TYPES[np.dtype(t)], None) for k, t in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m


def check(m, feeds, exact=True):
    ours = execute(load_model(m), feeds).outputs
    theirs = ort_outputs(m, feeds)
    for (name, a), b in zip(ours.items(), theirs):
        assert a.dtype == b.dtype and a.shape == b.shape, (name, a.dtype, b.dtype, a.shape, b.shape)
        if exact:
            assert np.array_equal(a, b), f"{name}: {np.count_nonzero(a != b)} of {a.size} differ"
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    return ours


def f32(v):
    return np.asarray(v, dtype=np.float32)


def u8(shape):
    return RNG.integers(0, 256, shape).astype(np.uint8)


def test_quantize_linear_ties_saturation_and_per_axis():
    s = np.float32(0.0371)
    k = np.arange(-300, 300, dtype=np.float32)
    ties = (k + np.float32(0.5)) * s  # x / s lands on (or one ulp from) .5
    x = np.concatenate([ties, RNG.normal(0, 5, 4000).astype(np.float32), f32([0, -0.0, 1e9, -1e9, np.nan, np.inf, -np.inf])]).reshape(1, -1)
    for zp in (np.uint8(0), np.uint8(131), np.int8(-7)):
        m = model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])], {"x": x}, {"y": zp.dtype},
                  {"s": f32(s), "z": np.asarray(zp)})
        check(m, {"x": x})
    xc = RNG.normal(0, 3, (2, 3, 5)).astype(np.float32)
    m = model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
               helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)],
              {"x": xc}, {"q": np.uint8, "y": np.float32}, {"s": f32([0.02, 0.05, 0.11]), "z": np.array([0, 128, 250], np.uint8)})
    check(m, {"x": xc})


def test_qlinear_conv_strides_pads_dilation_groups_per_channel():
    x = u8((3, 4, 11, 9))
    w = RNG.integers(-128, 128, (6, 2, 3, 2)).astype(np.int8)
    consts = {"xs": f32(0.013), "xz": np.uint8(117), "w": w, "ws": f32(RNG.uniform(0.002, 0.02, 6)),
              "wz": np.int8(0), "ys": f32(0.09), "yz": np.uint8(3), "b": RNG.integers(-5000, 5000, 6).astype(np.int32)}
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
                            strides=[2, 1], pads=[1, 0, 2, 1], dilations=[2, 1], group=2)
    check(model([node], {"x": x}, {"y": np.uint8}, consts), {"x": x})
    one_d = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], auto_pad="SAME_UPPER", strides=[2])
    consts1 = {**consts, "w": RNG.integers(-128, 128, (5, 4, 3)).astype(np.int8), "ws": f32(0.01)}
    del consts1["b"]
    x1 = u8((2, 4, 13))
    check(model([one_d], {"x": x1}, {"y": np.uint8}, consts1), {"x": x1})


def test_qlinear_matmul_batched_and_qgemm_variants():
    a = u8((2, 7, 33))
    b = RNG.integers(-128, 128, (33, 5)).astype(np.int8)
    consts = {"as": f32(0.02), "az": np.uint8(140), "b": b, "bs": f32(0.004), "bz": np.int8(0), "ys": f32(0.3), "yz": np.uint8(128)}
    mm = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    check(model([mm], {"a": a}, {"y": np.uint8}, consts), {"a": a})
    a2 = u8((9, 40))
    bt = RNG.integers(-128, 128, (6, 40)).astype(np.int8)
    gconsts = {"as": f32(0.03), "az": np.uint8(9), "b": bt, "bs": f32(RNG.uniform(0.001, 0.01, 6)), "bz": np.zeros(6, np.int8),
               "c": RNG.integers(-3000, 3000, 6).astype(np.int32), "ys": f32(0.2), "yz": np.uint8(100)}
    q = helper.make_node("QGemm", ["a", "as", "az", "b", "bs", "bz", "c", "ys", "yz"], ["y"], domain="com.microsoft",
                         transB=1, alpha=0.75)
    check(model([q], {"a": a2}, {"y": np.uint8}, gconsts), {"a": a2})
    qf = helper.make_node("QGemm", ["a", "as", "az", "b", "bs", "bz", "c"], ["y"], domain="com.microsoft", transB=1, alpha=0.75)
    check(model([qf], {"a": a2}, {"y": np.float32}, {k: v for k, v in gconsts.items() if k not in ("ys", "yz")}), {"a": a2})


@pytest.mark.parametrize("shape_b", [(256, 256), (1,), (256, 1), (1, 256)])
def test_qlinear_add_every_pair_of_codes(shape_b):
    a = np.repeat(np.arange(256, dtype=np.uint8), 256).reshape(256, 256)
    b_full = np.tile(np.arange(256, dtype=np.uint8), 256).reshape(256, 256)
    b = b_full[: shape_b[0], : shape_b[-1]].reshape(shape_b) if len(shape_b) == 2 else np.array([77], np.uint8)
    for _ in range(3):
        consts = {"as": f32(RNG.uniform(0.001, 0.1)), "az": np.uint8(RNG.integers(0, 256)), "bs": f32(RNG.uniform(0.001, 0.1)),
                  "bz": np.uint8(RNG.integers(0, 256)), "cs": f32(RNG.uniform(0.001, 0.1)), "cz": np.uint8(RNG.integers(0, 256))}
        node = helper.make_node("QLinearAdd", ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"], domain="com.microsoft")
        check(model([node], {"a": a, "b": b}, {"y": np.uint8}, consts), {"a": a, "b": b})
        swapped = helper.make_node("QLinearAdd", ["b", "bs", "bz", "a", "as", "az", "cs", "cz"], ["y"], domain="com.microsoft")
        check(model([swapped], {"a": a, "b": b}, {"y": np.uint8}, consts), {"a": a, "b": b})


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], strides=[2, 2]),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
    dict(kernel_shape=[3, 2], strides=[2, 3], ceil_mode=1),
])
def test_pools(attrs):
    x = u8((2, 3, 9, 10))
    consts = {"xs": f32(0.031), "xz": np.uint8(12), "ys": f32(0.027), "yz": np.uint8(20)}
    node = helper.make_node("QLinearAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft", **attrs)
    check(model([node], {"x": x}, {"y": np.uint8}, consts), {"x": x})
    max_attrs = {k: v for k, v in attrs.items() if k != "count_include_pad"}
    for data in (x, RNG.normal(0, 1, x.shape).astype(np.float32)):
        node = helper.make_node("MaxPool", ["x"], ["y"], **max_attrs)
        check(model([node], {"x": data}, {"y": data.dtype}, {}), {"x": data})
    xf = RNG.normal(0, 1, x.shape).astype(np.float32)
    avg = helper.make_node("AveragePool", ["x"], ["y"], **attrs)
    check(model([avg], {"x": xf}, {"y": np.float32}, {}), {"x": xf}, exact=False)


def test_float_elementwise_and_shape_ops_are_exact():
    x = RNG.normal(0, 4, (2, 3, 4, 5)).astype(np.float32)
    c = RNG.normal(0, 1, (3, 1, 5)).astype(np.float32)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Clip", ["x", "lo", "hi"], ["cl"]),
        helper.make_node("Clip", ["x", "", "hi"], ["cl_hi"]),
        helper.make_node("Add", ["x", "c"], ["ad"]),
        helper.make_node("Reshape", ["x", "shape"], ["rs"]),
        helper.make_node("Flatten", ["x"], ["fl"], axis=2),
        helper.make_node("Flatten", ["x"], ["fl0"], axis=0),
        helper.make_node("Transpose", ["x"], ["tr"], perm=[0, 2, 3, 1]),
        helper.make_node("Identity", ["x"], ["id"]),
        helper.make_node("MaxPool", ["x"], ["mp"], kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 0, 1, 0]),
    ]
    outs = {n: np.float32 for n in ("r", "cl", "cl_hi", "ad", "rs", "fl", "fl0", "tr", "id", "mp")}
    consts = {"c": c, "lo": f32(-1.5), "hi": f32(2.25), "shape": np.array([0, -1, 5], np.int64)}
    check(model(nodes, {"x": x}, outs, consts), {"x": x})


def test_float_conv_gemm_matmul_close_to_onnxruntime():
    x = RNG.normal(0, 1, (2, 4, 7, 7)).astype(np.float32)
    consts = {"w": RNG.normal(0, 0.3, (6, 2, 3, 3)).astype(np.float32), "b": f32(RNG.normal(0, 1, 6)),
              "g": RNG.normal(0, 0.3, (5, 6 * 4 * 4)).astype(np.float32), "gc": f32(RNG.normal(0, 1, 5)),
              "m": RNG.normal(0, 0.3, (5, 3)).astype(np.float32)}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], group=2, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["c"], ["f"]),
        helper.make_node("Gemm", ["f", "g", "gc"], ["h"], transB=1, alpha=0.5, beta=2.0),
        helper.make_node("MatMul", ["h", "m"], ["y"]),
    ]
    check(model(nodes, {"x": x}, {"y": np.float32}, consts), {"x": x}, exact=False)


def _qdq(name, scale, zp):
    return [helper.make_node("QuantizeLinear", [name, f"{scale}", f"{zp}"], [f"{name}_q"]),
            helper.make_node("DequantizeLinear", [f"{name}_q", f"{scale}", f"{zp}"], [f"{name}_dq"])]


def test_qdq_groups_fuse_like_onnxruntime():
    """DQ -> Conv -> Relu -> Q (Relu dropped), DQ -> Clip -> Q (Clip dropped), DQ -> MatMul -> Q,
    DQ -> Add -> Q, DQ -> AveragePool -> Q, DQ -> Reshape -> Q and DQ -> Gemm without a Q
    (float-output QGemm) followed by a float Clip."""
    x = RNG.uniform(-1, 3, (4, 2, 6, 6)).astype(np.float32)
    w = RNG.integers(-127, 128, (3, 2, 3, 3)).astype(np.int8)
    consts = {
        "xs": f32(0.02), "xz": np.uint8(50), "w": w, "ws": f32(0.01), "wz": np.int8(0),
        "b": RNG.integers(-200, 200, 3).astype(np.int32), "bs": f32([0.0002]), "bz": np.int32(0),
        "rs": f32(0.03), "rz": np.uint8(0), "lo": f32(0.0), "hi": f32(6.0), "hi8": f32(8.0), "ps": f32(0.025), "pz": np.uint8(0),
        "g": RNG.integers(-127, 128, (27, 4)).astype(np.int8), "gs": f32(0.02), "gz": np.int8(0),
        "m": RNG.integers(-127, 128, (27, 4)).astype(np.int8), "ms": f32(0.015), "mz": np.int8(0),
        "ys": f32(0.05), "yz": np.uint8(128), "ss": f32(0.07), "sz": np.uint8(120), "shape": np.array([-1, 27], np.int64),
    }
    nodes = _qdq("x", "xs", "xz") + [
        helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["w_dq"]),
        helper.make_node("DequantizeLinear", ["b", "bs", "bz"], ["b_dq"]),
        helper.make_node("Conv", ["x_dq", "w_dq", "b_dq"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "rs", "rz"], ["r_q"]),
        helper.make_node("DequantizeLinear", ["r_q", "rs", "rz"], ["r_dq"]),
        helper.make_node("Clip", ["r_dq", "lo", "hi8"], ["cl"]),
        helper.make_node("QuantizeLinear", ["cl", "rs", "rz"], ["cl_q"]),
        helper.make_node("DequantizeLinear", ["cl_q", "rs", "rz"], ["cl_dq"]),
        helper.make_node("AveragePool", ["cl_dq"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("QuantizeLinear", ["p", "ps", "pz"], ["p_q"]),
        helper.make_node("DequantizeLinear", ["p_q", "ps", "pz"], ["p_dq"]),
        helper.make_node("Reshape", ["p_dq", "shape"], ["f"]),
        helper.make_node("QuantizeLinear", ["f", "ps", "pz"], ["f_q"]),
        helper.make_node("DequantizeLinear", ["f_q", "ps", "pz"], ["f_dq"]),
        helper.make_node("DequantizeLinear", ["m", "ms", "mz"], ["m_dq"]),
        helper.make_node("MatMul", ["f_dq", "m_dq"], ["mm"]),
        helper.make_node("QuantizeLinear", ["mm", "ys", "yz"], ["mm_q"]),
        helper.make_node("DequantizeLinear", ["mm_q", "ys", "yz"], ["mm_dq"]),
        helper.make_node("DequantizeLinear", ["g", "gs", "gz"], ["g_dq"]),
        helper.make_node("Gemm", ["f_dq", "g_dq"], ["gm"]),
        helper.make_node("QuantizeLinear", ["gm", "ys", "yz"], ["gm_q"]),
        helper.make_node("DequantizeLinear", ["gm_q", "ys", "yz"], ["gm_dq"]),
        helper.make_node("Add", ["mm_dq", "gm_dq"], ["s"]),
        helper.make_node("QuantizeLinear", ["s", "ss", "sz"], ["s_q"]),
        helper.make_node("DequantizeLinear", ["s_q", "ss", "sz"], ["y"]),
        helper.make_node("Gemm", ["f_dq", "g_dq"], ["float_gemm"]),
        helper.make_node("Clip", ["float_gemm", "lo", "hi"], ["relu6"]),
    ]
    m = model(nodes, {"x": x}, {"y": np.float32, "relu6": np.float32}, consts)
    kinds = load_model(m).kinds()
    assert kinds.count("QGemm") == 2 and "QLinearConv" in kinds and "QLinearMatMul" in kinds and "QLinearAdd" in kinds
    assert "QLinearAveragePool" in kinds and "Relu" not in kinds and "Conv" not in kinds
    assert kinds.count("Clip") == 1  # Clip(0, 8) before a Q of range [0, 7.65] is dropped; Clip(0, 6) on floats stays
    check(m, {"x": x})


def _fma_exact(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """Correctly rounded float32 of a*b+c from Fractions: the nearest of three candidates around
    the float64 result, ties to the even significand."""
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    r = np.float32(float(exact))
    cands = [np.nextafter(r, np.float32(-np.inf)), r, np.nextafter(r, np.float32(np.inf))]
    errs = [abs(Fraction(float(x)) - exact) for x in cands]
    best = [x for x, e in zip(cands, errs) if e == min(errs)]
    return best[0] if len(best) == 1 else next(x for x in best if int(x.view(np.uint32)) % 2 == 0)


def test_fma_f32_matches_exact_rounding():
    a = RNG.integers(-255, 256, 3000).astype(np.float32)
    b = f32(RNG.uniform(0.01, 2.0, 3000))
    c = f32(RNG.normal(0, 50, 3000))
    # a*b + c within 2^-40 of a float32 midpoint: float64 rounds onto the midpoint (double rounding)
    crafted_a = f32([64 + 2.0 ** -17, -(64 + 2.0 ** -17)])
    crafted_b = f32([1 - 2.0 ** -23, 1 - 2.0 ** -23])
    crafted_c = f32([2.0 ** 30 + 128, 2.0 ** 30 + 384])
    naive = (crafted_a.astype(np.float64) * crafted_b + crafted_c).astype(np.float32)
    expect = f32([2.0 ** 30 + 128, 2.0 ** 30 + 384])
    assert not np.array_equal(naive, expect)  # the cases do catch a double-rounding emulation
    a, b, c = (np.concatenate(p) for p in ((a, crafted_a), (b, crafted_b), (c, crafted_c)))
    got = fma_f32(a, b, c)
    want = np.array([_fma_exact(*t) for t in zip(a, b, c)], dtype=np.float32)
    assert np.array_equal(got[-2:], expect)
    assert np.array_equal(got, want)
