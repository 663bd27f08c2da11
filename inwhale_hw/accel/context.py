"""What an op executor receives (:class:`ExecContext`) and returns (:class:`OpResult`).

An executor is ``fn(op, args, ctx) -> OpResult`` where ``args`` are the input arrays in
``op.inputs`` order (None for an absent optional input).  Engines:

``mac``     the MAC array (QLinearConv, QLinearMatMul, QGemm): integer products in the
            modelled accumulator, then requantization with the configured profile;
``vector``  the element-wise / pooling unit of the accelerator (integer tensors in and out, or
            QuantizeLinear / DequantizeLinear at the model boundary);
``host``    float32 operators that a quantized model left in float (run as onnxruntime does);
``none``    pure data movement (Reshape, Flatten, Transpose, Identity): no arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..nn import AccumulatorStats
from .graph import Op

__all__ = ["ExecContext", "Executor", "OpResult"]


@dataclass(frozen=True)
class ExecContext:
    """Datapath choices applied by the MAC executors."""

    acc_bits: int = 32
    overflow: str = "wrap"
    profile: str = "onnxruntime"
    track_partials: bool = False


@dataclass
class OpResult:
    """Outputs of one op and what it cost.

    ``mac_shape`` is ``(groups, M, N, K)``: ``groups`` independent ``M x K @ K x N`` products
    (the cycle model's input); ``vector_elements`` counts elements the vector unit handles;
    ``clamped`` counts outputs clamped to the output type's (low, high) ends at requantization.
    """

    outputs: list[np.ndarray]
    engine: str = "vector"
    macs: int = 0
    mac_shape: tuple[int, int, int, int] | None = None
    vector_elements: int = 0
    acc: AccumulatorStats | None = None
    clamped: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)


Executor = Callable[[Op, list, ExecContext], OpResult]
