"""Float32 and data-movement operators against onnxruntime: exact where SUPPORTED says
``exact`` (bit for bit, NaN / inf / signed zero included), within the stated tolerance
otherwise."""

from __future__ import annotations

import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from accel_models import ort_outputs  # noqa: E402
from onnx import helper  # noqa: E402
from test_accel_ops import f32, model  # noqa: E402

from inwhale_hw.accel import SUPPORTED, execute, load_model  # noqa: E402

RNG = np.random.default_rng(77)
EDGES = [0.0, -0.0, 1e-30, -1e-30, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 1e30, -1e30, np.inf, -np.inf, np.nan]
X = np.concatenate([RNG.normal(0, 4, 500), EDGES]).astype(np.float32).reshape(1, -1)
Y = RNG.normal(0, 2, X.shape).astype(np.float32)


def compare(m, feeds, opset=None):
    if opset:
        m.opset_import[0].version = opset
    ours = list(execute(load_model(m), feeds).outputs.values())
    theirs = ort_outputs(m, feeds)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    return ours, theirs


def exact(m, feeds, opset=None):
    for a, b in zip(*compare(m, feeds, opset)):
        assert np.array_equal(a, b, equal_nan=True), f"{np.count_nonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))} differ"
        assert np.array_equal(np.signbit(a), np.signbit(b))


def stated_tolerance(op: str) -> float:
    found = re.search(r"tol (?:rel )?([0-9.e-]+)", SUPPORTED[("", op)][1])
    assert found, SUPPORTED[("", op)]
    return float(found.group(1))


@pytest.mark.parametrize("op,attrs", [("Sigmoid", {}), ("Sqrt", {}), ("LeakyRelu", {"alpha": 0.1}), ("HardSigmoid", {}),
                                      ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {}), ("Neg", {}),
                                      ("Abs", {}), ("Relu", {})])
def test_unary_exact(op, attrs):
    assert SUPPORTED[("", op)][1] == "exact"
    exact(model([helper.make_node(op, ["x"], ["o"], **attrs)], {"x": X}, {"o": np.float32}, {}), {"x": X})


@pytest.mark.parametrize("op", ["Sub", "Mul", "Div", "Max", "Min", "Add", "Sum"])
def test_binary_and_variadic_exact(op):
    exact(model([helper.make_node(op, ["x", "y"], ["o"])], {"x": X, "y": Y}, {"o": np.float32}, {}), {"x": X, "y": Y})
    col = Y[:, :1]
    exact(model([helper.make_node(op, ["x", "c"], ["o"])], {"x": X}, {"o": np.float32}, {"c": col}), {"x": X})
    if op == "Sum":
        exact(model([helper.make_node(op, ["x", "y", "x", "y"], ["o"])], {"x": X, "y": Y}, {"o": np.float32}, {}), {"x": X, "y": Y})
        exact(model([helper.make_node(op, ["x"], ["o"])], {"x": X}, {"o": np.float32}, {}), {"x": X})


def test_pow_prelu_integer_div_exact():
    base = np.abs(Y)
    for e in (2.0, 3.0, 0.5, 1.7, -1.0):
        exact(model([helper.make_node("Pow", ["y", "e"], ["o"])], {"y": base}, {"o": np.float32}, {"e": f32(e)}), {"y": base})
    exact(model([helper.make_node("PRelu", ["x", "s"], ["o"])], {"x": X}, {"o": np.float32}, {"s": f32([0.2])}), {"x": X})
    a = RNG.integers(-50, 50, (4, 6)).astype(np.int64)
    b = RNG.choice([-7, -3, -1, 1, 2, 5], (4, 6)).astype(np.int64)
    exact(model([helper.make_node("Div", ["a", "b"], ["o"])], {"a": a, "b": b}, {"o": np.int64}, {}), {"a": a, "b": b})


@pytest.mark.parametrize("op", ["Tanh", "Erf", "Gelu"])
def test_transcendental_within_stated_tolerance(op):
    tol = stated_tolerance(op)
    finite = X[np.isfinite(X)].reshape(1, -1)
    ours, theirs = compare(model([helper.make_node(op, ["x"], ["o"])], {"x": finite}, {"o": np.float32}, {}), {"x": finite},
                           opset=20 if op == "Gelu" else None)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=tol)


def test_reductions_and_normalizations_within_stated_tolerance():
    x = RNG.normal(0, 1, (2, 8, 5, 6)).astype(np.float32)
    consts = {"s": RNG.normal(1, 0.1, 6).astype(np.float32), "b": f32(RNG.normal(0, 0.1, 6))}
    bn = {k: RNG.uniform(0.5, 1.5, 8).astype(np.float32) for k in ("g", "c", "m", "v")}
    cases = [("GlobalAveragePool", [helper.make_node("GlobalAveragePool", ["x"], ["o"])], {}),
             ("ReduceMean", [helper.make_node("ReduceMean", ["x"], ["o"], axes=[2, 3], keepdims=1)], {}),
             ("Softmax", [helper.make_node("Softmax", ["x"], ["o"], axis=1)], {}),
             ("LayerNormalization", [helper.make_node("LayerNormalization", ["x", "s", "b"], ["o"], axis=-1)], consts)]
    for op, nodes, c in cases:
        tol = stated_tolerance(op)
        ours, theirs = compare(model(nodes, {"x": x}, {"o": np.float32}, c), {"x": x})
        np.testing.assert_allclose(ours[0], theirs[0], rtol=tol, atol=tol, err_msg=op)
    assert SUPPORTED[("", "BatchNormalization")][1].startswith("exact")
    exact(model([helper.make_node("BatchNormalization", ["x", "g", "c", "m", "v"], ["o"], epsilon=1e-3)], {"x": x},
                {"o": np.float32}, bn), {"x": x})


def test_shape_operators_exact():
    x = RNG.normal(0, 1, (2, 3, 1, 5)).astype(np.float32)
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    f, i = np.float32, np.int64
    cases = [
        ([helper.make_node("Squeeze", ["x", "a"], ["o"])], {"a": i64([2])}, f),
        ([helper.make_node("Unsqueeze", ["x", "a"], ["o"])], {"a": i64([0, -1])}, f),
        ([helper.make_node("Shape", ["x"], ["o"], start=1, end=-1)], {}, i),
        ([helper.make_node("Gather", ["x", "i"], ["o"], axis=3)], {"i": i64([[0, -1], [4, 2]])}, f),
        ([helper.make_node("Concat", ["x", "x"], ["o"], axis=-1)], {}, f),
        ([helper.make_node("Slice", ["x", "s", "e", "a", "t"], ["o"])], {"s": i64([-1, 0]), "e": i64([-100, 2]),
                                                                          "a": i64([3, 1]), "t": i64([-2, 1])}, f),
        ([helper.make_node("Expand", ["x", "s"], ["o"])], {"s": i64([4, 2, 1, 3, 1])}, f),
        ([helper.make_node("Pad", ["x", "p"], ["o"], mode="reflect")], {"p": i64([0, 0, 0, 2, 0, 1, 0, 3])}, f),
        ([helper.make_node("Pad", ["x", "p"], ["o"], mode="edge")], {"p": i64([1, 0, 0, 2, 0, 1, 0, 3])}, f),
        ([helper.make_node("Pad", ["x", "p", "v"], ["o"])], {"p": i64([0, 1, 2, 0, 0, 0, 0, 1]), "v": f32(-2.5)}, f),
        ([helper.make_node("Cast", ["x"], ["o"], to=onnx.TensorProto.INT32)], {}, np.int32),
        ([helper.make_node("Shape", ["x"], ["s"]), helper.make_node("ConstantOfShape", ["s"], ["o"],
                                                                  value=onnx.numpy_helper.from_array(np.array([7], np.int64)))], {}, i),
    ]
    for nodes, consts, out in cases:
        exact(model(nodes, {"x": x * 10}, {"o": out}, consts), {"x": x * 10})
    m = model([helper.make_node("Split", ["x", "s"], ["o1", "o2"], axis=1)], {"x": x}, {"o1": np.float32, "o2": np.float32},
              {"s": i64([1, 2])})
    exact(m, {"x": x})


@pytest.mark.parametrize("ctm", ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"])
def test_resize_nearest_exact_and_linear_within_tolerance(ctm):
    x = RNG.normal(0, 1, (2, 3, 5, 7)).astype(np.float32)
    xu = RNG.integers(0, 256, (2, 3, 5, 7)).astype(np.uint8)
    geometries = [({"s": f32([1, 1, 2, 1.5])}, "s"), ({"s": f32([1, 1, 0.6, 0.5])}, "s"),
                  ({"z": np.array([2, 3, 9, 4], np.int64)}, "z"), ({"z": np.array([2, 3, 1, 1], np.int64)}, "z")]
    for consts, which in geometries:
        ins = ["x", "", "s" if which == "s" else "", "z" if which == "z" else ""]
        for nearest in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"):
            if nearest == "round_prefer_ceil" and ctm == "asymmetric" and which == "z":
                continue  # the known tie difference stated in SUPPORTED
            for data in (x, xu):
                node = helper.make_node("Resize", ins, ["o"], mode="nearest", coordinate_transformation_mode=ctm,
                                        nearest_mode=nearest)
                exact(model([node], {"x": data}, {"o": data.dtype.type}, consts), {"x": data})
        node = helper.make_node("Resize", ins, ["o"], mode="linear", coordinate_transformation_mode=ctm)
        ours, theirs = compare(model([node], {"x": x}, {"o": np.float32}, consts), {"x": x})
        np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-6)
