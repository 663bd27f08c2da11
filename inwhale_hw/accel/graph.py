"""The simulator's program: a list of operations over named tensors, made from an ONNX graph.

An :class:`Op` is one unit of execution.  It is either one ONNX node as written (``origin
"onnx"``) or a QDQ group ``DequantizeLinear -> node -> QuantizeLinear`` fused into the integer
operator onnxruntime runs for it (``origin "qdq"``, see :mod:`inwhale_hw.accel.loader`).  A
fused op takes its inputs in the order of the equivalent QOperator node, so both model forms
execute through the same integer kernels.

The MAC operators (QLinearConv, QLinearMatMul, QGemm) run on the modelled MAC array; the slot
of each operand in their input list is given by :data:`MAC_SLOTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["MAC_KINDS", "MAC_SLOTS", "SCALE_SLOTS", "Graph", "Op", "TensorInfo"]

#: operand slots (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias) of each MAC operator
MAC_SLOTS: dict[str, tuple[int | None, ...]] = {
    "QLinearConv": (0, 1, 2, 3, 4, 5, 6, 7, 8),
    "QLinearMatMul": (0, 1, 2, 3, 4, 5, 6, 7, None),
    "QGemm": (0, 1, 2, 3, 4, 5, 7, 8, 6),
}
MAC_KINDS = tuple(MAC_SLOTS)

#: input slots holding activation scales, per operator (MAC weight scales are handled apart)
SCALE_SLOTS: dict[str, tuple[int, ...]] = {
    "QuantizeLinear": (1,),
    "DequantizeLinear": (1,),
    "QLinearAdd": (1, 4, 6),
    "QLinearAveragePool": (1, 3),
    "QLinearConv": (1, 6),
    "QLinearMatMul": (1, 6),
    "QGemm": (1, 7),
    "QLinearMul": (1, 4, 6),
    "QLinearGlobalAveragePool": (1, 3),
    "QLinearSigmoid": (1, 3),
    "QLinearLeakyRelu": (1, 3),
}


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: name, NumPy dtype (None if not declared) and shape (None or
    a symbolic name for unknown dimensions)."""

    name: str
    dtype: np.dtype | None
    shape: tuple[int | str | None, ...] | None


@dataclass
class Op:
    """One operation: ``kind`` names its executor; ``inputs``/``outputs`` are tensor names
    (``""`` for an absent optional input); ``nodes`` are the ONNX nodes it stands for."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    origin: str = "onnx"
    nodes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def slot(self, index: int | None) -> str:
        """Input name at ``index`` ('' when absent)."""
        if index is None or index >= len(self.inputs):
            return ""
        return self.inputs[index]


@dataclass
class Graph:
    """A loaded model: inputs, outputs, constant tensors and the ops in execution order.

    ``model`` keeps the ONNX ModelProto the graph came from (the reference runs onnxruntime on
    it); ``dq_axis`` lists DequantizeLinear nodes whose ``axis`` a weight transform changed.
    """

    name: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    constants: dict[str, np.ndarray]
    ops: list[Op]
    model: Any = None
    dq_axis: dict[str, int] = field(default_factory=dict)

    def with_constants(self, updates: dict[str, np.ndarray], dq_axis: dict[str, int] | None = None) -> "Graph":
        """A copy with some constants replaced (and DequantizeLinear axes recorded)."""
        constants = dict(self.constants)
        constants.update(updates)
        axes = dict(self.dq_axis)
        axes.update(dq_axis or {})
        return replace(self, constants=constants, dq_axis=axes)

    def kinds(self) -> list[str]:
        """Op kinds in execution order."""
        return [op.kind for op in self.ops]
