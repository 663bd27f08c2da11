"""Write the QDQ model: QuantizeLinear / DequantizeLinear pairs around the quantized operators.

The placement rules are onnxruntime's ``QDQQuantizer`` (1.32.0) for the operators in
:data:`~inwhale_hw.ptq.config.QUANTIZABLE_OPS`, visited in graph order:

* Conv / Gemm / MatMul: the data input is an activation; an initializer weight is quantized
  with the weight type (per channel on axis 0 for Conv, on the output axis for Gemm / MatMul);
  a Conv / Gemm bias initializer becomes int32 with scale ``s_x s_w`` and zero point 0
  (:func:`~inwhale_hw.ptq.qparams.quantize_bias`); the output is an activation.
* BatchNormalization / LayerNormalization / InstanceNormalization: the data input and the
  outputs are activations, an initializer scale is a weight, the bias an int32 bias as above.
* Relu / Clip after a quantized tensor with one consumer: the node is dropped and its
  producer writes the activation's output directly (asymmetric activations only, unless
  ``keep_removable_activations``); before calibration ranges are used, the input of such a
  Relu / Clip takes its output's range.  This is the only graph change besides QDQ insertion.
* Reshape, Flatten, Transpose, Squeeze, Unsqueeze, AveragePool, MaxPool: when the input is
  quantized, the output is quantized with the *input's* scale and zero point (no new range).
* every other listed operator (Add, Mul, Concat, ...): all float inputs and outputs are
  activations (a float initializer input is quantized with the activation type and its own
  min / max).

Names (as onnxruntime writes them): a tensor ``t`` gets ``t_scale``, ``t_zero_point``, nodes
``t_QuantizeLinear`` / ``t_DequantizeLinear`` with outputs ``t_QuantizeLinear_Output`` /
``t_DequantizeLinear_Output``; a graph output keeps its name on the DequantizeLinear output and
its producer writes ``t_QuantizeLinear_Input``; an initializer ``w`` becomes ``w_quantized``; a
bias ``b`` becomes ``b_quantized`` with ``b_quantized_scale`` / ``b_quantized_zero_point`` and
its DequantizeLinear writes ``b`` again.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..errors import ModelError
from .histogram import Histogram, mse_range
from .qparams import QTYPES, qrange, quantize_array, quantize_bias, scale_zero_point

__all__ = ["to_qdq"]

WEIGHTED = ("Conv", "Gemm", "MatMul")
REMOVABLE = ("Relu", "Clip")
NORMALIZATION = ("BatchNormalization", "LayerNormalization", "InstanceNormalization")
SAME_AS_INPUT = ("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "AveragePool", "MaxPool")


class _Plan:
    def __init__(self, model, ranges: dict, config):
        self.g = model.graph
        self.cfg = config
        self.ranges = dict(ranges)
        self.inits = {t.name: t for t in self.g.initializer}
        self.outputs = {o.name for o in self.g.output}
        self.inputs = {i.name for i in self.g.input}
        self.act: dict[str, str | None] = {}   # tensor -> None (own params) or the tensor it shares with
        self.weights: dict[str, int | None] = {}  # initializer -> per-channel axis or None
        self.biases: dict[str, tuple[str, str]] = {}
        self.removed: set[int] = set()

    def consumers(self) -> Counter:
        return Counter(i for k, n in enumerate(self.g.node) if k not in self.removed for i in n.input if i)

    def quantized(self, t: str) -> bool:
        return t in self.act or t in self.biases

    def activation(self, t: str) -> None:
        if t and t not in self.act and (t in self.ranges or self._float_init(t)):
            self.act[t] = None

    def _float_init(self, t: str) -> bool:
        return t in self.inits and self.inits[t].data_type in (1, 10)

    def visit(self, k: int, node) -> None:
        op = node.op_type
        if op in WEIGHTED:
            self.activation(node.input[0])
            w = node.input[1]
            if self._float_init(w):
                axis = None
                if self.cfg.per_channel:
                    trans_b = any(a.name == "transB" and a.i for a in node.attribute)
                    axis = 0 if op == "Conv" or (op == "Gemm" and trans_b) else 1
                self.weights.setdefault(w, axis)
            else:
                self.activation(w)
            if op != "MatMul" and len(node.input) > 2 and self._float_init(node.input[2]):
                self.biases[node.input[2]] = (node.input[0], w)
            self.activation(node.output[0])
        elif op in NORMALIZATION:
            self.activation(node.input[0])
            if self._float_init(node.input[1]):
                self.weights.setdefault(node.input[1], 0 if self.cfg.per_channel else None)
            else:
                self.activation(node.input[1])
            if len(node.input) > 2 and self._float_init(node.input[2]):
                self.biases[node.input[2]] = (node.input[0], node.input[1])
            for t in node.output:
                self.activation(t)
        elif op in REMOVABLE:
            src, out = node.input[0], node.output[0]
            if not self.quantized(src):
                return
            if (not self.cfg.activation_symmetric and not self.cfg.keep_removable_activations
                    and self._replace_upstream(k, src, out)):
                self.removed.add(k)
            else:
                self.activation(src)
            self.activation(out)
        elif op in SAME_AS_INPUT:
            if self.quantized(node.input[0]) and node.output[0] not in self.act:
                self.act[node.output[0]] = node.input[0]
        else:
            for t in node.input:
                self.activation(t)
            for t in node.output:
                self.activation(t)

    def _replace_upstream(self, k: int, src: str, out: str) -> bool:
        if (out not in self.ranges or self.consumers()[src] != 1 or src in self.outputs or src in self.inputs):
            return False
        for j, n in enumerate(self.g.node):
            if j not in self.removed:
                for i, name in enumerate(n.output):
                    if name == src:
                        n.output[i] = out
        del self.act[src]
        return True

    def root(self, t: str) -> str:
        while self.act.get(t) is not None:
            t = self.act[t]
        return t


def _adjust_ranges(g, ranges: dict, config, selected) -> None:
    uses = Counter(i for n in g.node for i in n.input)
    for n in g.node:
        if not selected(n):
            continue
        if n.op_type in REMOVABLE and uses[n.input[0]] == 1 and n.input[0] in ranges and n.output[0] in ranges:
            ranges[n.input[0]] = ranges[n.output[0]]
        elif n.op_type == "Softmax":
            ranges[n.output[0]] = (np.float32(0.0), np.float32(1.0))


def to_qdq(model, ranges: dict, config):
    """A QDQ copy of the float ``model`` (ModelProto) with activation ``ranges`` {tensor: (lo, hi)}."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph

    def selected(n) -> bool:
        return n.op_type in config.op_types and n.name not in config.exclude_nodes

    ranges = dict(ranges)
    _adjust_ranges(g, ranges, config, selected)
    plan = _Plan(model, ranges, config)
    for k, n in enumerate(list(g.node)):
        if selected(n):
            plan.visit(k, n)

    a_type, w_type = config.activation_type, config.weight_type
    a_sym, w_sym = config.activation_symmetric, config.weights_symmetric
    new_inits, front, after = [], [], {}
    params: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rename: dict[str, str] = {}
    init_names = set(plan.inits)

    def add(name, arr):
        new_inits.append(numpy_helper.from_array(np.asarray(arr), name))

    def weight(name: str, axis, qtype: str, sym: bool):
        data = numpy_helper.to_array(plan.inits[name])
        qmin, qmax = qrange(qtype, sym, config.reduce_range and qtype == w_type)
        mse = config.weight_calibration == "mse" and qtype == w_type
        if axis is None:
            lo, hi = _weight_range(data.ravel()[None, :], mse, sym, qmin, qmax)
            zp, s = scale_zero_point(lo[0], hi[0], qmin, qmax, sym)
            q = quantize_array(data, s, zp, qtype)
        else:
            moved = np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
            lo, hi = _weight_range(moved, mse, sym, qmin, qmax)
            zp, s = scale_zero_point(lo, hi, qmin, qmax, sym)
            shape = [1] * data.ndim
            shape[axis] = -1
            q = quantize_array(data, s.reshape(shape), zp.reshape(shape), qtype)
        params[name] = (s, zp)
        add(f"{name}_quantized", q)
        add(f"{name}_scale", s)
        add(f"{name}_zero_point", zp)
        attrs = {"axis": axis} if axis is not None else {}
        front.append(helper.make_node("DequantizeLinear", [f"{name}_quantized", f"{name}_scale", f"{name}_zero_point"],
                                      [f"{name}_DequantizeLinear_Output"], name=f"{name}_DequantizeLinear", **attrs))
        rename[name] = f"{name}_DequantizeLinear_Output"
        init_names.discard(name)

    for name, axis in plan.weights.items():
        weight(name, axis, w_type, w_sym)
    for t, share in plan.act.items():
        if t in plan.inits:
            weight(t, None, a_type, a_sym)
            continue
        root = plan.root(t)
        if root not in params:
            if root not in plan.ranges:
                raise ModelError(f"tensor {root!r} has no calibrated range; calibrate the prepared model first")
            lo, hi = (np.asarray(v, dtype=np.float32) for v in plan.ranges[root])
            qmin, qmax = qrange(a_type, a_sym)
            params[root] = scale_zero_point(lo, hi, qmin, qmax, a_sym)[::-1]
            add(f"{root}_zero_point", params[root][1])
            add(f"{root}_scale", params[root][0])
        s_name, z_name = f"{root}_scale", f"{root}_zero_point"
        params.setdefault(t, params[root])
        src, dq_out = t, f"{t}_DequantizeLinear_Output"
        if t in plan.outputs:
            src, dq_out = f"{t}_QuantizeLinear_Input", t
            for j, n in enumerate(g.node):
                for i, o in enumerate(n.output):
                    if o == t and j not in plan.removed:
                        n.output[i] = src
        else:
            rename[t] = dq_out
        after[src] = [helper.make_node("QuantizeLinear", [src, s_name, z_name], [f"{t}_QuantizeLinear_Output"],
                                       name=f"{t}_QuantizeLinear"),
                      helper.make_node("DequantizeLinear", [f"{t}_QuantizeLinear_Output", s_name, z_name], [dq_out],
                                       name=f"{t}_DequantizeLinear")]
    for b, (x, w) in plan.biases.items():
        xr = plan.root(x)
        if xr not in params or w not in params:
            continue
        q, s = quantize_bias(numpy_helper.to_array(plan.inits[b]), params[xr][0], params[w][0])
        add(f"{b}_quantized", q)
        add(f"{b}_quantized_scale", s)
        add(f"{b}_quantized_zero_point", np.zeros(() if s.size == 1 else s.shape, np.int32))
        attrs = {"axis": 0} if s.size > 1 else {}
        front.append(helper.make_node("DequantizeLinear", [f"{b}_quantized", f"{b}_quantized_scale",
                                      f"{b}_quantized_zero_point"], [b], name=f"{b}_DequantizeLinear", **attrs))
        init_names.discard(b)

    nodes = list(front)
    pending = [s for s in after if s in plan.inputs]
    for s in pending:
        nodes.extend(after.pop(s))
    for j, n in enumerate(g.node):
        if j in plan.removed:
            continue
        for i, name in enumerate(n.input):
            if name in rename:
                n.input[i] = rename[name]
        nodes.append(n)
        for o in n.output:
            nodes.extend(after.pop(o, []))
    used = {i for n in nodes for i in n.input}  # a dropped Clip leaves its bounds unused
    kept = [t for t in g.initializer if t.name in init_names and t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    _ensure_opset(model, QTYPES[a_type][2] == 16 or QTYPES[w_type][2] == 4, config.opset)
    return model


def _weight_range(rows: np.ndarray, mse: bool, sym: bool, qmin, qmax) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(lo, hi)``: the extremes, or the MSE clip of them (:func:`~inwhale_hw.ptq.histogram.mse_range`)."""
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    if not mse:
        return lo, hi
    levels = int(qmax) - int(qmin) + 1
    out_lo, out_hi = lo.copy(), hi.copy()
    for i, row in enumerate(rows):
        h = Histogram(absolute=sym, bins=2048)
        h.update(row)
        out_lo[i], out_hi[i] = mse_range(h, levels)
    return out_lo, out_hi


def _ensure_opset(model, wide: bool, opset: int | None) -> None:
    """QDQ needs opset >= 13 (per-axis DequantizeLinear), 16-bit / 4-bit types need 21."""
    need = max(opset or 0, 21 if wide else 13)
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx") and o.version < need:
            o.version = need
