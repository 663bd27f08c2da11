"""Float-preserving rescalings before quantization: SmoothQuant, cross-layer equalization, and
empirical bias correction.  All work on weights in the ``y = x W + b`` layout, ``W`` of shape
``(K, N)`` (MatMul's B, or a Gemm's B with ``transB = 0``).

**SmoothQuant** (Xiao et al., ICML 2023, eq. 4): per input channel ``j``,
``s_j = max|X_j|^alpha / max_n |W_jn|^(1 - alpha)`` (``s_j = 1`` where either max is 0), then
``X' = X diag(s)^-1`` (a ``Mul`` by ``1/s`` inserted before the operator) and ``W' = diag(s) W``;
``X' W' = X W`` exactly in real arithmetic.  ``max|X_j|`` comes from the calibration batches.

**Cross-layer equalization** (Nagel et al., "Data-Free Quantization", ICCV 2019, sec. 4.1):
for ``y = relu(x W1 + b1) W2 + b2`` the channel ``i`` between the layers has weight ranges
``r1_i = max_k |W1_ki|`` and ``r2_i = max_n |W2_in|``; with ``s_i = sqrt(r1_i / r2_i)``:
``W1[:, i] /= s_i``, ``b1[i] /= s_i``, ``W2[i, :] *= s_i``, so both ranges become
``sqrt(r1_i r2_i)``; exact because ``relu(x / s) = relu(x) / s`` for ``s > 0``.

**Bias correction** (Nagel et al. 2019, sec. 4.2, empirical form): the quantized weight
``W_hat`` shifts the expected output by ``E[x] (W_hat - W)``; ``b' = b - E[x] (W_hat - W)``
cancels it, with ``E[x]`` the calibration mean of the layer input and ``W_hat`` the static
quantizer's own per-tensor / per-channel weight (:mod:`inwhale_hw.ptq.qparams`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelError
from .config import SmoothQuantConfig
from .static import iter_batches, load_float_model, simulator_runner

__all__ = ["smoothquant_scales", "smoothquant", "equalize_pair", "cross_layer_equalize", "bias_correct", "linear_layers"]


def smoothquant_scales(x_absmax: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """``s_j`` of SmoothQuant (module doc), float64."""
    xa = np.asarray(x_absmax, np.float64)
    wa = np.max(np.abs(np.asarray(w, np.float64)), axis=1)
    ok = (xa > 0) & (wa > 0)
    s = np.ones_like(xa)
    s[ok] = xa[ok] ** alpha / wa[ok] ** (1 - alpha)
    return s


def equalize_pair(w1: np.ndarray, b1: np.ndarray | None, w2: np.ndarray):
    """``(W1', b1', W2', s)`` of cross-layer equalization (module doc)."""
    r1 = np.max(np.abs(w1), axis=0).astype(np.float64)
    r2 = np.max(np.abs(w2), axis=1).astype(np.float64)
    s = np.where((r1 > 0) & (r2 > 0), np.sqrt(r1 / np.where(r2 > 0, r2, 1)), 1.0)
    w1n = (w1 / s).astype(w1.dtype)
    b1n = None if b1 is None else (b1 / s).astype(b1.dtype)
    return w1n, b1n, (w2 * s[:, None]).astype(w2.dtype), s


def linear_layers(proto) -> list:
    """Nodes ``y = x W (+ b)`` with an initializer ``W`` (K, N): MatMul, Gemm without transposes."""
    inits = {t.name for t in proto.graph.initializer}
    out = []
    for n in proto.graph.node:
        if n.op_type in ("MatMul", "Gemm") and n.input[1] in inits:
            if not any(a.name in ("transA", "transB") and a.i for a in n.attribute):
                out.append(n)
    return out


def _init_map(proto):
    from onnx import numpy_helper

    return {t.name: t for t in proto.graph.initializer}, numpy_helper


def _set(proto, name: str, value: np.ndarray) -> None:
    from onnx import numpy_helper

    for t in proto.graph.initializer:
        if t.name == name:
            t.CopyFrom(numpy_helper.from_array(value, name))
            return
    raise ModelError(f"initializer {name!r} not found")


def cross_layer_equalize(model: Any):
    """Equalize every ``linear -> Relu -> linear`` chain with single consumers (module doc)."""
    proto = load_float_model(model)
    inits, nh = _init_map(proto)
    layers = {n.output[0]: n for n in linear_layers(proto)}
    users: dict[str, list] = {}
    for n in proto.graph.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    for first in list(layers.values()):
        relu = users.get(first.output[0], [])
        if len(relu) != 1 or relu[0].op_type != "Relu":
            continue
        nxt = users.get(relu[0].output[0], [])
        if len(nxt) != 1 or nxt[0].output[0] not in layers:
            continue
        w1 = nh.to_array(inits[first.input[1]])
        b1 = nh.to_array(inits[first.input[2]]) if len(first.input) > 2 and first.input[2] in inits else None
        w2 = nh.to_array(inits[nxt[0].input[1]])
        w1n, b1n, w2n, _ = equalize_pair(w1, b1, w2)
        _set(proto, first.input[1], w1n)
        if b1n is not None:
            _set(proto, first.input[2], b1n)
        _set(proto, nxt[0].input[1], w2n)
    return proto


def _input_stats(proto, names: list[str], data, runner, batch: int, what: str):
    inputs = [i.name for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    run = (runner or simulator_runner)(proto, names)
    acc = {}
    for feeds in iter_batches(data, inputs, batch):
        out = run(feeds)
        for a in names:
            x = np.asarray(out[a], np.float64)
            x = x.reshape(-1, x.shape[-1])
            if what == "absmax":
                v = np.max(np.abs(x), axis=0)
                acc[a] = v if a not in acc else np.maximum(acc[a], v)
            else:
                s, c = acc.get(a, (0.0, 0))
                acc[a] = (s + x.sum(axis=0), c + len(x))
    return acc if what == "absmax" else {a: s / c for a, (s, c) in acc.items()}


def smoothquant(model: Any, data: Any, config: SmoothQuantConfig | None = None, *, runner=None, batch: int = 64):
    """Smooth the selected linear layers' inputs (module doc): a ``Mul`` by ``1/s``, ``W <- diag(s) W``."""
    from onnx import helper

    config = config or SmoothQuantConfig()
    alpha = config.alpha
    proto = load_float_model(model)
    inits, nh = _init_map(proto)
    layers = [n for n in linear_layers(proto) if n.op_type in config.op_types and n.name not in config.exclude_nodes]
    targets = {n.output[0] for n in layers}
    absmax = _input_stats(proto, sorted({n.input[0] for n in layers}), data, runner, batch, "absmax")
    nodes = []
    for n in proto.graph.node:
        if n.output[0] in targets:
            w = nh.to_array(inits[n.input[1]])
            s = smoothquant_scales(absmax[n.input[0]], w, alpha)
            _set(proto, n.input[1], (w * s[:, None]).astype(w.dtype))
            inv = f"{n.name}_smooth_scale"
            proto.graph.initializer.append(nh.from_array((1.0 / s).astype(np.float32), inv))
            smoothed = f"{n.input[0]}_smoothed_{n.name}"
            nodes.append(helper.make_node("Mul", [n.input[0], inv], [smoothed], name=f"{n.name}_smooth"))
            n.input[0] = smoothed
        nodes.append(n)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    return proto


def bias_correct(model: Any, data: Any, w_hat: dict[str, np.ndarray], *, runner=None, batch: int = 64):
    """``b <- b - E[x] (W_hat - W)`` for each linear layer whose weight is in ``w_hat``."""
    proto = load_float_model(model)
    inits, nh = _init_map(proto)
    layers = [n for n in linear_layers(proto) if n.input[1] in w_hat and len(n.input) > 2 and n.input[2] in inits]
    means = _input_stats(proto, sorted({n.input[0] for n in layers}), data, runner, batch, "mean")
    for n in layers:
        w = nh.to_array(inits[n.input[1]]).astype(np.float64)
        b = nh.to_array(inits[n.input[2]])
        shift = means[n.input[0]] @ (np.asarray(w_hat[n.input[1]], np.float64) - w)
        _set(proto, n.input[2], (b - shift).astype(b.dtype))
    return proto
