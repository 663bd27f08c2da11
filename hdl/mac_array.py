"""An R x C MAC array computing a matmul tile, output-stationary.

Dataflow (stated once, for cycle estimates): output-stationary with broadcast operands.  PE
``(r, c)`` owns output ``Y[r, c]``; on every clock the array takes one column of the
activation tile, ``a[r] = A[r, k]`` (broadcast along row ``r``), and one row of the weight
tile, ``b[c] = B[k, c]`` (broadcast down column ``c``), and every PE adds its product: one
rank-1 update of the ``R x C`` tile per clock.  A tile ``Y = bias + A @ B`` with
reduction length ``K`` therefore takes ``K`` clocks (``clear`` with ``accumulate`` on the
first, ``accumulate`` on the rest) plus the element's latency, at ``R * C`` MACs per clock;
accumulating further K-chunks without ``clear`` extends the reduction.

Ports (``N = acc_bits``): ``a__r`` (``signed(8)``, ``r < R``), ``b__c`` (the weight: ``signed(8)``
for ``int8``, the ``bits``-bit code for ``pow2``/``apot``, ``c < C``), ``bias__c``
(``signed(N)``, per output column as in ONNX Conv/Gemm), ``clear``, ``accumulate`` (1 bit,
shared), and per PE ``acc__r__c`` (``signed(N)``) and ``overflowed__r__c`` (1 bit).  Each
PE is a :class:`~inwhale_hw.hdl.pe.ProcessingElement` (``weights="int8"``) or a
:class:`~inwhale_hw.hdl.pow2_pe.Pow2Element`, so ``acc__r__c`` follows the accumulator of
:mod:`inwhale_hw.nn.accumulate` for the dot product of row ``r`` of ``A`` and column ``c``
of ``B``: after the last product of a tile, the ``acc`` ports hold
``inwhale_hw.nn.matmul(A, B, bias, acc_bits=N, overflow=...)`` (with pow2/apot weights,
the products are the model's ``pow2_multiply``/``apot_multiply`` integers).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Module, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

from .pe import OVERFLOW, AccumulatingElement, ProcessingElement, check_acc_bits, check_choice, validating
from .pow2_pe import Pow2Element, check_bits

__all__ = ["MacArray", "WEIGHTS", "MAX_DIM"]

WEIGHTS = ("int8", "pow2", "apot")
#: largest rows / columns accepted (the array is meant as a tile; 16 x 16 is 256 multipliers)
MAX_DIM = 16


def _check_dim(name: str, value: object, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIM:
        raise ParameterError(f"{owner}: {name}={value!r} is not allowed; expected an int in [1, {MAX_DIM}]")
    return value


class MacArray(wiring.Component):
    """``rows x cols`` processing elements sharing row operands, column weights and controls."""

    def __init__(self, rows: int = 2, cols: int = 2, acc_bits: int = 32, overflow: str = "wrap", *,
                 weights: str = "int8", bits: int = 4, pipeline: int = 0) -> None:
        owner = type(self).__name__
        with validating(self):
            self.rows = _check_dim("rows", rows, owner)
            self.cols = _check_dim("cols", cols, owner)
            self.acc_bits = check_acc_bits(acc_bits, owner)
            self.weights = check_choice("weights", weights, WEIGHTS, owner)
            self.bits = bits if weights == "int8" else check_bits(weights, bits, owner)
            self.overflow = check_choice("overflow", overflow, OVERFLOW, owner)
            self.pipeline = check_choice("pipeline", pipeline, (0, 1), owner)
        n = self.acc_bits
        weight_shape = signed(8) if weights == "int8" else unsigned(bits)
        super().__init__({
            "a": In(signed(8)).array(self.rows),
            "b": In(weight_shape).array(self.cols),
            "bias": In(signed(n)).array(self.cols),
            "clear": In(1),
            "accumulate": In(1),
            "acc": Out(signed(n)).array(self.rows, self.cols),
            "overflowed": Out(1).array(self.rows, self.cols),
        })

    def _element(self) -> AccumulatingElement:
        if self.weights == "int8":
            return ProcessingElement(acc_bits=self.acc_bits, overflow=self.overflow, pipeline=self.pipeline)
        return Pow2Element(weights=self.weights, bits=self.bits, acc_bits=self.acc_bits,
                           overflow=self.overflow, pipeline=self.pipeline)

    @property
    def latency(self) -> int:
        """Clock cycles from a rank-1 update on the inputs to its result on the ``acc`` ports."""
        return 1 + self.pipeline

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        for r in range(self.rows):
            for c in range(self.cols):
                pe = self._element()
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += [
                    pe.a.eq(self.a[r]),
                    pe.b.eq(self.b[c]),
                    pe.bias.eq(self.bias[c]),
                    pe.clear.eq(self.clear),
                    pe.accumulate.eq(self.accumulate),
                    self.acc[r][c].eq(pe.acc),
                    self.overflowed[r][c].eq(pe.overflowed),
                ]
        return m

    def __repr__(self) -> str:
        extra = f", bits={self.bits}" if self.weights != "int8" else ""
        return (f"MacArray(rows={self.rows}, cols={self.cols}, acc_bits={self.acc_bits}, "
                f"overflow={self.overflow!r}, weights={self.weights!r}{extra}, pipeline={self.pipeline})")
