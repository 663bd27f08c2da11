"""Block weight formats for float models: rewrite MatMul/Gemm weights and state their cost.

A float ONNX model's constant MatMul ``B`` (``K x N``) and Gemm ``B`` (``K x N``, or ``N x K``
with ``transB=1``) are quantized to a format of :data:`WEIGHT_FORMATS` and replaced by their
dequantized values, float32 as each format's own dequantizer gives them (GGUF: the values of
``gguf.quants.dequantize``; MX: code times a power-of-two scale, exact; ``bnb`` and the
per-channel ``fp8``/``int*`` formats: ``code * scale`` rounded to float32 once).  The
activations stay float32: the weight-only W4A16/W8A16 arithmetic of llama.cpp's and
bitsandbytes' dequantize-then-multiply kernels, float32 standing in for the 16-bit
activations.  ``activations="q8_0"`` (:mod:`.weight_compare`) also quantizes the input of each
rewritten layer to GGUF Q8_0 (blocks of 32 along K): the W4A8 / W8A8 arithmetic of llama.cpp's
``vec_dot_q4_0_q8_0`` and of the block-dot PEs of :mod:`inwhale_hw.hdl.block_dot`, products
summed in float32.

Blocks run along the reduction axis ``K`` (each output channel's row of ``W^T`` is cut into
blocks of 32 consecutive inputs), as GGUF stores ``ffn`` and attention weights and as a
block-dot PE consumes them; ``K`` must be a multiple of 32.  ``nf4``/``fp4`` cut the flattened
``N x K`` array (PyTorch's ``(out, in)`` layout) into blocks of 64, as bitsandbytes does, so a
block may span two rows.  Per-channel formats (``fp8``, ``int8``, ``int4``) take one float32
scale per output channel.

The models are the plugins' own (``gguf``, ``mx``, ``bnb``, ``minifloat``, ``affine``); the tests
check the rewritten weights against ``gguf.quants`` and ``ml_dtypes`` and the run
(:mod:`.weight_compare`) against onnxruntime.  Cost per layer (:class:`LayerCost`): bits per
weight with the scales (``8 * bytes per block / block``: Q4_0 4.5, Q8_0 8.5, MXFP4 4.25,
MXFP8 8.25; NF4 with double quantization about 4.127; per channel: element bits + 32 / K)
and the weight SQNR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ._deps import require

__all__ = ["WEIGHT_FORMATS", "LayerCost", "quantize_weights", "q8_0_activations", "sqnr_db"]

#: format name -> (quantizer plugin, parameters); blocks along K, per-channel scales per output channel
WEIGHT_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    "q4_0": ("gguf", {"type": "Q4_0"}),
    "q4_1": ("gguf", {"type": "Q4_1"}),
    "q5_0": ("gguf", {"type": "Q5_0"}),
    "q5_1": ("gguf", {"type": "Q5_1"}),
    "q8_0": ("gguf", {"type": "Q8_0"}),
    "mxfp4": ("mx", {"format": "mxfp4_e2m1"}),
    "mxfp6": ("mx", {"format": "mxfp6_e2m3"}),
    "mxfp8": ("mx", {"format": "mxfp8_e4m3"}),
    "mxint8": ("mx", {"format": "mxint8"}),
    "nf4": ("bnb", {"code": "nf4"}),
    "fp4": ("bnb", {"code": "fp4"}),
    "fp8": ("minifloat", {"format": "fp8_e4m3fn", "granularity": "channel", "axis": 0}),
    "int8": ("affine", {"bits": 8, "symmetric": True, "narrow_range": True, "granularity": "channel", "axis": 0,
                        "observer": "minmax", "precision": "float32"}),
    "int4": ("affine", {"bits": 4, "symmetric": True, "narrow_range": True, "granularity": "channel", "axis": 0,
                        "observer": "minmax", "precision": "float32"}),
}


@dataclass
class LayerCost:
    """One rewritten weight: node, shape ``(K, N)``, stored bits per weight and weight SQNR (dB)."""

    node: str
    op: str
    k: int
    n: int
    bits_per_weight: float
    weight_sqnr_db: float

    @property
    def weights(self) -> int:
        return self.k * self.n

    @property
    def bytes(self) -> float:
        return self.bits_per_weight * self.weights / 8


def sqnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
    """``10 log10(sum x^2 / sum (x - x_hat)^2)`` in float64; inf when equal."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    err = x - np.asarray(x_hat, dtype=np.float64).reshape(-1)
    noise, signal = float(err @ err), float(x @ x)
    if noise == 0:
        return math.inf
    return 10 * math.log10(signal / noise) if signal else -math.inf


def _quantizer(fmt: str):
    if fmt not in WEIGHT_FORMATS:
        raise InputError(f"weight format {fmt!r} is not known; expected one of {', '.join(WEIGHT_FORMATS)}")
    from .. import get_quantizer

    name, params = WEIGHT_FORMATS[fmt]
    return get_quantizer(name, **params)


def _bits_per_weight(q, rows: np.ndarray) -> float:
    own = getattr(q, "bits_per_weight", None)
    if own is not None:
        return float(own)
    return q.params["bits"] + 32 * np.size(q.scale) / rows.size  # affine: a float32 scale per channel


def _rewrite_rows(rows: np.ndarray, fmt: str, where: str) -> tuple[np.ndarray, float]:
    """Dequantized ``rows`` (``N x K``, blocks along K) and the stored bits per weight."""
    q = _quantizer(fmt)
    block = getattr(q, "block_size", None)
    if q.name in ("gguf", "mx") and rows.shape[1] % block:
        raise ModelError(f"{where}: K={rows.shape[1]} is not a multiple of the {fmt} block size {block}")
    q.fit(rows)
    deq = np.asarray(q.decode(q.encode(rows)), dtype=np.float32)
    return deq.reshape(rows.shape), _bits_per_weight(q, rows)


def quantize_weights(model: Any, fmt: str):
    """``(onnx.ModelProto with MatMul/Gemm weights rewritten to fmt, [LayerCost])``.

    ``model`` is a path or ``onnx.ModelProto`` (not modified).  Weights that are graph inputs or
    not 2-D are left alone; a model with none to rewrite is an error."""
    onnx = require("onnx")
    from onnx import numpy_helper

    from .loader import _read_model

    proto = onnx.ModelProto()
    proto.CopyFrom(_read_model(model))
    inits = {t.name: t for t in proto.graph.initializer}
    users: dict[str, int] = {}
    for node in proto.graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    layers = []
    for node in proto.graph.node:
        if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        tensor = inits[node.input[1]]
        w = numpy_helper.to_array(tensor)
        if w.ndim != 2 or w.dtype != np.float32:
            continue
        if users[node.input[1]] > 1:
            raise ModelError(f"{node.op_type} {node.name!r}: weight {node.input[1]!r} is shared by other nodes; "
                             f"give each layer its own constant")
        trans_b = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
        rows = w if trans_b else w.T  # N x K
        where = f"{node.op_type} {node.name or node.output[0]!r}"
        deq, bpw = _rewrite_rows(np.ascontiguousarray(rows), fmt, where)
        new = deq if trans_b else np.ascontiguousarray(deq.T)
        tensor.CopyFrom(numpy_helper.from_array(new, tensor.name))
        layers.append(LayerCost(node.name or node.output[0], node.op_type, rows.shape[1], rows.shape[0], bpw,
                                sqnr_db(rows, deq)))
    if not layers:
        raise ModelError("the model has no MatMul/Gemm with a constant 2-D float32 weight to rewrite")
    return proto, layers


def q8_0_activations(x: np.ndarray, where: str = "activation") -> np.ndarray:
    """``x`` through GGUF Q8_0 along its last axis (blocks of 32, binary16 scale), dequantized:
    the activation side of llama.cpp's ``vec_dot_q4_0_q8_0`` / ``vec_dot_q8_0_q8_0``."""
    from .. import get_quantizer

    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] % 32:
        raise ModelError(f"{where}: Q8_0 activations need the reduction axis to be a multiple of 32, got {x.shape[-1]}")
    q = get_quantizer("gguf", type="Q8_0")
    return np.asarray(q.decode(q.encode(x.reshape(-1, x.shape[-1]))), dtype=np.float32).reshape(x.shape)
