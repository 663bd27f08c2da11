"""The hardware-model protocol: blocks, their Amaranth datapaths, stimulus and golden outputs.

A *hardware model* is anything :func:`inwhale_hw.hdlsim.verify`, the Verilog writer and the
``synth`` command can take.  It has

``name`` and ``blocks``
    The model's name and the names of the blocks it builds, e.g. ``("encoder", "decoder")``.
``datapath(block, **hw) -> amaranth.lib.wiring.Component``
    A fresh component computing ``block`` bit-exactly.  ``hw`` holds hardware-only options
    that do not change the bits (e.g. ``pipeline=2``); an unknown one raises
    :class:`~inwhale_hw.errors.ParameterError`.
``vectors(block, *, seed=0, **opts) -> dict[str, ndarray]``
    Stimulus: input arrays keyed like the block's input ports (``"i"`` for a stream's
    payload).  ``seed`` makes random parts repeatable; ``opts`` are vector settings such as
    ``count`` (random vectors) or ``sweep`` (also every operand pair): options of ``verify``,
    not parameters of the model.  An option the model does not know raises ParameterError.
``reference(block, vectors) -> Golden``
    The expected outputs for those inputs (keyed like the block's outputs; one entry per
    output transfer for a stream) and ``coverage``: named counters of the corner cases the
    vectors reached (rounding ties, rails, index extremes, step limits), which ``verify``
    prints.

Two kinds of class implement it:

* :class:`~inwhale_hw.Quantizer` subclasses with ``blocks`` (codec families): the quantizer's
  parameters pick the variant; ``Quantizer.vectors``/``reference`` return ``None`` unless the
  family overrides them, and then :mod:`inwhale_hw.hdlsim.protocol` uses every input
  combination (map blocks of at most 16 input bits) and ``encode``/``decode``.
* :class:`HardwareBlocks` subclasses: block sets that are not quantizers (a MAC array, the
  requantizers).  They declare validated parameters like a quantizer and register through the
  ``register_hardware`` hook (``registry.add(cls)``); ``inwhale-hw plugins`` lists them.

Example (a complete model; ``inwhale_hw.testing.check_hardware`` runs it)::

    from amaranth import Module, signed
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class Negate(wiring.Component):
        a: In(signed(8))
        y: Out(signed(9))
        latency = 0
        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.y.eq(-self.a)
            return m

    class NegateBlocks(HardwareBlocks):
        name = "negate"
        summary = "two's complement negation"
        blocks = ("neg",)
        def datapath(self, block, **hw):
            self.check_block(block, hw)
            return Negate()
        def vectors(self, block, *, seed=0, **opts):
            self.check_vector_options(opts, ())
            return {"a": np.arange(-128, 128)}
        def reference(self, block, vectors):
            a = np.asarray(vectors["a"])
            return Golden({"y": -a}, coverage={"min": int(np.sum(a == -128))})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

import numpy as np

from .errors import ParameterError
from .params import Param, bind_params

__all__ = ["HardwareModel", "HardwareBlocks", "Golden", "KIND", "check_vector_options"]

#: ``kind`` shown by ``inwhale-hw plugins`` for hardware block sets
KIND = "hardware"


@dataclass
class Golden:
    """Expected outputs of a block for given inputs, and the corner cases those inputs reached.

    ``outputs`` maps each output port (``"o"`` and observed state ports for a stream) to one
    value per vector (per output transfer).  ``coverage`` maps a counter name (e.g.
    ``"ties"``, ``"rail_hits"``, ``"index_max"``) to how often the vectors reached it.
    """

    outputs: dict[str, np.ndarray]
    coverage: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class HardwareModel(Protocol):
    """What ``verify``, ``verilog`` and ``synth`` need from a model (see the module docstring)."""

    name: str
    blocks: tuple[str, ...]

    def datapath(self, block: str, **hw: Any) -> Any: ...

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> Mapping[str, np.ndarray] | None: ...

    def reference(self, block: str, vectors: Mapping[str, np.ndarray]) -> Golden | None: ...


class HardwareBlocks:
    """Base of hardware block sets that are not quantizers.

    Subclasses set ``name``, ``summary``, ``references``, ``params`` (validated like a
    quantizer's, stored in ``self.params`` and as attributes), ``blocks`` and
    ``hardware_params`` (the options ``datapath`` accepts), and implement ``datapath``,
    ``vectors`` and ``reference``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    kind: ClassVar[str] = KIND
    references: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    blocks: ClassVar[tuple[str, ...]] = ()
    #: options ``datapath`` accepts besides the parameters (they do not change the bits)
    hardware_params: ClassVar[tuple[str, ...]] = ("pipeline",)

    def __init__(self, **params: Any) -> None:
        values = bind_params(self.params, params, f"hardware model {self.name!r}")
        self.params = values  # type: ignore[misc]  # instance attribute shadows the spec tuple
        for key, value in values.items():
            setattr(self, key, value)
        self._check_params()

    def _check_params(self) -> None:
        """Hook for checks that involve several parameters; raise ParameterError."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"

    @classmethod
    def param_specs(cls) -> tuple[Param, ...]:
        return cls.params

    @classmethod
    def capabilities(cls) -> list[str]:
        return [f"hdl:{b}" for b in cls.blocks]

    def check_block(self, block: str, hw: Mapping[str, Any]) -> dict[str, Any]:
        """Raise ParameterError for a block or hardware option this model does not have."""
        if block not in self.blocks:
            raise ParameterError(
                f"{self.name!r}: block {block!r} is not allowed; expected one of " + ", ".join(map(repr, self.blocks))
            )
        unknown = sorted(set(hw) - set(self.hardware_params))
        if unknown:
            raise ParameterError(
                f"{self.name} {block}: hardware option {unknown[0]!r} is not allowed; expected one of "
                + (", ".join(map(repr, self.hardware_params)) or "none")
            )
        return dict(hw)

    def check_vector_options(self, opts: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
        """Raise ParameterError for a vector option not in ``allowed``; return ``opts`` as a dict."""
        return check_vector_options(self.name, opts, allowed)

    def datapath(self, block: str, **hw: Any) -> Any:
        raise NotImplementedError

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> Mapping[str, np.ndarray]:
        raise NotImplementedError

    def reference(self, block: str, vectors: Mapping[str, np.ndarray]) -> Golden:
        raise NotImplementedError


def check_vector_options(owner: str, opts: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Raise ParameterError naming the first option of ``opts`` not in ``allowed``."""
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        raise ParameterError(
            f"{owner}: vector option {unknown[0]!r} is not allowed; expected one of "
            + (", ".join(map(repr, allowed)) or "none (only seed)")
        )
    return dict(opts)
