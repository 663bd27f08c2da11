"""Float ONNX networks in the shape of well-known architectures, built offline with onnx.helper
(random weights, seeded), and their onnxruntime quantizations.

Each builder returns an ``onnx.ModelProto`` (opset 17; the transformer block with ``gelu="op"``
uses opset 20 for the Gelu operator) with input ``x`` and output ``y``; ``scale`` multiplies
channel counts / widths, ``size`` is the input's spatial size (sequence length for the
transformer).  The block structures follow the published architectures:

* ``resnet``: ResNet basic blocks, ``Sum`` of the shortcut and the residual (He et al. 2016);
* ``squeezenet``: Fire modules, squeeze 1x1 then ``Concat`` of 1x1 and 3x3 expands, MaxPool
  with ``ceil_mode=1`` (Iandola et al. 2016, as in the ONNX model zoo's SqueezeNet 1.1);
* ``mobilenetv3``: inverted residuals with depthwise convolutions, HardSwish, and
  squeeze-and-excitation (GlobalAveragePool, 1x1 convs, HardSigmoid, Mul) (Howard et al. 2019);
* ``densenet``: dense blocks (BatchNormalization, Relu, Conv, ``Concat`` of all earlier
  maps) and transition layers with AveragePool (Huang et al. 2017);
* ``transformer``: a pre-norm encoder block: LayerNormalization, multi-head attention with
  MatMul of two activations (Q K^T, P V) and Softmax, a GELU MLP (Vaswani et al. 2017).

:func:`quantize` writes onnxruntime's static (QDQ or QOperator, per-tensor or per-channel,
uint8 or int8 activations) or dynamic quantization of a model, calibrated on seeded data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["BUILDERS", "calibration", "quantize"]


class _Net:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: np.ndarray, prefix: str = "c") -> str:
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs) -> str | list[str]:
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(op), **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1, bias: bool = True) -> str:
        w = self.rng.normal(0, np.sqrt(2.0 / (cin // group * k * k)), (cout, cin // group, k, k)).astype(np.float32)
        ins = [x, self.const(w, "w")] + ([self.const(self.rng.normal(0, 0.05, cout).astype(np.float32), "b")] if bias else [])
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group)

    def bn(self, x: str, c: int) -> str:
        p = [self.rng.uniform(0.8, 1.2, c), self.rng.normal(0, 0.1, c), self.rng.normal(0, 0.1, c), self.rng.uniform(0.5, 1.5, c)]
        return self.node("BatchNormalization", [x] + [self.const(v.astype(np.float32)) for v in p], epsilon=1e-5)

    def dense(self, x: str, din: int, dout: int) -> str:
        w = self.const(self.rng.normal(0, np.sqrt(1.0 / din), (din, dout)).astype(np.float32), "w")
        return self.node("Add", [self.node("MatMul", [x, w]), self.const(self.rng.normal(0, 0.05, dout).astype(np.float32), "b")])

    def head(self, x: str, c: int, classes: int = 10) -> str:
        f = self.node("Flatten", [self.node("GlobalAveragePool", [x])])
        w = self.const(self.rng.normal(0, np.sqrt(1.0 / c), (classes, c)).astype(np.float32), "w")
        return self.node("Gemm", [f, w, self.const(np.zeros(classes, np.float32), "b")], transB=1)

    def model(self, y: str, in_shape: list[int], name: str, opset: int = 17) -> onnx.ModelProto:
        self.nodes.append(helper.make_node("Identity", [y], ["y"], name="output"))
        graph = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8 if opset < 19 else 9
        return m


def resnet(scale: int = 1, size: int = 16, blocks: int = 2, seed: int = 0) -> onnx.ModelProto:
    n, c = _Net(seed), 8 * scale
    x = n.node("Relu", [n.conv("x", 3, c, 3)])
    for b in range(blocks):
        stride = 2 if b else 1
        r = n.node("Relu", [n.conv(x, c, c, 3, stride)])
        r = n.conv(r, c, c, 3)
        short = n.conv(x, c, c, 1, stride) if stride > 1 else x
        x = n.node("Relu", [n.node("Sum", [short, r])])
    return n.model(n.head(x, c), [1, 3, size, size], "resnet")


def squeezenet(scale: int = 1, size: int = 17, seed: int = 1) -> onnx.ModelProto:
    n = _Net(seed)
    c = 16 * scale
    x = n.node("MaxPool", [n.node("Relu", [n.conv("x", 3, c, 3, 2)])], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    for s, e in ((4 * scale, 8 * scale), (4 * scale, 8 * scale)):
        sq = n.node("Relu", [n.conv(x, c, s, 1)])
        x = n.node("Concat", [n.node("Relu", [n.conv(sq, s, e, 1)]), n.node("Relu", [n.conv(sq, s, e, 3)])], axis=1)
        c = 2 * e
    return n.model(n.head(x, c), [1, 3, size, size], "squeezenet")


def mobilenetv3(scale: int = 1, size: int = 16, seed: int = 2) -> onnx.ModelProto:
    n = _Net(seed)
    c = 8 * scale
    x = n.node("HardSwish", [n.conv("x", 3, c, 3, 2)])
    for expand in (3, 4):
        h = n.node("HardSwish", [n.conv(x, c, c * expand, 1)])
        h = n.node("HardSwish", [n.conv(h, c * expand, c * expand, 3, group=c * expand)])
        se = n.node("Relu", [n.conv(n.node("GlobalAveragePool", [h]), c * expand, 4 * scale, 1)])
        se = n.node("HardSigmoid", [n.conv(se, 4 * scale, c * expand, 1)], alpha=1.0 / 6, beta=0.5)
        h = n.conv(n.node("Mul", [h, se]), c * expand, c, 1)
        x = n.node("Add", [x, h])
    return n.model(n.head(x, c), [1, 3, size, size], "mobilenetv3")


def densenet(scale: int = 1, size: int = 16, growth: int = 4, layers: int = 3, seed: int = 3) -> onnx.ModelProto:
    n = _Net(seed)
    c = 8 * scale
    x = n.conv("x", 3, c, 3)
    for block in range(2):
        for _ in range(layers):
            y = n.conv(n.node("Relu", [n.bn(x, c)]), c, growth * scale, 3, bias=False)
            x = n.node("Concat", [x, y], axis=1)
            c += growth * scale
        if block == 0:
            x = n.node("AveragePool", [n.conv(n.node("Relu", [n.bn(x, c)]), c, c // 2, 1)], kernel_shape=[2, 2], strides=[2, 2])
            c //= 2
    return n.model(n.head(n.node("Relu", [n.bn(x, c)]), c), [1, 3, size, size], "densenet")


def transformer(scale: int = 1, size: int = 8, heads: int = 2, gelu: str = "erf", layernorm: str = "op",
                seed: int = 4) -> onnx.ModelProto:
    """``gelu="erf"``: the decomposed form exporters write (Div, Erf, Add, Mul, Mul); ``"op"``:
    the opset-20 Gelu operator.  ``layernorm="decomposed"``: ReduceMean, Sub, Pow, ReduceMean,
    Add, Sqrt, Div, Mul, Add (older exporters) instead of LayerNormalization."""
    n = _Net(seed)
    d, t = 16 * scale, size
    dh = d // heads

    def layer_norm(x: str) -> str:
        gamma = n.const(n.rng.uniform(0.9, 1.1, d).astype(np.float32))
        beta = n.const(n.rng.normal(0, 0.05, d).astype(np.float32))
        if layernorm == "op":
            return n.node("LayerNormalization", [x, gamma, beta], axis=-1)
        centred = n.node("Sub", [x, n.node("ReduceMean", [x], axes=[-1])])
        var = n.node("ReduceMean", [n.node("Pow", [centred, n.const(np.float32(2.0))])], axes=[-1])
        std = n.node("Sqrt", [n.node("Add", [var, n.const(np.float32(1e-5))])])
        return n.node("Add", [n.node("Mul", [n.node("Div", [centred, std]), gamma]), beta])

    def split_heads(x: str) -> str:
        r = n.node("Reshape", [x, n.const(np.array([1, t, heads, dh], np.int64))])
        return n.node("Transpose", [r], perm=[0, 2, 1, 3])

    h = layer_norm("x")
    q, k, v = (split_heads(n.dense(h, d, d)) for _ in range(3))
    scores = n.node("Div", [n.node("MatMul", [q, n.node("Transpose", [k], perm=[0, 1, 3, 2])]),
                            n.const(np.float32(np.sqrt(dh)))])
    ctx = n.node("MatMul", [n.node("Softmax", [scores], axis=-1), v])
    ctx = n.node("Reshape", [n.node("Transpose", [ctx], perm=[0, 2, 1, 3]), n.const(np.array([1, t, d], np.int64))])
    x = n.node("Add", ["x", n.dense(ctx, d, d)])
    h = n.dense(layer_norm(x), d, 4 * d)
    if gelu == "op":
        h = n.node("Gelu", [h])
    else:
        erf = n.node("Erf", [n.node("Div", [h, n.const(np.float32(np.sqrt(2.0)))])])
        h = n.node("Mul", [n.node("Mul", [h, n.node("Add", [erf, n.const(np.float32(1.0))])]), n.const(np.float32(0.5))])
    y = n.node("Add", [x, n.dense(h, 4 * d, d)])
    return n.model(y, [1, t, d], "transformer", opset=20 if gelu == "op" else 17)


BUILDERS = {"resnet": resnet, "squeezenet": squeezenet, "mobilenetv3": mobilenetv3, "densenet": densenet,
            "transformer": transformer}


def calibration(model: onnx.ModelProto, count: int, seed: int = 10) -> list[np.ndarray]:
    """Seeded standard-normal inputs of the model's input shape."""
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, shape).astype(np.float32) for _ in range(count)]


def quantize(float_path: Path, out_path: Path, mode: str, per_channel: bool = False, activations: str = "uint8",
             calib: int = 8) -> Path:
    """onnxruntime's quantization of ``float_path``: ``mode`` "qdq", "qoperator" or "dynamic"."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

    if mode == "dynamic":
        quantize_dynamic(str(float_path), str(out_path), weight_type=QuantType.QInt8, per_channel=per_channel)
        return out_path
    data = iter(calibration(onnx.load(str(float_path)), calib))

    class Reader(CalibrationDataReader):
        def get_next(self):
            x = next(data, None)
            return None if x is None else {"x": x}

    quantize_static(str(float_path), str(out_path), Reader(),
                    quant_format=QuantFormat.QDQ if mode == "qdq" else QuantFormat.QOperator,
                    activation_type=QuantType.QUInt8 if activations == "uint8" else QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=per_channel)
    return out_path
