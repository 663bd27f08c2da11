"""Dynamic PTQ: int8 weights offline, uint8 activations quantized at run time.

The form is onnxruntime's ``quantize_dynamic`` (1.32.0, QOperator integer ops): for each
selected MatMul / Conv with an initializer weight ``w`` and activation input ``a``::

    DynamicQuantizeLinear(a) -> a_quantized, a_scale, a_zero_point      (once per tensor)
    MatMulInteger / ConvInteger(a_quantized, w_quantized, a_zero_point, w_zero_point) -> int32
    Cast(float) * (a_scale * w_scale)                                    -> the float output

``DynamicQuantizeLinear`` (ONNX spec, opset 11) takes ``s = (max(x, 0) - min(x, 0)) / 255`` and
``z = saturate(round(-min(x, 0) / s))`` per call.  The weight's scale and zero point follow
:func:`~inwhale_hw.ptq.qparams.scale_zero_point` (int8 symmetric: ``[-127, 127]``).  A Conv bias
becomes ``Reshape(b, [1, -1, 1, 1])`` + ``Add``; a Gemm with ``alpha = beta = 1``, ``transA =
transB = 0`` and an initializer weight is first rewritten as ``MatMul`` + ``Add`` (nodes
``<name>_MatMul`` / ``<name>_Add``, tensor ``<out>_MatMul``), as onnxruntime does.  Node and
tensor names are onnxruntime's (``<node>_quant``, ``<out>_output_quantized``,
``<node>_quant_scales_mul:0``, ...).
"""

from __future__ import annotations

import numpy as np

from .config import DynamicConfig
from .qparams import qrange, quantize_array, scale_zero_point
from .static import load_float_model

__all__ = ["quantize_dynamic"]


def _attr(node, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return a.f if a.type == 1 else a.i
    return default


def _gemm_to_matmul(g, inits: dict) -> None:
    from onnx import helper

    nodes = []
    for n in g.node:
        plain = (n.op_type == "Gemm" and _attr(n, "alpha", 1.0) == 1.0 and _attr(n, "beta", 1.0) == 1.0
                 and not _attr(n, "transA", 0) and not _attr(n, "transB", 0) and n.input[1] in inits)
        if not plain:
            nodes.append(n)
            continue
        out = n.output[0]
        if len(n.input) > 2 and n.input[2]:
            nodes.append(helper.make_node("MatMul", n.input[:2], [f"{out}_MatMul"], name=f"{n.name}_MatMul"))
            nodes.append(helper.make_node("Add", [f"{out}_MatMul", n.input[2]], [out], name=f"{n.name}_Add"))
        else:
            nodes.append(helper.make_node("MatMul", n.input[:2], [out], name=f"{n.name}_MatMul"))
    del g.node[:]
    g.node.extend(nodes)


def quantize_dynamic(model, config: DynamicConfig | None = None, output=None):
    """The dynamically quantized ModelProto of a float model (path or ModelProto)."""
    from onnx import helper, numpy_helper

    config = config or DynamicConfig()
    proto = load_float_model(model)
    g = proto.graph
    inits = {t.name: t for t in g.initializer}
    if "MatMul" in config.op_types:
        _gemm_to_matmul(g, inits)
    qmin, qmax = qrange(config.weight_type, symmetric=config.weight_type == "int8",
                        reduce_range=config.reduce_range)
    new_inits, done_w, done_a, drop = [], set(), set(), set()
    nodes = []
    for n in g.node:
        kind = {"MatMul": "MatMulInteger", "Conv": "ConvInteger"}.get(n.op_type)
        if (kind is None or n.op_type not in config.op_types or n.name in config.exclude_nodes
                or n.input[1] not in inits):
            nodes.append(n)
            continue
        a, w, out = n.input[0], n.input[1], n.output[0]
        if a not in done_a:
            nodes.append(helper.make_node("DynamicQuantizeLinear", [a], [f"{a}_quantized", f"{a}_scale", f"{a}_zero_point"],
                                          name=f"{a}_QuantizeLinear"))
            done_a.add(a)
        if w not in done_w:
            data = numpy_helper.to_array(inits[w])
            zp, s = scale_zero_point(np.array(data.min(), data.dtype), np.array(data.max(), data.dtype), qmin, qmax,
                                     config.weight_type == "int8")
            new_inits += [numpy_helper.from_array(s, f"{w}_scale"), numpy_helper.from_array(zp, f"{w}_zero_point"),
                          numpy_helper.from_array(quantize_array(data, s, zp, config.weight_type), f"{w}_quantized")]
            done_w.add(w)
            drop.add(w)
        mul = f"{n.name}_quant_scales_mul"
        nodes.append(helper.make_node("Mul", [f"{a}_scale", f"{w}_scale"], [f"{mul}:0"], name=mul))
        attrs = {a_.name: helper.get_attribute_value(a_) for a_ in n.attribute} if kind == "ConvInteger" else {}
        q_out = f"{out}_output_quantized"
        nodes.append(helper.make_node(kind, [f"{a}_quantized", f"{w}_quantized", f"{a}_zero_point", f"{w}_zero_point"],
                                      [q_out], name=f"{n.name}_quant", **attrs))
        nodes.append(helper.make_node("Cast", [q_out], [f"{q_out}_cast_output"], name=f"{q_out}_cast", to=1))
        bias = n.input[2] if n.op_type == "Conv" and len(n.input) > 2 and n.input[2] else None
        scaled = f"{out}quant_scaled_output" if bias else out
        nodes.append(helper.make_node("Mul", [f"{q_out}_cast_output", f"{mul}:0"], [scaled],
                                      name=f"{n.name}_quant_output_scale_mul"))
        if bias:
            shape = np.ones(len(inits[w].dims), np.int64)
            shape[1] = -1
            new_inits.append(numpy_helper.from_array(shape, f"{out}_bias_reshape_shape"))
            nodes.append(helper.make_node("Reshape", [bias, f"{out}_bias_reshape_shape"], [f"{out}_bias_reshape_output"]))
            nodes.append(helper.make_node("Add", [scaled, f"{out}_bias_reshape_output"], [out], name=f"{out}_bias_add"))
    used = {i for n in nodes for i in n.input}
    kept = [t for t in g.initializer if t.name not in drop and t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    for o in proto.opset_import:
        if o.domain in ("", "ai.onnx") and o.version < 11:
            o.version = 11
    if output is not None:
        from .static import save_model

        save_model(proto, output)
    return proto
