"""``verify``: run a hardware block on vectors in a simulator and compare with the golden model.

::

    from inwhale_hw import get_quantizer
    from inwhale_hw.hdlsim import verify

    report = verify(get_quantizer("mulaw", flavor="audioop"), "encoder", simulator="icarus")
    assert report.ok, report

The source is a hardware model (:mod:`inwhale_hw.hardware`: a quantizer with ``blocks`` or
a registered block set such as ``mac``; its block is built by ``datapath``, the stimulus comes
from ``vectors(block, seed=..., **options)`` and the golden outputs and coverage counters from
``reference``, see :mod:`.protocol`), or a component / component factory together with
:class:`~inwhale_hw.hdlsim.vectors.Vectors` holding the expected outputs.  Vector settings
(``seed``, ``count``, model-specific ``options`` such as ``sweep``) are options of
:func:`verify`, not parameters of the model.  A vector mismatches when any of its outputs differs; for a stream block, output
transfer ``k`` is compared with expected entry ``k`` and every expected transfer the block
did not produce counts as a mismatch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import InputError, ParameterError, VerificationError
from ..hardware import HardwareModel
from .amaranth_runner import run_amaranth
from .icarus_runner import run_icarus
from .ports import describe
from .protocol import build_block, golden_vectors
from .vectors import UNDEFINED, SimRun, Vectors
from .verilator_runner import run_verilator

__all__ = ["verify", "Report", "Mismatch", "SIMULATORS", "RUNNERS", "expected_reset"]

#: simulators ``verify`` accepts; ``all`` in the CLI means the first two (Verilator compiles first)
SIMULATORS = ("amaranth", "icarus", "verilator")
RUNNERS = {"amaranth": run_amaranth, "icarus": run_icarus, "verilator": run_verilator}


@dataclass(frozen=True)
class Mismatch:
    """One failing vector: its index, inputs, expected and simulated outputs."""

    index: int
    inputs: dict[str, int]
    expected: dict[str, int | None]
    got: dict[str, int | None]

    def __str__(self) -> str:
        def show(values: Mapping[str, int | None]) -> str:
            return ", ".join(f"{k}={'x' if v is None else v}" for k, v in values.items())

        if self.index < 0:
            return f"after reset: expected({show(self.expected)}) got({show(self.got)})"
        return f"#{self.index}: in({show(self.inputs)}) expected({show(self.expected)}) got({show(self.got)})"


@dataclass
class Report:
    """Outcome of one verification run in one simulator."""

    design: str
    simulator: str
    vectors_checked: int
    mismatches: int
    first_mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0
    sim_seconds: float = 0.0
    #: corner cases the vectors reached (from the model's ``reference``)
    coverage: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.vectors_checked > 0

    @property
    def vectors_per_second(self) -> float:
        return self.vectors_checked / self.sim_seconds if self.sim_seconds > 0 else float("inf")

    def __str__(self) -> str:
        head = (
            f"{self.design} [{self.simulator}]: {self.vectors_checked} vectors checked, "
            f"{self.mismatches} mismatches ({self.seconds:.2f} s, simulation {self.sim_seconds:.2f} s, "
            f"{self.vectors_per_second:,.0f} vectors/s)"
        )
        cover = ["  coverage: " + ", ".join(f"{k}={v}" for k, v in self.coverage.items())] if self.coverage else []
        return "\n".join([head, *cover, *(f"  {m}" for m in self.first_mismatches)])

    def raise_for_mismatch(self) -> "Report":
        """Return self, or raise VerificationError when any vector mismatched."""
        if not self.ok:
            raise VerificationError(str(self))
        return self


def _label(component: wiring.Component, source: Any, block: str | None, hw: Mapping[str, Any]) -> str:
    if isinstance(source, HardwareModel):
        options = "".join(f" {k}={v!r}" for k, v in hw.items())
        return f"{source!r} {block}{options}"
    return repr(component)


def verify(
    source: HardwareModel | wiring.Component | Callable[[], wiring.Component],
    block: str | None = None,
    vectors: Vectors | Mapping[str, Any] | None = None,
    *,
    simulator: str = "amaranth",
    hw: Mapping[str, Any] | None = None,
    vcd: str | os.PathLike | None = None,
    keep: int = 10,
    seed: int = 0,
    stalls: bool = True,
    count: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Report:
    """Simulate a block and compare it with its golden model; return a :class:`Report`.

    ``source``: a hardware model (then ``block`` names one of its ``blocks`` and ``hw`` holds
    hardware-only options for ``datapath``), or a component / zero-argument factory (then
    ``vectors`` must be a :class:`Vectors` with expected outputs).  ``vectors`` for a
    model may be ``None`` (the model's stimulus for ``seed``, ``count`` and ``options``) or a
    mapping of inputs.
    ``simulator`` is ``"amaranth"``, ``"icarus"`` or ``"verilator"``; ``vcd`` writes a
    waveform trace; ``keep`` mismatches are kept in the report.

    ``seed`` also drives the seeded parts of the check (:mod:`.seeded`): the stalls on both
    sides of a stream block (``stalls=False`` turns them off), and for the model's stimulus
    the start from reset and the random order of exhaustive pipelined vectors.  A clocked
    map block's outputs right after reset must equal :func:`expected_reset`.
    """
    if simulator not in SIMULATORS:
        raise ParameterError(
            f"simulator {simulator!r} is not allowed; expected one of " + ", ".join(map(repr, SIMULATORS))
        )
    hw = dict(hw or {})
    opts = dict(options or {})
    if count is not None:
        opts["count"] = count
    if isinstance(source, HardwareModel):
        if block is None:
            raise ParameterError(f"hardware model {source.name!r}: a block is required; one of {source.blocks}")
        component = build_block(source, block, **hw)
        harness = describe(component)
        if not isinstance(vectors, Vectors):
            vectors = golden_vectors(source, block, harness, vectors, seed=seed, strengthen=vectors is None, **opts)
    else:
        if hw or opts:
            raise ParameterError(
                f"options {sorted([*hw, *opts])} apply only when the source is a hardware model"
            )
        if not isinstance(vectors, Vectors):
            raise InputError("verifying a component needs Vectors with the expected outputs")
        component = source() if callable(source) and not isinstance(source, wiring.Component) else source
        harness = describe(component)
    if set(vectors.expected) != set(harness.outputs):
        raise InputError(
            f"expected outputs {sorted(vectors.expected)} do not match the block's outputs {list(harness.outputs)}"
        )
    n_out = len(next(iter(vectors.expected.values())))
    run = RUNNERS[simulator](component, vectors.inputs, outputs=n_out, vcd=vcd, seed=seed, stalls=stalls)
    report = compare(_label(component, source, block, hw), vectors, run, keep=keep,
                     reset=expected_reset(component, harness) if run.reset_outputs is not None else None)
    report.coverage = dict(vectors.coverage)
    return report


def expected_reset(component: wiring.Component, harness) -> dict[str, int]:
    """A clocked map block's outputs right after reset: its ``reset_outputs`` attribute
    (a mapping of output names to values) or 0 for every output (registers reset to 0)."""
    declared = dict(getattr(component, "reset_outputs", None) or {})
    return {key: int(declared.get(key, 0)) for key in harness.outputs}


def compare(design: str, vectors: Vectors, run: SimRun, *, keep: int = 10,
            reset: Mapping[str, int] | None = None) -> Report:
    """Count the vectors whose simulated outputs differ from ``vectors.expected``; with
    ``reset``, a difference of ``run.reset_outputs`` from it counts as one more mismatch."""
    n_expected = len(next(iter(vectors.expected.values())))
    n_got = min(len(run.outputs[key]) for key in vectors.expected)
    common = min(n_expected, n_got)
    bad = np.zeros(common, dtype=bool)
    for key, expected in vectors.expected.items():
        bad |= run.outputs[key][:common] != expected[:common]
    indices = np.flatnonzero(bad)
    missing = n_expected - common
    first = [_mismatch(int(i), vectors, run) for i in indices[:keep]]
    first += [_mismatch(i, vectors, run) for i in range(common, min(n_expected, common + keep - len(first)))]
    reset_bad = reset is not None and run.reset_outputs != dict(reset)
    if reset_bad:
        first.insert(0, Mismatch(-1, {}, dict(reset), dict(run.reset_outputs or {})))
    return Report(
        design=design,
        simulator=run.simulator,
        vectors_checked=n_expected,
        mismatches=len(indices) + missing + int(reset_bad),
        first_mismatches=first,
        seconds=run.seconds,
        sim_seconds=run.sim_seconds,
    )


def _mismatch(index: int, vectors: Vectors, run: SimRun) -> Mismatch:
    def at(arr: np.ndarray) -> int | None:
        if index >= len(arr):
            return None
        value = int(arr[index])
        return None if value == UNDEFINED else value

    return Mismatch(
        index,
        {k: int(v[index]) for k, v in vectors.inputs.items() if index < len(v)},
        {k: at(v) for k, v in vectors.expected.items()},
        {k: at(run.outputs[k]) for k in vectors.expected},
    )
