"""Run a quantized ONNX model on the modelled accelerator and measure it layer by layer.

:func:`execute` runs a loaded :class:`~inwhale_hw.accel.graph.Graph` (vectorized over the
whole batch) and returns every op's statistics; :func:`simulate` adds what a study needs
around it: the configuration's weight / scale rewrite (:mod:`inwhale_hw.accel.weights`), the
onnxruntime reference on the same rewritten model (final outputs and every integer
intermediate tensor, element by element), and the error against a float model and labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ._deps import available, require
from .config import AccelConfig
from .batching import PROBE_IMAGES, NotSeparable, check_separable, run_chunked
from .context import ExecContext
from .cycles import mac_cycles, vector_cycles
from .graph import Graph
from .loader import _read_model, load_model
from .ops_conv_transpose import EXECUTORS as CONV_TRANSPOSE_EXECUTORS
from .ops_elementwise import EXECUTORS as ELEMENTWISE_EXECUTORS
from .ops_float import EXECUTORS as FLOAT_EXECUTORS
from .ops_qlinear import EXECUTORS as QLINEAR_EXECUTORS
from .ops_quant import EXECUTORS as QUANT_EXECUTORS
from .ops_reduce import EXECUTORS as REDUCE_EXECUTORS
from .ops_resize import EXECUTORS as RESIZE_EXECUTORS
from .ops_shape import EXECUTORS as SHAPE_EXECUTORS
from .ops_softmax import EXECUTORS as SOFTMAX_EXECUTORS
from .ops_weight_only import EXECUTORS as WEIGHT_ONLY_EXECUTORS
from .reference import _session, match_inputs, reference_versions, run_onnxruntime
from .report import LayerStats, OutputStats, Report
from .weight_formats import quantize_weights
from .weights import apply_config

__all__ = ["Execution", "execute", "simulate", "run_float_model"]

EXECUTORS = {**FLOAT_EXECUTORS, **ELEMENTWISE_EXECUTORS, **REDUCE_EXECUTORS, **SHAPE_EXECUTORS, **QUANT_EXECUTORS,
             **QLINEAR_EXECUTORS, **SOFTMAX_EXECUTORS, **WEIGHT_ONLY_EXECUTORS,
             **RESIZE_EXECUTORS, **CONV_TRANSPOSE_EXECUTORS}


@dataclass
class Execution:
    """Outputs by name, every computed tensor, and per-op statistics."""

    outputs: dict[str, np.ndarray]
    tensors: dict[str, np.ndarray]
    layers: list[LayerStats]
    seconds: float


def _feeds(graph: Graph, inputs: Any) -> dict[str, np.ndarray]:
    if not isinstance(inputs, dict):
        if len(graph.inputs) != 1:
            raise InputError(f"the model has {len(graph.inputs)} inputs {[i.name for i in graph.inputs]}; pass a dict name -> array")
        inputs = {graph.inputs[0].name: inputs}
    feeds = {}
    for info in graph.inputs:
        if info.name not in inputs:
            raise InputError(f"missing model input {info.name!r}; given {sorted(inputs)}")
        arr = np.asarray(inputs[info.name])
        if info.dtype is not None and arr.dtype != info.dtype:
            if info.dtype.kind == "f" and arr.dtype.kind in "fiu":
                arr = arr.astype(info.dtype)
            else:
                raise InputError(f"input {info.name!r} has dtype {arr.dtype}; the model expects {info.dtype}")
        if info.shape is not None and (arr.ndim != len(info.shape) or any(
                isinstance(d, int) and d > 0 and d != s for d, s in zip(info.shape, arr.shape))):
            raise InputError(f"input {info.name!r} has shape {arr.shape}; the model expects {info.shape}")
        feeds[info.name] = arr
    unknown = set(inputs) - {i.name for i in graph.inputs}
    if unknown:
        raise InputError(f"unknown model inputs {sorted(unknown)}; the model takes {[i.name for i in graph.inputs]}")
    return feeds


def execute(graph: Graph, inputs: Any, config: AccelConfig | None = None, *, chunk: int | str | None = "auto") -> Execution:
    """Run ``graph`` on ``inputs`` (an array for a single-input model, or a dict) with the
    datapath of ``config`` (weights and scales as they are in ``graph``).

    ``chunk``: run the batch ``chunk`` images at a time, or sized automatically (``"auto"``);
    the results do not depend on it (:mod:`inwhale_hw.accel.batching`).  None runs the batch
    at once.
    """
    config = config or AccelConfig()
    ctx = ExecContext(config.acc_bits, config.overflow, config.profile, config.track_partials)
    feeds = _feeds(graph, inputs)
    start = time.perf_counter()

    def run_ops(chunk_feeds: dict[str, np.ndarray], expect: int | None):
        env = dict(graph.constants)
        env.update(chunk_feeds)
        results = []
        for op in graph.ops:
            try:
                args = [env[name] if name else None for name in op.inputs]
            except KeyError as exc:
                raise ModelError(f"{op.kind} {op.name!r}: input tensor {exc.args[0]!r} is not produced by any earlier node") from None
            t0 = time.perf_counter()
            result = EXECUTORS[op.kind](op, args, ctx)
            results.append((result, time.perf_counter() - t0))
            if expect is not None:
                check_separable(result, expect)
            env.update(zip(op.outputs, result.outputs))
        return results, {k: v for k, v in env.items() if k not in graph.constants or k in chunk_feeds}

    batches = {v.shape[0] if v.ndim else None for v in feeds.values()}
    results = None
    limit = PROBE_IMAGES if chunk == "auto" else chunk
    if chunk and len(batches) == 1 and (n := batches.pop()) is not None and n > limit:
        try:
            results, tensors = run_chunked(run_ops, feeds, n, chunk)
        except NotSeparable:
            results = None
    if results is None:
        results, tensors = run_ops(feeds, None)
    layers = [LayerStats.from_result(op, r, _cycles(r, config), sec) for op, (r, sec) in zip(graph.ops, results)]
    outputs = {o.name: tensors[o.name] for o in graph.outputs}
    return Execution(outputs, {**graph.constants, **tensors}, layers, time.perf_counter() - start)


def _cycles(result, config: AccelConfig) -> int:
    if result.mac_shape is not None:
        return mac_cycles(result.mac_shape, config.array_rows, config.array_cols, config.dataflow)
    if result.engine == "vector":
        return vector_cycles(result.vector_elements, config.lanes)
    return 0


def _batch(feeds: dict[str, np.ndarray]) -> int:
    first = next(iter(feeds.values()))
    return int(first.shape[0]) if first.ndim else 1


def simulate(model: Any, inputs: Any, config: AccelConfig | None = None, *, reference: bool = True,
             float_model: Any = None, labels: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], Report]:
    """Simulate ``model`` (path, ModelProto or Graph) on ``inputs``; returns ``(outputs, report)``.

    ``reference``: also run onnxruntime (when installed) on the same rewritten model and count
    mismatching elements per layer and per output.  ``float_model``: a float ONNX model whose
    outputs the report compares with (max / RMS error, top-1 agreement).  ``labels``: integer
    class labels for accuracy (argmax over the last axis of the first output).
    """
    config = config or AccelConfig()
    block_notes = []
    if config.block_weights:
        if isinstance(model, Graph):
            raise InputError(f"weights={config.weights!r} rewrites an ONNX model's float weights; pass a path or ModelProto, not a Graph")
        model, layers = quantize_weights(model, config.weights)
        block_notes = [f"weights: {config.weights} (weight-only), {c.op} {c.node!r} K={c.k} N={c.n}: "
                       f"{c.bits_per_weight:.3f} bits/weight, weight SQNR {c.weight_sqnr_db:.2f} dB" for c in layers]
    graph = model if isinstance(model, Graph) else load_model(model, role="float" if config.block_weights else "quantized")
    graph, notes = apply_config(graph, config)
    notes = block_notes + notes
    feeds = _feeds(graph, inputs)
    run = execute(graph, feeds, config)
    report = Report(graph.name, _batch(feeds), config, run.layers, notes=notes, seconds=run.seconds)
    ort_out = None
    if reference and available("onnxruntime"):
        ints = {name: v.dtype for layer, op in zip(run.layers, graph.ops) for name in op.outputs
                if (v := run.tensors.get(name)) is not None and v.dtype.kind in "iu"}
        ort_out, inter = run_onnxruntime(graph, feeds, ints)
        floats = {name: v.dtype for layer, op in zip(run.layers, graph.ops) if layer.engine == "host"
                  for name in op.outputs[:1] if (v := run.tensors.get(name)) is not None and v.dtype.kind == "f"
                  and name not in ort_out}
        if floats:  # a separate probe: exposing float tensors must not change onnxruntime's integer fusions
            inter.update(run_onnxruntime(graph, feeds, floats)[1])
        for layer, op in zip(run.layers, graph.ops):
            name = op.outputs[0]
            if name in inter:
                layer.set_reference(run.tensors[name], inter[name])
        report.versions = reference_versions()
    elif reference:
        report.notes.append("onnxruntime is not installed: no reference comparison (pip install 'inwhale_hw[onnx]')")
    float_out = None
    if float_model is not None:
        float_out = run_float_model(float_model, feeds)
    for i, info in enumerate(graph.outputs):
        ours = run.outputs[info.name]
        ref = ort_out.get(info.name) if ort_out else None
        flt = list(float_out.values())[i] if float_out and i < len(float_out) else None
        report.outputs.append(OutputStats.compare(info.name, ours, ref, flt, labels if i == 0 else None))
    return run.outputs, report


def run_float_model(model, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of a float ONNX model on the quantized model's ``feeds`` (matched by name, or
    positionally for single-input models): onnxruntime when installed (any operator it runs),
    else the simulator's own float executors (errors then name the float model)."""
    if available("onnxruntime"):
        proto = _read_model(model)
        constants = {t.name for t in proto.graph.initializer}
        names = [i.name for i in proto.graph.input if i.name not in constants]
        outputs = [o.name for o in proto.graph.output]
        return dict(zip(outputs, _session(proto, require("onnxruntime")).run(outputs, match_inputs(names, feeds))))
    graph = load_model(model, role="float")
    return execute(graph, match_inputs([i.name for i in graph.inputs], feeds)).outputs
