"""Test vectors and simulation results shared by the runners.

:class:`Vectors` holds input arrays keyed by vector name (see :mod:`.ports`) and the expected
output arrays; :class:`SimRun` holds what a simulator produced for the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from .ports import Harness

__all__ = ["Vectors", "SimRun", "UNDEFINED", "check_inputs"]


@dataclass
class Vectors:
    """Inputs and expected outputs of one verification run.

    Map blocks: every array has one entry per vector.  Stream blocks: ``inputs`` has one
    entry per input element (``"i"`` and sideband ports), ``expected`` one entry per output
    transfer (``"o"`` and the observed ports).
    """

    inputs: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    #: corner cases the inputs reach, from the model's ``reference`` (name -> count)
    coverage: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values()))) if self.inputs else 0


@dataclass
class SimRun:
    """What one simulator produced: output arrays keyed like ``Vectors.expected``.

    ``seconds`` is the whole run (elaboration, code generation, compilation, simulation);
    ``sim_seconds`` only the simulation loop.  An output with undefined bits (Icarus
    ``x``/``z``) is recorded as :data:`UNDEFINED`, which equals no port value.
    """

    simulator: str
    outputs: dict[str, np.ndarray]
    seconds: float
    sim_seconds: float
    cycles: int = 0
    notes: list[str] = field(default_factory=list)
    #: a clocked map block's outputs right after reset, before the first clock edge
    reset_outputs: dict[str, int] | None = None


#: value recorded for an output that was not a valid number (``x``/``z`` in Icarus)
UNDEFINED = np.iinfo(np.int64).min


def check_inputs(harness: Harness, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Validate ``inputs`` against the harness: every input key present, in range, same length."""
    missing = [k for k in harness.inputs if k not in inputs]
    unknown = [k for k in inputs if k not in harness.inputs]
    if missing or unknown:
        raise InputError(
            f"vector inputs {sorted(inputs)} do not match the block's inputs {list(harness.inputs)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {unknown}" if unknown else "")
        )
    checked = {key: port.check(inputs[key], key) for key, port in harness.inputs.items()}
    lengths = {key: len(arr) for key, arr in checked.items()}
    if len(set(lengths.values())) != 1:
        raise InputError(f"vector inputs have different lengths: {lengths}")
    if not next(iter(lengths.values())):
        raise InputError("no vectors to run: the input arrays are empty")
    return checked
