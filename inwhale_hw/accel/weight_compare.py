"""Run a float model with its MatMul/Gemm weights in each block format and measure the error.

:func:`compare_weight_formats` rewrites the weights with
:func:`inwhale_hw.accel.weight_formats.quantize_weights`, runs the float and the rewritten model
on the accelerator's float executors and reports, per format, the per-layer cost, the model's
mean bits per weight (weighted by layer size) and the output error against the float model
(SQNR over all outputs together, max |error|).  ``activations="q8_0"`` also puts the input of
every rewritten layer through GGUF Q8_0 (:func:`~inwhale_hw.accel.weight_formats.q8_0_activations`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from .context import ExecContext
from .loader import load_model
from .reference import match_inputs
from .simulate import EXECUTORS, execute
from .weight_formats import LayerCost, q8_0_activations, quantize_weights, sqnr_db

__all__ = ["FormatResult", "compare_weight_formats"]


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


def _run_w_a8(graph, feeds: Any, layers: set[str]) -> dict[str, np.ndarray]:
    """The float graph with each rewritten MatMul/Gemm's ``A`` input through :func:`q8_0_activations`."""
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
        results.append(FormatResult(fmt, layers, sqnr_db(ref, got), float(np.max(np.abs(ref - got))), outs))
    return reference, results
