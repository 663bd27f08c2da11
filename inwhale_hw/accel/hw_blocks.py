"""The accelerator's hardware blocks by name, for ``inwhale-hw verilog|verify|synth``.

Two block sets, each speaking the quantizer hardware protocol of
:mod:`inwhale_hw.hdlsim.protocol` (``blocks``, ``datapath(block, **hw)``,
``hdl_vectors(block)``, ``hdl_reference(block, inputs)``), so ``hdlsim.verify``,
``hdlsim.synthesize`` and the CLI handle them exactly like a quantizer's blocks:

``mac`` — blocks ``pe`` (one processing element) and ``array`` (a ``rows x cols`` MAC array);
    parameters ``acc_bits``, ``overflow`` (``wrap``/``sat``), ``weights`` (``int8``: the
    8 x 8 multiplier of :mod:`inwhale_hw.hdl.pe`; ``pow2``/``apot``: the shift-add element of
    :mod:`inwhale_hw.hdl.pow2_pe`), ``bits`` (code width of pow2/apot weights), ``rows``,
    ``cols``.  E.g. ``inwhale-hw verify mac --block pe -p acc_bits=24 -p overflow=sat``.
``requant`` — blocks ``gemmlowp`` and ``shift`` (the ``shift-only`` profile; :mod:`inwhale_hw.hdl.requant`);
    parameters ``acc_bits`` (<= 32) and ``dtype`` (``int8``, ``uint8``, ``int16``, ``uint16``).

Both take ``count`` (random vectors; default 20000 for ``pe`` and the requantizers, 4000
clocks for ``array``) and ``seed``; ``mac`` takes ``sweep`` (also apply every operand pair
once, default on).  Hardware-only option for ``datapath``: ``pipeline`` (``pe``/``array``:
0 or 1, a register after the multiplier; requantizers: register stages, see
:mod:`inwhale_hw.hdl.pipeline`).

The block sets reuse :class:`~inwhale_hw.quantizer.Quantizer` for declared, validated
parameters and for the hardware protocol; they are not registered quantizers (no
``encode``/``decode``): :func:`resolve` returns one when a name is not a quantizer.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import numpy as np

from ..errors import ParameterError, UnknownQuantizerError, UnsupportedError
from ..params import Param
from ..quantizer import Quantizer
from . import hw_golden, hw_vectors

__all__ = ["AcceleratorBlocks", "MacBlocks", "RequantBlocks", "ACCEL_BLOCKS", "get_accel_blocks", "resolve"]

_COUNT = Param("count", None, "random vectors (default: 20000; 4000 clocks for the MAC array)", int,
               min=0, max=10_000_000, allow_none=True)
_SEED = Param("seed", 0, "seed of the random vectors", int, min=0)


class AcceleratorBlocks(Quantizer):
    """Base of the block sets: parameters and hardware protocol, no codec."""

    kind = "hardware"
    #: options ``datapath`` accepts besides the parameters (they do not change the bits)
    hardware_params: ClassVar[tuple[str, ...]] = ("pipeline",)

    def encode(self, x: Any) -> np.ndarray:
        raise UnsupportedError(f"{self.name!r} is a set of hardware blocks, not a codec: it has no encode")

    def decode(self, codes: Any) -> np.ndarray:
        raise UnsupportedError(f"{self.name!r} is a set of hardware blocks, not a codec: it has no decode")

    @classmethod
    def capabilities(cls) -> list[str]:
        return [f"hdl:{b}" for b in cls.blocks]

    def _hardware(self, block: str, hw: Mapping[str, Any]) -> dict[str, Any]:
        if block not in self.blocks:
            raise ParameterError(
                f"{self.name!r}: block {block!r} is not allowed; expected one of " + ", ".join(map(repr, self.blocks))
            )
        unknown = sorted(set(hw) - set(self.hardware_params))
        if unknown:
            raise ParameterError(
                f"{self.name} {block}: hardware option {unknown[0]!r} is not allowed; expected one of "
                + ", ".join(map(repr, self.hardware_params))
            )
        return dict(hw)

    def _count(self, default: int) -> int:
        return default if self.count is None else self.count


class MacBlocks(AcceleratorBlocks):
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
        _COUNT,
        Param("sweep", True, "also apply every operand pair once (block 'pe')", bool),
        _SEED,
    )

    def _check_params(self) -> None:
        if self.weights != "int8":
            from inwhale_hw.hdl.pow2_pe import check_bits

            check_bits(self.weights, self.bits, f"quantizer {self.name!r}")

    def datapath(self, block: str, **hw: Any):
        from inwhale_hw.hdl.mac_array import MacArray
        from inwhale_hw.hdl.pe import ProcessingElement
        from inwhale_hw.hdl.pow2_pe import Pow2Element

        options = self._hardware(block, hw)
        if block == "array":
            return MacArray(self.rows, self.cols, self.acc_bits, self.overflow, weights=self.weights, bits=self.bits,
                            **options)
        if self.weights == "int8":
            return ProcessingElement(self.acc_bits, self.overflow, **options)
        return Pow2Element(self.weights, self.bits, self.acc_bits, self.overflow, **options)

    def hdl_vectors(self, block: str) -> dict[str, np.ndarray]:
        if block == "array":
            return hw_vectors.array_vectors(self.rows, self.cols, self.acc_bits, self.weights, self.bits,
                                            self._count(4000), self.seed)
        return hw_vectors.pe_vectors(self.acc_bits, self.weights, self.bits, self._count(20000), self.sweep, self.seed)

    def hdl_reference(self, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if block == "array":
            return hw_golden.array_trace(dict(inputs), self.rows, self.cols, self.acc_bits, self.overflow,
                                         self.weights, self.bits)
        prods = hw_golden.products(inputs["a"], inputs["b"], self.weights, self.bits)
        acc, flags = hw_golden.accumulator_trace(prods, inputs["clear"], inputs["accumulate"], inputs["bias"],
                                                 self.acc_bits, self.overflow)
        return {"acc": acc, "overflowed": flags.astype(np.int64)}


class RequantBlocks(AcceleratorBlocks):
    name = "requant"
    summary = "Requantization units: gemmlowp (Q31 multiplier, double rounding) and shift-only (power-of-two scales)"
    references = ("gemmlowp fixedpoint/fixedpoint.h; TFLite kernels/internal/common.h MultiplyByQuantizedMultiplier",
                  "inwhale_hw.nn.profiles: gemmlowp, shift-only")
    blocks = ("gemmlowp", "shift")
    params = (
        Param("acc_bits", 32, "accumulator width (signed, sign-extended to int32)", int, min=2, max=32),
        Param("dtype", "int8", "output type", str, choices=("int8", "uint8", "int16", "uint16")),
        _COUNT,
        _SEED,
    )

    def datapath(self, block: str, **hw: Any):
        from inwhale_hw.hdl.requant import RequantGemmlowp, RequantShift

        options = self._hardware(block, hw)
        cls = RequantGemmlowp if block == "gemmlowp" else RequantShift
        return cls(self.acc_bits, self.dtype, **options)

    def hdl_vectors(self, block: str) -> dict[str, np.ndarray]:
        make = hw_vectors.gemmlowp_vectors if block == "gemmlowp" else hw_vectors.shift_vectors
        return make(self.acc_bits, self.dtype, self._count(20000), self.seed)

    def hdl_reference(self, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if block == "gemmlowp":
            y = hw_golden.gemmlowp_reference(inputs["acc"], inputs["multiplier"], inputs["shift"],
                                             inputs["zero_point"], self.dtype)
        else:
            y = hw_golden.shift_only_reference(inputs["acc"], inputs["shift"], inputs["zero_point"], self.dtype)
        return {"y": y}


#: name -> block set class
ACCEL_BLOCKS: dict[str, type[AcceleratorBlocks]] = {cls.name: cls for cls in (MacBlocks, RequantBlocks)}


def get_accel_blocks(name: str, **params: Any) -> AcceleratorBlocks:
    """The block set ``name`` configured with ``params``."""
    try:
        cls = ACCEL_BLOCKS[name]
    except (KeyError, TypeError):
        raise UnknownQuantizerError(
            f"no accelerator block set {name!r}; known: {', '.join(ACCEL_BLOCKS)}"
        ) from None
    return cls(**params)


def resolve(name: str, **params: Any) -> Quantizer:
    """The registered quantizer ``name``, else the accelerator block set ``name``.

    An unknown name raises the registry's :class:`~inwhale_hw.errors.UnknownQuantizerError`
    with the block-set names appended.
    """
    from .. import get_quantizer

    try:
        return get_quantizer(name, **params)
    except UnknownQuantizerError as exc:
        if name not in ACCEL_BLOCKS:
            raise UnknownQuantizerError(f"{exc}; accelerator block sets: {', '.join(ACCEL_BLOCKS)}") from None
    return get_accel_blocks(name, **params)
