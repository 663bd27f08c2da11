"""The QOperator form of a QDQ model: each ``DQ -> op -> Q`` group becomes one integer operator.

A float operator whose float inputs all come from DequantizeLinear and whose output feeds only
a QuantizeLinear is replaced (scales and zero points are the group's own, so the integer
operator computes what the QDQ group specifies; ONNX operator spec and onnxruntime's contrib
ops):

* Conv -> QLinearConv ``(x, sx, zx, w, sw, zw, sy, zy, b_int32)``;
* MatMul -> QLinearMatMul; Gemm -> com.microsoft QGemm ``(a, sa, za, b, sb, zb, c_int32, sy, zy)``;
* Add -> com.microsoft QLinearAdd; AveragePool -> com.microsoft QLinearAveragePool;
* MaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze whose output reuses the input's
  scale and zero point run directly on the integers.

Everything else stays as it is (float, between its DequantizeLinear / QuantizeLinear); Q / DQ
nodes left without consumers are dropped.  Names: the integer operator is ``<node>_quant`` and
writes the QuantizeLinear's output tensor.  Unlike onnxruntime's own QOperator quantizer (whose
ranges and Relu handling differ from its QDQ form), this is the *same* quantized model as the
QDQ input, so the two give the same integers.
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["to_qoperator"]

_DIRECT = ("MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze")


def to_qoperator(qdq_model):
    """A QOperator copy of a QDQ ModelProto (module doc)."""
    import onnx
    from onnx import helper

    model = onnx.ModelProto.FromString(qdq_model.SerializeToString())
    g = model.graph
    uses: dict[str, int] = defaultdict(int)
    for n in g.node:
        for i in n.input:
            uses[i] += 1
    q_of = {n.input[0]: k for k, n in enumerate(g.node) if n.op_type == "QuantizeLinear"}
    graph_outputs = {o.name for o in g.output}
    dq = {n.output[0]: (n.input[0], n.input[1], n.input[2] if len(n.input) > 2 else "")
          for n in g.node if n.op_type == "DequantizeLinear" and not any(a.name == "block_size" for a in n.attribute)}

    def out_q(n):
        t = n.output[0] if len(n.output) == 1 else None
        if t is None or uses[t] != 1 or t not in q_of or t in graph_outputs:
            return None
        q = g.node[q_of[t]]
        return q.output[0], q.input[1], q.input[2]

    replaced: dict[int, list] = {}
    for k, n in enumerate(g.node):
        y = out_q(n)
        if y is None:
            continue
        ins = [dq.get(i) for i in n.input]
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        new = None
        if n.op_type == "Conv" and ins[0] and ins[1]:
            args = [*ins[0], *ins[1], y[1], y[2]]
            if len(n.input) > 2 and n.input[2]:
                if not ins[2]:
                    continue
                args.append(ins[2][0])
            new = helper.make_node("QLinearConv", args, [y[0]], name=f"{n.name}_quant", **attrs)
        elif n.op_type == "MatMul" and ins[0] and ins[1]:
            new = helper.make_node("QLinearMatMul", [*ins[0], *ins[1], y[1], y[2]], [y[0]], name=f"{n.name}_quant")
        elif n.op_type == "Gemm" and ins[0] and ins[1] and (len(n.input) < 3 or ins[2]):
            bias = ins[2][0] if len(n.input) > 2 and ins[2] else ""
            new = helper.make_node("QGemm", [*ins[0], *ins[1], bias, y[1], y[2]], [y[0]], name=f"{n.name}_quant",
                                   domain="com.microsoft", **{a: v for a, v in attrs.items() if a != "beta"})
        elif n.op_type == "Add" and ins[0] and ins[1]:
            new = helper.make_node("QLinearAdd", [*ins[0], *ins[1], y[1], y[2]], [y[0]], name=f"{n.name}_quant",
                                   domain="com.microsoft")
        elif n.op_type == "AveragePool" and ins[0]:
            new = helper.make_node("QLinearAveragePool", [*ins[0], y[1], y[2]], [y[0]], name=f"{n.name}_quant",
                                   domain="com.microsoft", **attrs)
        elif n.op_type in _DIRECT and ins[0] and (ins[0][1], ins[0][2]) == (y[1], y[2]):
            new = helper.make_node(n.op_type, [ins[0][0], *n.input[1:]], [y[0]], name=n.name, **attrs)
        if new is not None:
            replaced[k] = (new, q_of[n.output[0]])
    drop = {q for _, q in replaced.values()}
    nodes = [replaced[k][0] if k in replaced else n for k, n in enumerate(g.node) if k not in drop]
    while True:  # drop Q / DQ nodes nobody reads any more
        used = {i for n in nodes for i in n.input} | graph_outputs
        keep = [n for n in nodes if n.op_type not in ("QuantizeLinear", "DequantizeLinear") or n.output[0] in used]
        if len(keep) == len(nodes):
            break
        nodes = keep
    used = {i for n in nodes for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(inits)
    if any(n.domain == "com.microsoft" for n in nodes) and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model
