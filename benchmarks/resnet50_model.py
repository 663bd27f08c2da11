"""A ResNet50-shaped ONNX model with seeded random weights, quantized by onnxruntime (QDQ).

    from resnet50_model import build_quantized
    qdq_path, images = build_quantized(out_dir, seed=0)

The float graph is ResNet-50 v1.5 (He et al. 2016, torchvision's layout: stride 2 on the 3x3
convolution of the first bottleneck of stages 2-4) with batch normalization folded into the
convolutions, as an exporter writes it: 7x7/2 stem convolution, ReLU, 3x3/2 max pool, bottleneck
stages of [3, 4, 6, 3] blocks (widths 64, 128, 256, 512, expansion 4, projection shortcut on the
first block of each stage), residual ``Add`` + ReLU, 7x7 average pool (the simulator's op set has
AveragePool; GlobalAveragePool over a 7x7 map is the same), Flatten, Gemm 2048 -> 1000.
Weights are He-normal, so activations keep their scale through the 16 stages.  onnxruntime's
``quantize_static`` (QDQ, uint8 activations and int8 weights, MinMax calibration on a few seeded
images) writes the model that the benchmark runs.  Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["build_float", "build_quantized"]

STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, relu: bool = True) -> str:
        from onnx import helper, numpy_helper

        w = (self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.05).astype(np.float32)
        wn, bn, y = self.name("w"), self.name("b"), self.name("conv")
        self.inits += [numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)]
        self.nodes.append(helper.make_node("Conv", [x, wn, bn], [y], name=y, kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[k // 2] * 4))
        return self.relu(y) if relu else y

    def relu(self, x: str) -> str:
        from onnx import helper

        y = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y], name=y))
        return y

    def bottleneck(self, x: str, cin: int, width: int, stride: int) -> str:
        from onnx import helper

        h = self.conv(x, cin, width, 1)
        h = self.conv(h, width, width, 3, stride)
        h = self.conv(h, width, width * 4, 1, relu=False)
        short = x if stride == 1 and cin == width * 4 else self.conv(x, cin, width * 4, 1, stride, relu=False)
        y = self.name("add")
        self.nodes.append(helper.make_node("Add", [h, short], [y], name=y))
        return self.relu(y)


def build_float(seed: int = 0):
    """The float ResNet50-shaped ``onnx.ModelProto`` (input ``x`` 1x3x224x224, output ``logits``)."""
    from onnx import TensorProto, helper, numpy_helper

    bld = _Builder(seed)
    h = bld.conv("x", 3, 64, 7, 2)
    pool = bld.name("maxpool")
    bld.nodes.append(helper.make_node("MaxPool", [h], [pool], name=pool, kernel_shape=[3, 3], strides=[2, 2],
                                      pads=[1, 1, 1, 1]))
    h, cin = pool, 64
    for width, blocks, stride in STAGES:
        for i in range(blocks):
            h = bld.bottleneck(h, cin, width, stride if i == 0 else 1)
            cin = width * 4
    avg, flat = bld.name("avgpool"), bld.name("flatten")
    bld.nodes.append(helper.make_node("AveragePool", [h], [avg], name=avg, kernel_shape=[7, 7]))
    bld.nodes.append(helper.make_node("Flatten", [avg], [flat], name=flat, axis=1))
    fc_w = (bld.rng.standard_normal((1000, 2048)) * np.sqrt(1.0 / 2048)).astype(np.float32)
    bld.inits += [numpy_helper.from_array(fc_w, "fc_w"), numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b")]
    bld.nodes.append(helper.make_node("Gemm", [flat, "fc_w", "fc_b"], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        bld.nodes, "resnet50_random",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], initializer=bld.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def build_quantized(out_dir: Path, seed: int = 0, calibration_images: int = 2,
                    activations: str = "QUInt8") -> tuple[Path, np.ndarray]:
    """Write ``resnet50_float.onnx`` and ``resnet50_qdq.onnx`` (quantize_static, QDQ, int8
    weights, ``activations`` "QUInt8" or "QInt8") into ``out_dir``; return the QDQ path and one
    seeded input image (1x3x224x224 float32)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed + 1)
    images = [rng.standard_normal((1, 3, 224, 224)).astype(np.float32) for _ in range(calibration_images + 1)]
    float_path, qdq_path = out_dir / "resnet50_float.onnx", out_dir / "resnet50_qdq.onnx"
    onnx.save(build_float(seed), float_path)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{"x": im} for im in images[1:]])

        def get_next(self):
            return next(self.feeds, None)

    quantize_static(str(float_path), str(qdq_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType[activations], weight_type=QuantType.QInt8)
    return qdq_path, images[0]
