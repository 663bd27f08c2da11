"""Constant folding of shape arithmetic: an op whose inputs are all constants and whose output
is an int32 / int64 tensor (``Concat`` of shape pieces, ``Cast``, ``Gather``, ``Unsqueeze``,
``Shape`` of an initializer, integer ``Mul`` ...) runs once when the model is loaded and its
output becomes a constant.  Static-shape models exported by PyTorch and TensorFlow compute
their Reshape targets this way; folded, the simulator's program holds only the layers that
touch activations (and a batch stays separable into chunks, :mod:`.batching`).

Float and 8-bit results are never folded: weight tensors stay initializers, so a weight
rewrite (:func:`inwhale_hw.accel.apply_config`) and the onnxruntime reference see the same
values.
"""

from __future__ import annotations

import numpy as np

from .context import ExecContext
from .graph import Graph
from .ops_elementwise import EXECUTORS as ELEMENTWISE
from .ops_float import EXECUTORS as FLOAT
from .ops_shape import EXECUTORS as SHAPE

__all__ = ["fold_constants"]

_FOLDABLE = {**SHAPE, **{k: FLOAT[k] for k in ("Reshape", "Flatten", "Transpose", "Identity", "Add")},
             **{k: ELEMENTWISE[k] for k in ("Sub", "Mul", "Div", "Max", "Min", "Neg", "Abs")}}


def fold_constants(graph: Graph) -> Graph:
    """``graph`` with every foldable all-constant op replaced by its integer output."""
    constants = dict(graph.constants)
    kept = []
    ctx = ExecContext()
    for op in graph.ops:
        names = [n for n in op.inputs if n]
        if op.kind in _FOLDABLE and names and all(n in constants for n in names):
            result = _FOLDABLE[op.kind](op, [constants[n] if n else None for n in op.inputs], ctx)
            if all(np.asarray(o).dtype in (np.int32, np.int64) for o in result.outputs):
                constants.update(zip(op.outputs, (np.asarray(o) for o in result.outputs)))
                continue
        kept.append(op)
    graph.constants, graph.ops = constants, kept
    return graph
