"""Weight-only block formats for float models: rewrite MatMul/Gemm weights, run, report the cost.

A float ONNX model's constant MatMul ``B`` (``K x N``) and Gemm ``B`` (``K x N``, or ``N x K``
with ``transB=1``) are quantized to a format of :data:`WEIGHT_FORMATS` and replaced by their
dequantized values as float32 (exact for the GGUF and MX formats, a small code times a
binary16 or power-of-two scale; ``bnb`` and the per-channel ``fp8``/``int*`` formats round
``code * scale`` to float32 once, as their float32 dequantizers do).  The activations stay float32: this is the
weight-only W4A16/W8A16 arithmetic of llama.cpp's and bitsandbytes' dequantize-then-multiply
kernels, with float32 standing in for the 16-bit activations.  ``activations="q8_0"`` also
quantizes the input of each rewritten layer to GGUF Q8_0 (blocks of 32 along K), the W4A8 /
W8A8 arithmetic of llama.cpp's ``vec_dot_q4_0_q8_0`` (and of the block-dot PE of
:mod:`inwhale_hw.hdl.block_dot`), products summed in float32.

Blocks run along the reduction axis ``K`` (each output channel's row of ``W^T`` is cut into
blocks of 32 consecutive inputs), as GGUF stores ``ffn`` and attention weights and as a
block-dot PE consumes them; ``K`` must be a multiple of 32.  ``nf4``/``fp4`` cut the flattened
``N x K`` array (PyTorch's ``(out, in)`` layout) into blocks of 64, as bitsandbytes does, so a
block may span two rows.  Per-channel formats (``fp8``, ``int8``, ``int4``) take one float32 scale per output channel.

The models are the plugins' own (``gguf``, ``mx``, ``bnb``, ``minifloat``, ``affine``); the tests
check the rewritten weights against ``gguf.quants`` and ``ml_dtypes`` and the run against
onnxruntime.  Cost per layer: bits per weight with the scales (``8 * bytes per block / block``:
Q4_0 4.5, Q8_0 8.5, MXFP4 4.25, MXFP8 8.25; NF4 with double quantization about 4.127; per
channel: element bits + 32 / K) and the weight SQNR; per model: the weighted mean bits per
weight and the output error against the float model (SQNR, max |error|).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ._deps import require

__all__ = ["WEIGHT_FORMATS", "LayerCost", "FormatResult", "quantize_weights", "compare_weight_formats",
           "q8_0_activations"]

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


@dataclass
class FormatResult:
    """A format's run: per-layer cost, model bits per weight, output error against the float model."""

    format: str
    layers: list[LayerCost]
    output_sqnr_db: float
    max_abs_error: float
    outputs: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def bits_per_weight(self) -> float:
        total = sum(layer.weights for layer in self.layers)
        return sum(layer.bits_per_weight * layer.weights for layer in self.layers) / total if total else math.nan

    @property
    def weight_bytes(self) -> float:
        return sum(layer.bytes for layer in self.layers)


def _sqnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
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
                                _sqnr_db(rows, deq)))
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


def _run_w_a8(graph, feeds: Any, layers: set[str]) -> dict[str, np.ndarray]:
    """The float graph with each rewritten MatMul/Gemm's ``A`` input through :func:`q8_0_activations`."""
    from .context import ExecContext
    from .reference import match_inputs
    from .simulate import EXECUTORS

    feeds = feeds if isinstance(feeds, dict) else {graph.inputs[0].name: feeds}
    env = {**graph.constants, **match_inputs([i.name for i in graph.inputs], feeds)}
    ctx = ExecContext()
    for op in graph.ops:
        args = [env[name] if name else None for name in op.inputs]
        if (op.name or op.outputs[0]) in layers:
            if op.kind == "Gemm" and op.attrs.get("transA", 0):
                raise ModelError(f"Gemm {op.name!r}: transA=1 puts K on the first axis; Q8_0 activations need it last")
            args[0] = q8_0_activations(args[0], f"{op.kind} {op.name!r}")
        env.update(zip(op.outputs, EXECUTORS[op.kind](op, args, ctx).outputs))
    return {o.name: env[o.name] for o in graph.outputs}


def compare_weight_formats(model: Any, feeds: Any, formats: list[str],
                           activations: str = "float") -> tuple[dict[str, np.ndarray], list[FormatResult]]:
    """Run the float model and its rewrite to each format on ``feeds`` (an array or a dict) with
    the accelerator's float executors; ``(float outputs, [FormatResult])``.  The output error
    compares all outputs together.

    ``activations``: ``"float"`` (weight-only, W4A16/W8A16) or ``"q8_0"`` (W4A8/W8A8: the input
    of every rewritten MatMul/Gemm goes through GGUF Q8_0 along K first, as llama.cpp quantizes
    activations for its Q4_0/Q8_0 dot products; the products are then summed in float32)."""
    from .loader import load_model
    from .simulate import execute

    if activations not in ("float", "q8_0"):
        raise InputError(f"activations={activations!r} is not allowed; expected 'float' or 'q8_0'")
    reference = execute(load_model(model, role="float"), feeds).outputs
    results = []
    for fmt in formats:
        proto, layers = quantize_weights(model, fmt)
        graph = load_model(proto, role="float")
        if activations == "q8_0":
            outs = _run_w_a8(graph, feeds, {c.node for c in layers})
        else:
            outs = execute(graph, feeds).outputs
        ref = np.concatenate([np.asarray(v, np.float64).reshape(-1) for v in reference.values()])
        got = np.concatenate([np.asarray(outs[k], np.float64).reshape(-1) for k in reference])
        results.append(FormatResult(fmt, layers, _sqnr_db(ref, got), float(np.max(np.abs(ref - got))), outs))
    return reference, results
