"""The accelerator's hardware block sets ``mac`` and ``requant`` (hardware models, not quantizers).

Each implements the :class:`~inwhale_hw.hardware.HardwareModel` protocol through
:class:`~inwhale_hw.hardware.HardwareBlocks`, so ``hdlsim.verify``, ``hdlsim.synthesize`` and the
``verilog``/``verify``/``synth`` commands handle them exactly like a quantizer's blocks; the
plugin registers them with ``register_hardware``:

``mac`` — blocks ``pe`` (one processing element) and ``array`` (a ``rows x cols`` MAC array);
    parameters ``acc_bits``, ``overflow`` (``wrap``/``sat``), ``weights`` (``int8``: the
    8 x 8 multiplier of :mod:`inwhale_hw.hdl.pe`; ``pow2``/``apot``: the shift-add element of
    :mod:`inwhale_hw.hdl.pow2_pe`), ``bits`` (code width of pow2/apot weights), ``rows``,
    ``cols``.  E.g. ``inwhale-hw verify mac --block pe -p acc_bits=24 -p overflow=sat``.
``requant`` — blocks ``gemmlowp`` and ``shift`` (the ``shift-only`` profile; :mod:`inwhale_hw.hdl.requant`);
    parameters ``acc_bits`` (<= 32) and ``dtype`` (``int8``, ``uint8``, ``int16``, ``uint16``).

Vector options (``verify --count N --seed S -o sweep=0``): ``count`` (random vectors; default
20000 for ``pe`` and the requantizers, 4000 clocks for ``array``), the seed, and for ``mac``
``sweep`` (also apply every operand pair once, default on).  Hardware-only option for
``datapath``: ``pipeline`` (``pe``/``array``: 0 or 1, a register after the multiplier;
requantizers: register stages, see :mod:`inwhale_hw.hdl.pipeline`).

Coverage counters of :meth:`reference`: ``overflows`` (clocks whose accumulator overflowed),
``clears`` (PE/array); ``rail_low`` / ``rail_high`` (outputs clamped to the type's ends,
requantizers).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from inwhale_hw.hardware import Golden, HardwareBlocks
from inwhale_hw.hdl.mac_array import MacArray
from inwhale_hw.hdl.pe import ProcessingElement
from inwhale_hw.hdl.pow2_pe import Pow2Element, check_bits
from inwhale_hw.hdl.requant import RequantGemmlowp, RequantShift
from inwhale_hw.nn.requant import integer_range
from inwhale_hw.params import Param

from . import golden
from . import vectors as stimulus

__all__ = ["MacBlocks", "RequantBlocks", "ACCEL_BLOCKS"]


def _count(opts: Mapping[str, Any], default: int) -> int:
    count = opts.get("count")
    return default if count is None else int(count)


class MacBlocks(HardwareBlocks):
    name = "mac"
    summary = "Multiply-accumulate hardware: one processing element or an R x C MAC array (int8, pow2 or apot weights)"
    references = ("inwhale_hw.nn.accumulate (accumulator order and overflow policies)",
                  "Li, Dong & Wang, ICLR 2020, §3.1 (APoT); Miyashita et al. 2016 (LogQuant)")
    blocks = ("pe", "array")
    params = (
        Param("acc_bits", 32, "accumulator width (signed)", int, min=2, max=63),
        Param("overflow", "wrap", "accumulator overflow policy", str, choices=("wrap", "sat")),
        Param("weights", "int8", "weight format: int8 multiplier or shift-add for power-of-two codes", str,
              choices=("int8", "pow2", "apot")),
        Param("bits", 4, "code width of pow2 (2..6) / apot (3..7) weights", int, min=2, max=7),
        Param("rows", 2, "MAC array rows (block 'array')", int, min=1, max=16),
        Param("cols", 2, "MAC array columns (block 'array')", int, min=1, max=16),
    )

    def _check_params(self) -> None:
        if self.weights != "int8":
            check_bits(self.weights, self.bits, f"hardware model {self.name!r}")

    def datapath(self, block: str, **hw: Any):
        options = self.check_block(block, hw)
        if block == "array":
            return MacArray(self.rows, self.cols, self.acc_bits, self.overflow, weights=self.weights, bits=self.bits,
                            **options)
        if self.weights == "int8":
            return ProcessingElement(self.acc_bits, self.overflow, **options)
        return Pow2Element(self.weights, self.bits, self.acc_bits, self.overflow, **options)

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> dict[str, np.ndarray]:
        self.check_block(block, {})
        if block == "array":
            opts = self.check_vector_options(opts, ("count",))
            return stimulus.array_vectors(self.rows, self.cols, self.acc_bits, self.weights, self.bits,
                                          _count(opts, 4000), seed)
        opts = self.check_vector_options(opts, ("count", "sweep"))
        return stimulus.pe_vectors(self.acc_bits, self.weights, self.bits, _count(opts, 20000),
                                   bool(opts.get("sweep", True)), seed)

    def reference(self, block: str, vectors: Mapping[str, np.ndarray]) -> Golden:
        if block == "array":
            outputs = golden.array_trace(dict(vectors), self.rows, self.cols, self.acc_bits, self.overflow,
                                         self.weights, self.bits)
            flags = [v for k, v in outputs.items() if "overflow" in k]
            overflows = int(sum(np.count_nonzero(f) for f in flags))
            clears = int(np.count_nonzero(vectors["clear"])) if "clear" in vectors else 0
            return Golden(outputs, {"overflows": overflows, "clears": clears})
        prods = golden.products(vectors["a"], vectors["b"], self.weights, self.bits)
        acc, flags = golden.accumulator_trace(prods, vectors["clear"], vectors["accumulate"], vectors["bias"],
                                              self.acc_bits, self.overflow)
        return Golden({"acc": acc, "overflowed": flags.astype(np.int64)},
                      {"overflows": int(np.count_nonzero(flags)), "clears": int(np.count_nonzero(vectors["clear"]))})


class RequantBlocks(HardwareBlocks):
    name = "requant"
    summary = "Requantization units: gemmlowp (Q31 multiplier, double rounding) and shift-only (power-of-two scales)"
    references = ("gemmlowp fixedpoint/fixedpoint.h; TFLite kernels/internal/common.h MultiplyByQuantizedMultiplier",
                  "inwhale_hw.nn.profiles: gemmlowp, shift-only")
    blocks = ("gemmlowp", "shift")
    params = (
        Param("acc_bits", 32, "accumulator width (signed, sign-extended to int32)", int, min=2, max=32),
        Param("dtype", "int8", "output type", str, choices=("int8", "uint8", "int16", "uint16")),
    )

    def datapath(self, block: str, **hw: Any):
        options = self.check_block(block, hw)
        cls = RequantGemmlowp if block == "gemmlowp" else RequantShift
        return cls(self.acc_bits, self.dtype, **options)

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> dict[str, np.ndarray]:
        self.check_block(block, {})
        opts = self.check_vector_options(opts, ("count",))
        make = stimulus.gemmlowp_vectors if block == "gemmlowp" else stimulus.shift_vectors
        return make(self.acc_bits, self.dtype, _count(opts, 20000), seed)

    def reference(self, block: str, vectors: Mapping[str, np.ndarray]) -> Golden:
        if block == "gemmlowp":
            y = golden.gemmlowp_reference(vectors["acc"], vectors["multiplier"], vectors["shift"],
                                          vectors["zero_point"], self.dtype)
        else:
            y = golden.shift_only_reference(vectors["acc"], vectors["shift"], vectors["zero_point"], self.dtype)
        lo, hi = integer_range(self.dtype)
        return Golden({"y": y}, {"rail_low": int(np.count_nonzero(y == lo)), "rail_high": int(np.count_nonzero(y == hi))})


#: name -> block set class
ACCEL_BLOCKS: dict[str, type[HardwareBlocks]] = {cls.name: cls for cls in (MacBlocks, RequantBlocks)}
