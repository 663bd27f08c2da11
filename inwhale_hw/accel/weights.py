"""Weight formats and power-of-two scales: rewrite a quantized model's constants for a config.

Both transforms act on the constants of the MAC operators (QLinearConv / QLinearMatMul /
QGemm with constant weights) and leave the graph structure alone, so the rewritten model is
still a valid ONNX model that onnxruntime can run as the reference.

Weight formats (``AccelConfig.weights``).  The float weights are first recovered exactly as
DequantizeLinear does (``f32(w - w_zp) * s_w``, float32), then requantized per output channel
(symmetric, zero point 0), along the channel axis of the operator (Conv weights: axis 0;
MatMul / Gemm ``B``: the ``N`` axis):

``int8``   the model's own codes, unchanged;
``intN``   (N = 2..7) the ``affine`` plugin: symmetric, narrow range ``[-(2^(N-1)-1), 2^(N-1)-1]``
           (int4: [-7, 7]), per-channel min-max scale ``max|w| / (2^(N-1)-1)`` stored as
           float32, round half to even, x / s in float32;
``pow2``   the ``pow2`` plugin (4 bits: sign + 3-bit exponent field, nearest level in the
           linear domain, ``e_max`` from max|w|) fitted per channel; the MAC array sees the
           integer weights ``±2^(E-1)`` in ``[-64, 64]`` from ``pow2_multiply`` (a shift of the
           activation) and the channel scale ``2^e_min``, itself a power of two.

Power-of-two scales (``AccelConfig.scales_pow2``, implied by profile ``shift-only``): every
scale ``s`` (activations, weights) becomes ``2^round(log2 s)``, the power of two nearest in the
log domain (ties impossible: ``log2 s`` is never exactly half an integer for a float ``s``
whose mantissa is compared with the float64 ``sqrt(2) / 2``, as the ``pow2`` plugin's LogQuant
rounding does).  Weights are re-encoded for their rounded scales with ``affine``
(``set_scale``), so ``s_in * s_w / s_out`` is an exact power of two and the ``shift-only``
profile applies.

Biases follow their scale: ``b' = sat_int32(rint(b * f32(s_x * s_w) / f32(s_x' * s_w')))``
in float64, the same rule (``bias / (input_scale * weight_scale)``, rounded) that
onnxruntime's quantizer used to write them.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from ..nn.shiftadd import pow2_multiply
from .config import AccelConfig
from .f32 import dequantize_linear
from .graph import MAC_KINDS, MAC_SLOTS, SCALE_SLOTS, Graph, Op
from .ops_quant import axis_param

__all__ = ["apply_config", "pow2_round"]

_HALF_SQRT2 = math.sqrt(2.0) / 2


def pow2_round(scale: np.ndarray) -> np.ndarray:
    """``2^round(log2 s)`` elementwise for positive float32 ``s`` (nearest in the log domain)."""
    s = np.asarray(scale, dtype=np.float64)
    mant, exp = np.frexp(s)
    exp = np.where(mant >= _HALF_SQRT2, exp, exp - 1)
    return np.ldexp(1.0, exp).astype(np.float32)


def _get(name: str, **params):
    from .. import get_quantizer

    return get_quantizer(name, **params)


def _int_weights(w: np.ndarray, axis: int, bits: int, scale: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-channel ``affine`` codes; fit min-max unless ``scale`` is given."""
    q = _get("affine", bits=bits, symmetric=True, narrow_range=True, granularity="channel", axis=axis,
             observer="minmax", precision="float32")
    if scale is None:
        scale = np.asarray(q.fit(w).scale, dtype=np.float32)
    q.set_scale(np.asarray(scale, dtype=np.float32).reshape(-1))
    return q.encode(w).astype(np.int8), np.asarray(scale, dtype=np.float32).reshape(-1)


def _pow2_weights(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel 4-bit ``pow2`` codes as the shift-multiplier integers ``±2^(E-1)``."""
    moved = np.moveaxis(w, axis, 0)
    ints = np.empty(moved.shape, dtype=np.int8)
    scales = np.empty(moved.shape[0], dtype=np.float32)
    for c in range(moved.shape[0]):
        q = _get("pow2", bits=4)
        codes = q.encode(moved[c].astype(np.float64))
        ints[c] = pow2_multiply(np.ones(codes.shape, dtype=np.int64), codes, bits=4)
        scales[c] = math.ldexp(1.0, q.min_exponent)
    return np.moveaxis(ints, 0, axis), scales


def _requantize_weights(w_float: np.ndarray, axis: int, old_scale: np.ndarray, config: AccelConfig):
    """``(codes int8, per-channel or per-tensor float32 scale)`` for the configured format."""
    if config.weights == "pow2":
        return _pow2_weights(w_float, axis)
    if config.weights == "int8":
        scale = pow2_round(old_scale).reshape(-1)
        if scale.size == 1:
            scale = np.full(w_float.shape[axis], scale[0], dtype=np.float32)
        codes, _ = _int_weights(w_float, axis, 8, scale)
        return codes, (scale[:1] if np.asarray(old_scale).size == 1 else scale)
    bits = config.weight_bits
    codes, scale = _int_weights(w_float, axis, bits, None)
    if config.scales_pow2:
        codes, scale = _int_weights(w_float, axis, bits, pow2_round(scale))
    return codes, scale


class _Updates(dict):
    def put(self, name: str, value: np.ndarray, graph: Graph) -> None:
        if name in self and not (self[name].shape == value.shape and np.array_equal(self[name], value)):
            raise ModelError(f"constant {name!r} is shared by operators that need different values after the weight transform")
        if name in graph.constants:
            self[name] = value


def apply_config(graph: Graph, config: AccelConfig) -> tuple[Graph, list[str]]:
    """The graph with weights and scales rewritten for ``config``, and notes saying what changed."""
    if config.block_weights or (config.weights == "int8" and not config.scales_pow2):
        return graph, []  # block formats rewrite float weights before loading (simulate)
    updates = _Updates()
    c = graph.constants
    if config.scales_pow2:
        for op in graph.ops:
            for slot in SCALE_SLOTS.get(op.kind, ()):
                name = op.slot(slot)
                if name in c:
                    updates.put(name, pow2_round(c[name]).reshape(c[name].shape), graph)
    axes: dict[str, int] = {}
    changed = 0
    for op in graph.ops:
        if op.kind in MAC_KINDS and _rewrite_mac(op, graph, config, updates, axes):
            changed += 1
    notes = [f"weights: {config.weights}, per-channel symmetric, {changed} MAC layer(s) requantized"]
    if config.scales_pow2:
        notes.append("scales: every scale rounded to the nearest power of two (log domain)")
    return graph.with_constants(dict(updates), axes), notes


def _rewrite_mac(op: Op, graph: Graph, config: AccelConfig, updates: _Updates, axes: dict) -> bool:
    c = graph.constants
    _, xs_i, _, w_i, ws_i, wz_i, _, _, b_i = MAC_SLOTS[op.kind]
    w_name, ws_name, wz_name = op.slot(w_i), op.slot(ws_i), op.slot(wz_i)
    if w_name not in c or ws_name not in c:
        if config.scales_pow2 and ws_name in c:
            updates.put(ws_name, pow2_round(c[ws_name]).reshape(c[ws_name].shape), graph)
        return False
    axis = int(op.meta.get("weight_axis", 0))
    w, ws = c[w_name], c[ws_name]
    wz = c.get(wz_name)
    w_float = dequantize_linear(w, axis_param(ws, w.ndim, axis), axis_param(0 if wz is None else wz, w.ndim, axis))
    codes, scale = _requantize_weights(w_float, axis, ws, config)
    per_channel = scale.size > 1
    updates.put(w_name, codes, graph)
    updates.put(ws_name, scale if per_channel else scale.reshape(ws.shape), graph)
    if wz_name:
        # DequantizeLinear and QGemm want the zero point shaped like the scale; QLinearConv and
        # QLinearMatMul keep the model's (scalar) zero point
        like_scale = per_channel and (op.origin == "qdq" or op.kind == "QGemm")
        zp_shape = scale.shape if like_scale else (wz.shape if wz is not None else ())
        updates.put(wz_name, np.zeros(zp_shape, dtype=np.int8), graph)
    if per_channel and op.meta.get("weight_dq"):
        axes[op.meta["weight_dq"]] = axis
    b_name = op.slot(b_i)
    if b_name in c:
        xs_name = op.slot(xs_i)
        s_x_old = np.float32(np.asarray(c[xs_name]).reshape(()))
        s_x_new = np.float32(np.asarray(updates.get(xs_name, c[xs_name])).reshape(()))
        old = (s_x_old * np.asarray(ws, dtype=np.float32).reshape(-1)).astype(np.float64)
        new = (s_x_new * scale.reshape(-1)).astype(np.float32)
        try:
            b = c[b_name].astype(np.float64) * old / new.astype(np.float64)
        except ValueError:
            raise ModelError(f"{op.kind} {op.name!r}: bias of shape {c[b_name].shape} does not broadcast with {scale.size} channel scales") from None
        updates.put(b_name, np.clip(np.rint(b), -(1 << 31), (1 << 31) - 1).astype(np.int32).reshape(c[b_name].shape), graph)
        if op.meta.get("bias_scale") in c:
            updates.put(op.meta["bias_scale"], new if per_channel else new.reshape(c[op.meta["bias_scale"]].shape), graph)
            if per_channel:
                axes[op.meta["bias_dq"]] = 0
    return True
