"""Load a quantized ONNX model into the simulator's op list, fusing QDQ groups like onnxruntime.

Both forms that ``onnxruntime.quantization.quantize_static`` writes are accepted:

* QOperator: QuantizeLinear, QLinearConv, QLinearMatMul, the com.microsoft QLinear* kernels,
  data movement on integer tensors, DequantizeLinear (and ``quantize_dynamic``'s
  DynamicQuantizeLinear / MatMulInteger / ConvInteger; MatMulNBits weight-only models);
* QDQ: float Conv / Gemm / MatMul / Add / pools wrapped in DequantizeLinear (DQ) and
  QuantizeLinear (Q) nodes.  onnxruntime (any graph optimization level above "disable") does
  not run these in float: its QDQ transformers replace each group by an integer kernel, and the
  simulator does the same so that its results are onnxruntime's, bit for bit.

Rewrites, in onnxruntime's order (``core/optimizer/qdq_transformer``):

1. ``ReluQuantFusion`` / ``ClipQuantFusion``: a Relu feeding only a Q whose zero point is the
   type's minimum, or a Clip whose ``[min, max]`` covers the Q's range to within float32
   epsilon, is removed (the Q saturates the same way).
2. Selectors (``selectors_actions/qdq_selectors.cc``), each needing every data input from a DQ,
   the node's only consumer a Q (none allowed for Gemm) and its output not a graph output:
   ``DQ(x), DQ(w)[, DQ(b:int32)] -> Conv -> Q``  => QLinearConv and ``DQ(a), DQ(b) -> MatMul -> Q``
   => QLinearMatMul for uint8 activations only: ``ConvNodeGroupSelector`` and
   ``MatMulNodeGroupSelector`` accept int8 ones only when ``QDQIsInt8Allowed()``, which
   ``qdq_selector_action_transformer.h`` makes true on ARM builds alone, so onnxruntime on
   x86-64 runs an int8-activation Conv / MatMul as DQ -> float32 op -> Q, and so does the
   simulator (no integer MAC statistics for such a layer; quantize with ``QUInt8``
   activations to simulate it in integers);
   ``DQ(a), DQ(b)[, DQ(c:int32)] -> Gemm(beta=1) [-> Q]`` => QGemm (float output without Q; int8
   activations too, with int8 weights); ``DQ(a), DQ(b) -> Add -> Q`` => QLinearAdd;
   ``DQ -> AveragePool -> Q`` => QLinearAveragePool; ``DQ(a), DQ(b) -> Mul -> Q`` =>
   QLinearMul, ``DQ -> Sigmoid | LeakyRelu -> Q`` => QLinearSigmoid / QLinearLeakyRelu,
   ``DQ... -> Concat -> Q`` => QLinearConcat (these four for uint8 only: onnxruntime 1.32 on
   x86-64 keeps the int8 groups in float); ``DQ -> GlobalAveragePool | Softmax -> Q`` =>
   QLinearGlobalAveragePool / QLinearSoftmax; ``DQ -> MaxPool | Reshape | Flatten | Transpose |
   Squeeze | Unsqueeze | Gather | Slice | Resize -> Q`` with the same constant scale and zero
   point => the op on integers.  Groups whose weights are sub-byte, float8 or blocked stay
   DQ -> float op (as in onnxruntime).
3. Nodes left over run as written (Q/DQ and float ops in float32); integer shape arithmetic on
   constants is folded (:mod:`.fold`).

Anything else (an operator outside :data:`SUPPORTED`, a sub-graph) raises
:class:`~inwhale_hw.errors.ModelError` naming the operator, its domain, the node and the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ._deps import require
from .fold import fold_constants
from .graph import Graph, Op, TensorInfo
from .supported import SUPPORTED

__all__ = ["SUPPORTED", "load_model"]

_MS = "com.microsoft"
_DROP_QDQ = ("MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Gather", "Slice", "Resize")
#: QDQ unary / binary / variadic groups onnxruntime fuses into com.microsoft QLinear* kernels, and the
#: activation types it fuses them for (measured with onnxruntime 1.32 on x86-64: the int8 forms
#: stay DQ -> float op -> Q there)
_QLINEAR_GROUPS = {"Mul": ("QLinearMul", (np.uint8,)), "Sigmoid": ("QLinearSigmoid", (np.uint8,)),
                   "LeakyRelu": ("QLinearLeakyRelu", (np.uint8,)), "Concat": ("QLinearConcat", (np.uint8,)),
                   "GlobalAveragePool": ("QLinearGlobalAveragePool", (np.uint8, np.int8)),
                   "Softmax": ("QLinearSoftmax", (np.uint8, np.int8))}
_MULTI_OUTPUT = ("Split", "DynamicQuantizeLinear")


@dataclass
class _Node:
    index: int
    op_type: str
    domain: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]


def _attr_value(helper, attribute, numpy_helper) -> Any:
    value = helper.get_attribute_value(attribute)
    if hasattr(value, "dims") and hasattr(value, "data_type"):  # a TensorProto attribute
        return numpy_helper.to_array(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    return value


def _read_model(model: Any):
    onnx = require("onnx")
    if isinstance(model, onnx.ModelProto):
        return model
    path = Path(model)
    if not path.is_file():
        raise InputError(f"model file {str(path)!r} does not exist")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise ModelError(f"{str(path)!r} is not a readable ONNX model: {exc}") from None


def load_model(model: Any, role: str = "quantized") -> Graph:
    """Read an ONNX model (path or ``onnx.ModelProto``) into a :class:`Graph`.

    ``role`` ("quantized" or "float") names the model in error messages.
    """
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    proto = _read_model(model)
    g = proto.graph
    constants = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes: list[_Node] = []
    for i, n in enumerate(g.node):
        domain = "" if n.domain in ("", "ai.onnx") else n.domain
        name = n.name or f"{n.op_type}_{i}"
        if (domain, n.op_type) not in SUPPORTED:
            label = f"{n.op_type!r} (domain {domain or 'ai.onnx'!r})"
            raise ModelError(f"unsupported operator {label} in node {name!r} of the {role} model; "
                             "inwhale_hw.accel.SUPPORTED lists the operators the simulator runs")
        attrs = {a.name: _attr_value(helper, a, numpy_helper) for a in n.attribute}
        if n.op_type == "Constant":
            constants[n.output[0]] = _constant_value(attrs, name, numpy_helper)
            continue
        nodes.append(_Node(i, n.op_type, domain, name, list(n.input), list(n.output), attrs))
    inputs = [_info(v, onnx) for v in g.input if v.name not in constants]
    outputs = [_info(v, onnx) for v in g.output]
    output_names = {o.name for o in outputs}
    nodes = _remove_redundant_activations(nodes, constants, output_names)
    ops = _fuse(nodes, constants, output_names, _dtypes(nodes, constants, inputs))
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
    for op in ops:
        if (op.kind == "QLinearSoftmax" and op.origin == "qdq") or (op.kind == "AveragePool" and op.origin == "onnx"):
            op.attrs["opset"] = opset
    ops = _live(ops, output_names - set(constants) - {i.name for i in inputs})
    return fold_constants(Graph(g.name or "model", inputs, outputs, constants, ops, model=proto))


def _constant_value(attrs: dict, name: str, numpy_helper) -> np.ndarray:
    if "value" in attrs:
        return np.asarray(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise ModelError(f"Constant node {name!r} uses attributes {sorted(attrs)}; supported: value, value_float(s), value_int(s)")


def _info(value_info, onnx) -> TensorInfo:
    t = value_info.type.tensor_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)) if t.elem_type else None
    shape = None
    if t.HasField("shape"):
        shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
    return TensorInfo(value_info.name, dtype, shape)


def _consumers(nodes: list[_Node]) -> dict[str, list[_Node]]:
    table: dict[str, list[_Node]] = {}
    for n in nodes:
        for name in n.inputs:
            if name:
                table.setdefault(name, []).append(n)
    return table


def _only_q_consumer(tensor: str, consumers, outputs: set[str]) -> _Node | None:
    users = consumers.get(tensor, [])
    if tensor in outputs or len(users) != 1 or users[0].op_type != "QuantizeLinear":
        return None
    return users[0]


def _const_scalar(constants: dict, name: str):
    value = constants.get(name) if name else None
    return None if value is None or value.size != 1 else value


def _remove_redundant_activations(nodes, constants, outputs) -> list[_Node]:
    """ReluQuantFusion and ClipQuantFusion (module docstring, step 1)."""
    consumers = _consumers(nodes)
    kept = []
    for n in nodes:
        q = _only_q_consumer(n.outputs[0], consumers, outputs) if n.op_type in ("Relu", "Clip") and n.domain == "" else None
        if q is not None and len(q.inputs) == 3 and _redundant(n, q, constants):
            q.inputs[0] = n.inputs[0]
            continue
        kept.append(n)
    return kept


def _redundant(act: _Node, q: _Node, constants: dict) -> bool:
    zp = _const_scalar(constants, q.inputs[2])
    scale = _const_scalar(constants, q.inputs[1])
    if zp is None or zp.dtype not in (np.uint8, np.int8):
        return False
    qmin, qmax = (0, 255) if zp.dtype == np.uint8 else (-128, 127)
    if act.op_type == "Relu":
        return int(zp) == qmin
    if scale is None or scale.ndim != 0:
        return False
    lo, hi = _clip_bounds(act, constants)
    if lo is None:
        return False
    s = np.float32(scale)
    lower = np.float32(s * np.float32(qmin - int(zp)))
    upper = np.float32(s * np.float32(qmax - int(zp)))
    eps = np.finfo(np.float32).eps
    return not (eps < np.float32(lo - lower) or eps < np.float32(upper - hi))


def _clip_bounds(node: _Node, constants: dict):
    """Constant (min, max) of a Clip (attributes before opset 11, inputs after), or (None, None)."""
    bounds = []
    for index, attr, default in ((1, "min", -np.finfo(np.float32).max), (2, "max", np.finfo(np.float32).max)):
        if attr in node.attrs:
            bounds.append(np.float32(node.attrs[attr]))
        elif index < len(node.inputs) and node.inputs[index]:
            value = _const_scalar(constants, node.inputs[index])
            if value is None:
                return None, None
            bounds.append(np.float32(value))
        else:
            bounds.append(np.float32(default))
    return bounds[0], bounds[1]


def _dtypes(nodes, constants, inputs) -> dict[str, np.dtype]:
    """Element types of the tensors that fusion checks (Q outputs, constants, graph inputs)."""
    types = {k: v.dtype for k, v in constants.items()}
    types.update({i.name: i.dtype for i in inputs if i.dtype is not None})
    for n in nodes:
        if n.op_type == "QuantizeLinear":
            zp = n.inputs[2] if len(n.inputs) > 2 else ""
            types[n.outputs[0]] = constants[zp].dtype if zp in constants else np.dtype(np.uint8)
        elif n.op_type in _DROP_QDQ or n.op_type in ("Identity", "Relu", "Clip"):
            if n.inputs[0] in types:
                types[n.outputs[0]] = types[n.inputs[0]]
    return types


def _fuse(nodes: list[_Node], constants, outputs: set[str], types) -> list[Op]:
    """QDQ selectors (module docstring, step 2); returns ops in node order."""
    consumers = _consumers(nodes)
    producer = {o: n for n in nodes for o in n.outputs if o}
    taken: set[int] = set()
    ops: list[tuple[int, Op]] = []

    def dq_of(name: str) -> _Node | None:
        node = producer.get(name)
        return node if node is not None and node.op_type == "DequantizeLinear" else None

    for n in nodes:
        if n.domain != "" or n.index in taken:
            continue
        fused = _fuse_one(n, dq_of, consumers, outputs, constants, types)
        if fused is None:
            continue
        op, q = fused
        taken.add(n.index)
        if q is not None:
            taken.add(q.index)
        ops.append((n.index, op))
    for n in nodes:
        if n.index not in taken:
            ops.append((n.index, _plain_op(n)))
    ops.sort(key=lambda item: item[0])
    return [op for _, op in ops]


def _args(dq: _Node) -> tuple[str, str, str]:
    return dq.inputs[0], dq.inputs[1], dq.inputs[2] if len(dq.inputs) > 2 else ""


def _q_args(q: _Node) -> tuple[str, str]:
    return q.inputs[1], q.inputs[2] if len(q.inputs) > 2 else ""


def _per_tensor(dq: _Node, constants) -> bool:
    scale = constants.get(dq.inputs[1])
    return scale is not None and scale.size == 1


def _fuse_one(n: _Node, dq_of, consumers, outputs, constants, types):
    data = [name for name in n.inputs if name]
    if n.op_type in _DROP_QDQ:
        data = data[:1]
    dqs = [dq_of(name) for name in data]
    if not dqs or any(d is None for d in dqs):
        return None
    if len(n.outputs) > 1 and any(n.outputs[1:]):
        return None
    users = consumers.get(n.outputs[0], [])
    if any(u.op_type == "QuantizeLinear" for u in users):
        q = _only_q_consumer(n.outputs[0], consumers, outputs)
        if q is None:
            return None
    elif n.op_type == "Gemm":
        q = None  # onnxruntime fuses DQ -> Gemm without a Q into QGemm with float output
    else:
        return None
    in_type = types.get(dqs[0].inputs[0])
    out_type = types.get(q.outputs[0]) if q is not None else None
    if q is not None and in_type is not None and out_type is not None and in_type != out_type:
        return None
    nodes = tuple(d.name for d in dqs) + (n.name,) + ((q.name,) if q is not None else ())
    out = (q.outputs[0],) if q is not None else (n.outputs[0],)

    if n.op_type in ("Conv", "Gemm", "MatMul") and (
            len(dqs) < 2 or types.get(dqs[1].inputs[0]) not in (np.int8, np.uint8)
            or any(int(d.attrs.get("block_size", 0) or 0) for d in dqs)):
        return None  # sub-byte, float8 or blocked weights: onnxruntime runs DQ -> float op
    if n.op_type in ("Conv", "MatMul") and in_type == np.int8:
        return None  # int8 activations: x86-64 onnxruntime keeps DQ -> float op -> Q (QDQIsInt8Allowed)

    def make(kind: str, inputs: tuple[str, ...], meta: dict | None = None) -> tuple[Op, _Node | None]:
        return Op(n.name, kind, inputs, out, dict(n.attrs), "qdq", nodes, meta or {}), q

    if n.op_type == "Conv" and q is not None and len(dqs) in (2, 3) and _per_tensor(dqs[0], constants):
        if len(dqs) == 3 and types.get(dqs[2].inputs[0]) != np.int32:
            return None
        bias = dqs[2].inputs[0] if len(dqs) == 3 else ""
        meta = {"weight_dq": dqs[1].name, "weight_axis": 0}
        if len(dqs) == 3:
            meta.update(bias_dq=dqs[2].name, bias_scale=dqs[2].inputs[1])
        return make("QLinearConv", _args(dqs[0]) + _args(dqs[1]) + _q_args(q) + (bias,), meta)
    if n.op_type == "Gemm" and len(dqs) in (2, 3) and _per_tensor(dqs[0], constants):
        if len(dqs) == 3 and (float(n.attrs.get("beta", 1.0)) != 1.0 or types.get(dqs[2].inputs[0]) != np.int32):
            return None
        bias = dqs[2].inputs[0] if len(dqs) == 3 else ""
        y = _q_args(q) if q is not None else ("", "")
        meta = {"weight_dq": dqs[1].name, "weight_axis": 0 if n.attrs.get("transB", 0) else 1}
        if len(dqs) == 3:
            meta.update(bias_dq=dqs[2].name, bias_scale=dqs[2].inputs[1])
        return make("QGemm", _args(dqs[0]) + _args(dqs[1]) + (bias,) + y, meta)
    if n.op_type == "MatMul" and q is not None and len(dqs) == 2 and _per_tensor(dqs[0], constants):
        return make("QLinearMatMul", _args(dqs[0]) + _args(dqs[1]) + _q_args(q), {"weight_dq": dqs[1].name, "weight_axis": 1})
    if n.op_type == "Add" and q is not None and len(dqs) == 2 and all(_per_tensor(d, constants) for d in dqs):
        return make("QLinearAdd", _args(dqs[0]) + _args(dqs[1]) + _q_args(q))
    if n.op_type == "AveragePool" and q is not None and _per_tensor(dqs[0], constants):
        return make("QLinearAveragePool", _args(dqs[0]) + _q_args(q))
    if n.op_type in _QLINEAR_GROUPS and q is not None and all(_per_tensor(d, constants) for d in dqs):
        kind, allowed = _QLINEAR_GROUPS[n.op_type]
        if in_type in allowed and all(types.get(d.inputs[0]) == in_type for d in dqs):
            pairs = tuple(name for d in dqs for name in _args(d))
            return make(kind, _q_args(q) + pairs if kind == "QLinearConcat" else pairs + _q_args(q))
        return None
    if n.op_type in _DROP_QDQ and q is not None and _same_params(dqs[0], q, constants):
        return make(n.op_type, (dqs[0].inputs[0],) + tuple(n.inputs[1:]))
    return None


def _same_params(dq: _Node, q: _Node, constants) -> bool:
    """onnxruntime's IsQDQPairSupported: constant scalar scales and zero points, equal."""
    pairs = ((dq.inputs[1], q.inputs[1]), (_args(dq)[2], _q_args(q)[1]))
    for a, b in pairs:
        va, vb = _const_scalar(constants, a), _const_scalar(constants, b)
        if va is None or vb is None or va.dtype != vb.dtype or va.reshape(()) != vb.reshape(()):
            return False
    return True


def _plain_op(n: _Node) -> Op:
    if n.op_type == "MaxPool" and len(n.outputs) > 1 and n.outputs[1]:
        raise ModelError(f"MaxPool node {n.name!r} asks for the Indices output, which the simulator does not produce")
    meta = {}
    if n.op_type == "QLinearConv":
        meta = {"weight_axis": 0}
    elif n.op_type == "QLinearMatMul":
        meta = {"weight_axis": 1}
    elif n.op_type == "QGemm":
        meta = {"weight_axis": 0 if n.attrs.get("transB", 0) else 1}
    outputs = n.outputs if n.op_type in _MULTI_OUTPUT else n.outputs[:1]
    return Op(n.name, n.op_type, tuple(n.inputs), tuple(outputs), dict(n.attrs), "onnx", (n.name,), meta)


def _live(ops: list[Op], outputs: set[str]) -> list[Op]:
    """Drop ops whose results nothing needs (e.g. weight DQs absorbed by fusion)."""
    needed = set(outputs)
    kept = []
    for op in reversed(ops):
        if any(o in needed for o in op.outputs):
            kept.append(op)
            needed.update(i for i in op.inputs if i)
    missing = [o for o in outputs if not any(o in op.outputs for op in kept)]
    if missing:
        raise ModelError(f"graph outputs {missing} are not produced by any node")
    return kept[::-1]
