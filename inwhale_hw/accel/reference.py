"""onnxruntime as the reference: run the (possibly rewritten) model on the same input.

:func:`reference_model` writes the simulator's constants back into a copy of the ONNX model
(initializers the weight transform replaced, and the ``axis`` of DequantizeLinear nodes whose
scales became per-channel), so onnxruntime runs exactly the model that was simulated.
:func:`run_onnxruntime` runs it on the CPU execution provider with default session options
(all graph optimizations on, as deployed), optionally exposing intermediate tensors as extra
graph outputs.  Final outputs always come from a session without extra outputs, so exposing
intermediates can never change what is compared at the end.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._deps import require
from .graph import Graph

__all__ = ["match_inputs", "reference_model", "reference_versions", "run_onnxruntime"]


def reference_model(graph: Graph):
    """A copy of ``graph.model`` with the simulator's constants and DQ axes written in."""
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(graph.model)
    for i, init in enumerate(model.graph.initializer):
        value = graph.constants.get(init.name)
        if value is None:
            continue
        old = numpy_helper.to_array(init)
        if old.dtype != value.dtype or old.shape != value.shape or not np.array_equal(old, value):
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.asarray(value), init.name))
    for node in model.graph.node:
        if node.name in graph.dq_axis:
            kept = [a for a in node.attribute if a.name != "axis"]
            del node.attribute[:]
            node.attribute.extend(kept + [helper.make_attribute("axis", graph.dq_axis[node.name])])
    return model


def _session(model, ort):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def run_onnxruntime(graph: Graph, feeds: dict[str, np.ndarray], extra: dict[str, np.dtype] | None = None):
    """``(outputs, intermediates)``: the graph outputs by name, and the tensors named in
    ``extra`` (name -> dtype) that onnxruntime could produce."""
    ort = require("onnxruntime")
    onnx = require("onnx")
    from onnx import helper

    model = reference_model(graph)
    names = [o.name for o in graph.outputs]
    outputs = dict(zip(names, _session(model, ort).run(names, feeds)))
    intermediates: dict[str, np.ndarray] = {}
    wanted = [n for n in (extra or {}) if n not in outputs]
    if wanted:
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        for name in wanted:
            elem = helper.np_dtype_to_tensor_dtype(np.dtype(extra[name]))
            probe.graph.output.append(helper.make_tensor_value_info(name, elem, None))
        intermediates = dict(zip(wanted, _session(probe, ort).run(wanted, feeds)))
    intermediates.update({k: v for k, v in outputs.items() if extra and k in extra})
    return outputs, intermediates


def reference_versions() -> dict[str, str]:
    """The onnxruntime and onnx versions the comparison ran against (exactness depends on them)."""
    return {"onnxruntime": require("onnxruntime").__version__, "onnx": require("onnx").__version__}


def match_inputs(names: list[str], feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``feeds`` for a model whose inputs are ``names``: by name, or positionally for one input."""
    if set(names) <= set(feeds):
        return {n: feeds[n] for n in names}
    if len(names) == 1 and len(feeds) == 1:
        return {names[0]: next(iter(feeds.values()))}
    raise InputError(f"the float model's inputs {names} do not match the quantized model's {sorted(feeds)}")
