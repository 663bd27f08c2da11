"""Window operators on NCL (1-D) and NCHW inputs with the edge attributes ONNX specifies:
ceil_mode, count_include_pad, dilations (AveragePool opset 19), auto_pad; against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from onnx import helper  # noqa: E402
from test_accel_ops import check, f32, model  # noqa: E402

RNG = np.random.default_rng(31)
POOL_ATTRS = [
    dict(kernel_shape=[3], strides=[2], ceil_mode=1),
    dict(kernel_shape=[3], strides=[2], pads=[1, 2], count_include_pad=1),
    dict(kernel_shape=[2], strides=[1], dilations=[3], pads=[1, 1]),
    dict(kernel_shape=[3], strides=[3], dilations=[2], ceil_mode=1, pads=[1, 1]),
    dict(kernel_shape=[4], strides=[2], auto_pad="SAME_UPPER"),
]


@pytest.mark.parametrize("attrs", POOL_ATTRS)
def test_pooling_on_ncl(attrs):
    x = RNG.normal(0, 1, (2, 3, 17)).astype(np.float32)
    for op in ("MaxPool", "AveragePool"):
        kept = {k: v for k, v in attrs.items() if op == "AveragePool" or k != "count_include_pad"}
        m = model([helper.make_node(op, ["x"], ["y"], **kept)], {"x": x}, {"y": np.float32}, {})
        m.opset_import[0].version = 19
        check(m, {"x": x})


@pytest.mark.parametrize("attrs", [dict(kernel_shape=[3, 2], strides=[2, 1], dilations=[2, 2], pads=[1, 1, 2, 0]),
                                   dict(kernel_shape=[2, 3], strides=[2, 2], dilations=[3, 1], ceil_mode=1, count_include_pad=1)])
def test_average_pool_dilations(attrs):
    x = RNG.normal(0, 1, (2, 3, 11, 9)).astype(np.float32)
    m = model([helper.make_node("AveragePool", ["x"], ["y"], **attrs)], {"x": x}, {"y": np.float32}, {})
    m.opset_import[0].version = 19
    check(m, {"x": x})


def test_conv1d_float_and_quantized():
    x = RNG.normal(0, 1, (2, 4, 19)).astype(np.float32)
    w = RNG.normal(0, 0.3, (6, 2, 3)).astype(np.float32)
    attrs = dict(group=2, strides=[2], dilations=[2], pads=[2, 1])
    check(model([helper.make_node("Conv", ["x", "w"], ["y"], **attrs)], {"x": x}, {"y": np.float32}, {"w": w}), {"x": x},
          exact=False)
    xq = RNG.integers(0, 256, (2, 4, 19)).astype(np.uint8)
    wq = RNG.integers(-128, 128, (6, 2, 3)).astype(np.int8)
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], **attrs)
    consts = {"xs": f32(0.02), "xz": np.uint8(130), "w": wq, "ws": f32(RNG.uniform(0.001, 0.01, 6)), "wz": np.int8(0),
              "ys": f32(0.05), "yz": np.uint8(100), "b": RNG.integers(-500, 500, 6).astype(np.int32)}
    check(model([node], {"x": xq}, {"y": np.uint8}, consts), {"x": xq})


@pytest.mark.parametrize("attrs", [dict(strides=[2, 2], pads=[1, 0, 0, 1], output_padding=[1, 0]),
                                   dict(strides=[2, 3], dilations=[2, 1], group=2),
                                   dict(strides=[2, 2], output_shape=[9, 12], auto_pad="SAME_UPPER"),
                                   dict(strides=[3, 1], output_shape=[11, 7])])
def test_conv_transpose_within_stated_tolerance(attrs):
    from inwhale_hw.accel import SUPPORTED

    assert "rel 1e-5" in SUPPORTED[("", "ConvTranspose")][1]
    x = RNG.normal(0, 1, (2, 4, 5, 6)).astype(np.float32)
    w = RNG.normal(0, 0.3, (4, 3, 3, 2)).astype(np.float32)
    b = RNG.normal(0, 0.1, 3 * int(attrs.get("group", 1))).astype(np.float32)
    m = model([helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)], {"x": x}, {"y": np.float32}, {"w": w, "b": b})
    check(m, {"x": x}, exact=False)


def test_conv_transpose_1d_and_lrn():
    x = RNG.normal(0, 1, (2, 4, 9)).astype(np.float32)
    w = RNG.normal(0, 0.3, (4, 5, 3)).astype(np.float32)
    m = model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2], pads=[1, 0])], {"x": x}, {"y": np.float32}, {"w": w})
    check(m, {"x": x}, exact=False)
    x4 = RNG.normal(0, 2, (2, 7, 4, 5)).astype(np.float32)
    for size in (3, 5):
        m = model([helper.make_node("LRN", ["x"], ["y"], size=size, alpha=1e-3, beta=0.75, bias=2.0)], {"x": x4}, {"y": np.float32}, {})
        check(m, {"x": x4}, exact=False)
