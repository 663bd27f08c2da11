"""Train a small MLP and a small CNN on scikit-learn's 8x8 digits, export to ONNX, quantize.

Everything here is deterministic for a given seed and needs no download: ``load_digits`` ships
with scikit-learn (1797 images of 8x8 pixels, values 0..16, scaled here to [0, 1]).

Models (float32, exported with ``onnx.helper``):

``mlp``  Gemm(64 -> 32) -> Relu -> Gemm(32 -> 10), trained by scikit-learn's MLPClassifier.
``cnn``  Conv(1 -> 8, 3x3, pad 1) -> Relu -> MaxPool(2x2) -> Flatten -> Gemm(128 -> 10),
         trained with Adam on softmax cross-entropy by the NumPy code below (im2col convolution,
         hand-written backward pass).
``res``  Conv(1 -> 8, 3x3, pad 1) -> Clip(0, 6) -> AveragePool(2x2) -> p;
         p -> Conv(8 -> 8, 3x3, pad 1) -> Relu -> Add(p) (a residual block) -> Reshape(-1, 128)
         -> MatMul(128 -> 10) -> Add(bias); the same trainer.  It exercises the operators the
         other two do not: Clip, AveragePool, Add, Reshape, MatMul (QLinearMatMul, QLinearAdd,
         QLinearAveragePool once quantized).

Quantization uses ``onnxruntime.quantization.quantize_static`` calibrated on the training images,
in the QDQ form (QuantizeLinear/DequantizeLinear around float ops) and the QOperator form
(QLinearConv, QLinearMatMul, ...): uint8 activations, int8 weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_CLASSES = 10


@dataclass
class Digits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_all: np.ndarray
    y_all: np.ndarray


def load(seed: int = 0) -> Digits:
    """The digits as float32 in [0, 1], shape (n, 1, 8, 8); a seeded 80 % training split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    train = order[: int(0.8 * len(x))]
    return Digits(x[train], y[train], x, y)


def train_mlp(digits: Digits, seed: int = 0) -> dict[str, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=seed)
    with warnings.catch_warnings():  # 400 epochs are plenty here (99.6 % accuracy); Adam just keeps moving
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(digits.x_train.reshape(len(digits.x_train), -1), digits.y_train)
    return {
        "w1": clf.coefs_[0].astype(np.float32),
        "b1": clf.intercepts_[0].astype(np.float32),
        "w2": clf.coefs_[1].astype(np.float32),
        "b2": clf.intercepts_[1].astype(np.float32),
    }


def _im2col(x: np.ndarray) -> np.ndarray:
    """(n, 1, 8, 8) -> (n, 64, 9) patches of a 3x3 window with zero padding 1."""
    padded = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return windows.reshape(len(x), 64, 9)


def _cnn_forward(p: dict[str, np.ndarray], x: np.ndarray):
    cols = _im2col(x)
    conv = cols @ p["wc"].reshape(8, 9).T + p["bc"]
    relu = np.maximum(conv, 0).reshape(-1, 8, 8, 8)
    pooled_in = relu.reshape(-1, 4, 2, 4, 2, 8)
    pooled = pooled_in.max(axis=(2, 4))
    flat = pooled.transpose(0, 3, 1, 2).reshape(len(x), -1)
    logits = flat @ p["wd"] + p["bd"]
    return logits, (cols, conv, pooled_in, pooled, flat)


def train_cnn(digits: Digits, seed: int = 0, epochs: int = 30, batch: int = 64) -> dict[str, np.ndarray]:
    """Adam (lr 3e-3) on softmax cross-entropy; returns float32 parameters."""
    rng = np.random.default_rng(seed)
    p = {
        "wc": rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)),
        "bc": np.zeros(8),
        "wd": rng.normal(0, np.sqrt(2 / 128), (128, N_CLASSES)),
        "bd": np.zeros(N_CLASSES),
    }
    return _adam(p, _cnn_gradients, digits, rng, epochs, batch)


def _cnn_gradients(p, xb, yb):
    logits, (cols, conv, pooled_in, pooled, flat) = _cnn_forward(p, xb)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(yb)), yb] -= 1
    dlogits = probs / len(yb)
    grads = {"wd": flat.T @ dlogits, "bd": dlogits.sum(axis=0)}
    dflat = dlogits @ p["wd"].T
    dpooled = dflat.reshape(-1, 8, 4, 4).transpose(0, 2, 3, 1)
    mask = pooled_in == pooled[:, :, None, :, None, :]
    drelu = (mask * dpooled[:, :, None, :, None, :]).reshape(-1, 64, 8)
    dconv = drelu * (conv > 0)
    grads["wc"] = np.einsum("npk,npc->kc", dconv, cols).reshape(8, 1, 3, 3)
    grads["bc"] = dconv.sum(axis=(0, 1))
    return grads


def _patches(x: np.ndarray) -> np.ndarray:
    """(n, C, H, W) -> (n, H*W, C*9) patches of a 3x3 window with zero padding 1, k = c*9 + i*3 + j."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # (n, C, H, W, 3, 3)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, h * w, c * 9)


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """Conv with 3x3 kernels and padding 1: (output (n, O, H, W), patches)."""
    n, _, h, wd = x.shape
    cols = _patches(x)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.transpose(0, 2, 1).reshape(n, len(w), h, wd), cols


def _conv3x3_backward(dout: np.ndarray, cols: np.ndarray, w: np.ndarray, x_shape) -> tuple:
    """Gradients (dx, dw, db) of :func:`_conv3x3` given d(output)."""
    n, c, h, wd = x_shape
    dmat = dout.reshape(n, len(w), h * wd).transpose(0, 2, 1)  # (n, HW, O)
    dw = np.einsum("npo,npk->ok", dmat, cols).reshape(w.shape)
    dcols = (dmat @ w.reshape(len(w), -1)).reshape(n, h, wd, c, 3, 3)
    dxp = np.zeros((n, c, h + 2, wd + 2))
    for i in range(3):
        for j in range(3):
            dxp[:, :, i : i + h, j : j + wd] += dcols[..., i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1], dw, dmat.sum(axis=(0, 1))


def _res_forward(p: dict[str, np.ndarray], x: np.ndarray):
    n = len(x)
    c1, cols1 = _conv3x3(x, p["w1"], p["b1"])
    a1 = np.clip(c1, 0, 6)
    pooled = a1.reshape(n, 8, 4, 2, 4, 2).mean(axis=(3, 5))
    c2, cols2 = _conv3x3(pooled, p["w2"], p["b2"])
    s = pooled + np.maximum(c2, 0)
    flat = s.reshape(n, -1)
    return flat @ p["wd"] + p["bd"], (c1, cols1, pooled, c2, cols2, flat)


def _res_gradients(p, xb, yb):
    logits, (c1, cols1, pooled, c2, cols2, flat) = _res_forward(p, xb)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(yb)), yb] -= 1
    dlogits = probs / len(yb)
    grads = {"wd": flat.T @ dlogits, "bd": dlogits.sum(axis=0)}
    ds = (dlogits @ p["wd"].T).reshape(pooled.shape)
    dpooled, grads["w2"], grads["b2"] = _conv3x3_backward(ds * (c2 > 0), cols2, p["w2"], pooled.shape)
    dpooled = dpooled + ds
    da1 = np.repeat(np.repeat(dpooled / 4, 2, axis=2), 2, axis=3)
    _, grads["w1"], grads["b1"] = _conv3x3_backward(da1 * ((c1 > 0) & (c1 < 6)), cols1, p["w1"], xb.shape)
    return grads


def train_res(digits: Digits, seed: int = 0, epochs: int = 30, batch: int = 64) -> dict[str, np.ndarray]:
    """The ``res`` network, trained like :func:`train_cnn`; returns float32 parameters."""
    rng = np.random.default_rng(seed)
    p = {
        "w1": rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)),
        "b1": np.zeros(8),
        "w2": rng.normal(0, np.sqrt(2 / 72) / 2, (8, 8, 3, 3)),
        "b2": np.zeros(8),
        "wd": rng.normal(0, np.sqrt(2 / 128), (128, N_CLASSES)),
        "bd": np.zeros(N_CLASSES),
    }
    return _adam(p, _res_gradients, digits, rng, epochs, batch)


def _adam(p, gradients, digits: Digits, rng, epochs: int, batch: int) -> dict[str, np.ndarray]:
    """Adam (lr 3e-3, betas 0.9 / 0.999) over shuffled mini-batches; float32 parameters out."""
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in p.items()}
    x_train = digits.x_train.astype(np.float64)
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(x_train), batch):
            idx = order[start : start + batch]
            grads = gradients(p, x_train[idx], digits.y_train[idx])
            step += 1
            for key, grad in grads.items():
                m, v = moments[key]
                m[...] = 0.9 * m + 0.1 * grad
                v[...] = 0.999 * v + 0.001 * grad**2
                p[key] -= 3e-3 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return {k: v.astype(np.float32) for k, v in p.items()}


def mlp_onnx(params: dict[str, np.ndarray]):
    """Float ONNX graph: input 'x' (N, 1, 8, 8) float32 -> 'logits' (N, 10)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Flatten", ["x"], ["x_flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["x_flat", "w1", "b1"], ["h"], name="fc1"),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
        helper.make_node("Gemm", ["h_relu", "w2", "b2"], ["logits"], name="fc2"),
    ]
    return _model("digits_mlp", nodes, params, helper, TensorProto, numpy_helper)


def cnn_onnx(params: dict[str, np.ndarray]):
    """Float ONNX graph: input 'x' (N, 1, 8, 8) float32 -> 'logits' (N, 10)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Conv", ["x", "wc", "bc"], ["c"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["c_relu"], name="relu1"),
        helper.make_node("MaxPool", ["c_relu"], ["p"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["p_flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["p_flat", "wd", "bd"], ["logits"], name="fc"),
    ]
    return _model("digits_cnn", nodes, params, helper, TensorProto, numpy_helper)


def res_onnx(params: dict[str, np.ndarray]):
    """Float ONNX graph: input 'x' (N, 1, 8, 8) float32 -> 'logits' (N, 10)."""
    from onnx import TensorProto, helper, numpy_helper

    consts = {
        "clip_min": np.array(0, np.float32),
        "clip_max": np.array(6, np.float32),
        "flat_shape": np.array([-1, 128], np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c1", "clip_min", "clip_max"], ["c1_clip"], name="relu6"),
        helper.make_node("AveragePool", ["c1_clip"], ["p"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["c2_relu"], name="relu2"),
        helper.make_node("Add", ["p", "c2_relu"], ["s"], name="residual"),
        helper.make_node("Reshape", ["s", "flat_shape"], ["s_flat"], name="reshape"),
        helper.make_node("MatMul", ["s_flat", "wd"], ["mm"], name="fc"),
        helper.make_node("Add", ["mm", "bd"], ["logits"], name="fc_bias"),
    ]
    return _model("digits_res", nodes, {**params, **consts}, helper, TensorProto, numpy_helper)


def _model(name, nodes, params, helper, TensorProto, numpy_helper):
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", N_CLASSES])],
        initializer=[numpy_helper.from_array(v, k) for k, v in params.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class _Calibration:
    """onnxruntime CalibrationDataReader over the training images, in batches."""

    def __init__(self, x: np.ndarray, batch: int = 64):
        self._batches = iter([{"x": x[i : i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self._batches, None)


def quantize(float_path: Path, out_path: Path, x_calib: np.ndarray, fmt: str) -> Path:
    """quantize_static with uint8 activations and int8 weights, in ``fmt`` 'qdq' or 'qoperator'."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    quantize_static(
        str(float_path),
        str(out_path),
        _Calibration(x_calib),
        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    return out_path


def build_all(out_dir: Path, seed: int = 0) -> dict[str, Path]:
    """Train the three models and write float, QDQ and QOperator ONNX files into ``out_dir``."""
    import onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load(seed)
    paths: dict[str, Path] = {}
    for name, params, export in (
        ("mlp", train_mlp(digits, seed), mlp_onnx),
        ("cnn", train_cnn(digits, seed), cnn_onnx),
        ("res", train_res(digits, seed), res_onnx),
    ):
        float_path = out_dir / f"digits_{name}_float.onnx"
        onnx.save(export(params), float_path)
        paths[f"{name}_float"] = float_path
        for fmt in ("qdq", "qoperator"):
            paths[f"{name}_{fmt}"] = quantize(float_path, out_dir / f"digits_{name}_{fmt}.onnx", digits.x_train, fmt)
    np.save(out_dir / "digits_x.npy", digits.x_all)
    np.save(out_dir / "digits_y.npy", digits.y_all)
    return paths
