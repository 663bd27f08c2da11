"""Build, stimulate and check any hardware model (:mod:`inwhale_hw.hardware`).

:func:`build_block` checks the block name and that ``datapath`` returned a Component;
:func:`golden_vectors` gets the stimulus from ``model.vectors(block, seed=..., **opts)`` and the
expected outputs and coverage counters from ``model.reference(block, inputs)``.

Defaults for quantizers whose ``vectors`` / ``reference`` return ``None``: a map block whose
inputs total at most 16 bits gets every input combination (exhaustive); block ``"encoder"`` is
``encode`` and ``"decoder"`` is ``decode`` applied to the block's single input, giving its
single output (inputs cast to ``sample_dtype`` / ``code_dtype`` first).  Blocks with more
ports, other names or wider inputs must define the methods.

Stream sideband inputs are all 0 on an element that loads no state (the block codes it from
the state it holds); :func:`golden_vectors` relies on that to start the default vectors from
the block's reset state.

Deprecated (one release): a quantizer that still defines ``hdl_vectors(block)`` /
``hdl_reference(block, inputs)`` instead of ``vectors`` / ``reference`` keeps working, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import ParameterError, UnsupportedError
from ..hardware import Golden, HardwareModel, check_vector_options
from ..quantizer import Quantizer
from .ports import Harness, describe
from .seeded import from_reset, shuffled
from .vectors import Vectors, check_inputs

__all__ = ["build_block", "default_inputs", "reference_golden", "reference_outputs", "golden_vectors", "EXHAUSTIVE_BITS"]

#: map blocks whose inputs total at most this many bits are checked exhaustively by default
EXHAUSTIVE_BITS = 16


def build_block(model: HardwareModel, block: str, **hw: Any) -> wiring.Component:
    """``model.datapath(block, **hw)``, after checking ``block`` is one it declares."""
    if not model.blocks:
        raise UnsupportedError(f"{_what(model)} {model.name!r} has no hardware blocks")
    if block not in model.blocks:
        raise ParameterError(
            f"{_what(model)} {model.name!r}: block {block!r} is not allowed; expected one of "
            + ", ".join(repr(b) for b in model.blocks)
        )
    component = model.datapath(block, **hw)
    if not isinstance(component, wiring.Component):
        raise UnsupportedError(
            f"{model.name}.datapath({block!r}) returned {type(component).__name__}, "
            "not an amaranth.lib.wiring.Component"
        )
    return component


def _what(model: Any) -> str:
    return "quantizer" if isinstance(model, Quantizer) else "hardware model"


def _deprecated(model: Any, old: str, new: str) -> None:
    warnings.warn(
        f"{type(model).__name__}.{old}() is deprecated and will be removed in the next release; "
        f"implement {new}() (see inwhale_hw.hardware)",
        DeprecationWarning,
        stacklevel=4,
    )


def default_inputs(
    model: HardwareModel, block: str, harness: Harness, *, seed: int = 0, **opts: Any
) -> dict[str, np.ndarray]:
    """The block's stimulus: ``model.vectors`` or, for a small map block, every combination."""
    chosen = model.vectors(block, seed=seed, **opts)
    if chosen is None and callable(getattr(model, "hdl_vectors", None)):
        _deprecated(model, "hdl_vectors", "vectors")
        check_vector_options(model.name, opts, ())
        chosen = model.hdl_vectors(block)  # type: ignore[attr-defined]
    if chosen is not None:
        return {key: np.asarray(value) for key, value in chosen.items()}
    check_vector_options(model.name, opts, ())
    total = sum(port.width for port in harness.inputs.values())
    if harness.kind != "map" or total > EXHAUSTIVE_BITS:
        raise UnsupportedError(
            f"{_what(model)} {model.name!r}, block {block!r}: no default vectors (a {harness.kind} "
            f"block with {total} input bits); define vectors(block, seed=..., **opts) or pass vectors"
        )
    index = np.arange(1 << total, dtype=np.int64)
    inputs, shift = {}, 0
    for key, port in harness.inputs.items():
        inputs[key] = port.from_bits((index >> shift) & ((1 << port.width) - 1))
        shift += port.width
    return inputs


def reference_golden(
    model: HardwareModel, block: str, harness: Harness, inputs: Mapping[str, np.ndarray]
) -> Golden:
    """Expected outputs (flattened int64, keyed like ``harness.outputs``) and coverage counters."""
    result: Any = model.reference(block, inputs)
    if result is None and callable(getattr(model, "hdl_reference", None)):
        _deprecated(model, "hdl_reference", "reference")
        result = model.hdl_reference(block, inputs)  # type: ignore[attr-defined]
    if result is None:
        result = _codec_reference(model, block, harness, inputs)
    golden = result if isinstance(result, Golden) else Golden(dict(result))
    missing = [key for key in harness.outputs if key not in golden.outputs]
    if missing:
        raise UnsupportedError(f"{model.name}.reference({block!r}) gave no values for {missing}")
    outputs = {key: np.asarray(golden.outputs[key]).astype(np.int64).reshape(-1) for key in harness.outputs}
    return Golden(outputs, {str(k): int(v) for k, v in golden.coverage.items()})


def _codec_reference(model: Any, block: str, harness: Harness, inputs: Mapping[str, np.ndarray]) -> dict:
    single_in = len(harness.inputs) == 1
    single_out = len(harness.outputs) == 1
    if not isinstance(model, Quantizer) or block not in ("encoder", "decoder") or not (single_in and single_out):
        raise UnsupportedError(
            f"{_what(model)} {model.name!r}, block {block!r}: no default golden model for a block "
            f"with inputs {list(harness.inputs)} and outputs {list(harness.outputs)}; "
            "define reference(block, vectors)"
        )
    (values,) = inputs.values()
    (out_key,) = harness.outputs
    if block == "encoder":
        return {out_key: model.encode(np.asarray(values).astype(model.sample_dtype))}
    return {out_key: model.decode(np.asarray(values).astype(model.code_dtype))}


def reference_outputs(
    model: HardwareModel, block: str, harness: Harness, inputs: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Only the expected outputs of :func:`reference_golden`."""
    return reference_golden(model, block, harness, inputs).outputs


def golden_vectors(
    model: HardwareModel,
    block: str,
    target: Harness | wiring.Component,
    inputs: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    strengthen: bool = False,
    **opts: Any,
) -> Vectors:
    """Inputs (``inputs`` or the model's stimulus for ``seed``/``opts``) and the golden outputs.

    ``target`` is the component that will run (typically ``model.datapath(block)``) or its
    :class:`~.ports.Harness`; its ports key the vectors.  The model's coverage counters are
    in ``Vectors.coverage``.  With ``strengthen``, the model's stimulus is made stronger
    (:mod:`.seeded`): a stream's first element loads no state, so the run starts from the
    reset state, and exhaustive-sized vectors of a pipelined map block (``2^bits`` vectors
    for ``bits`` <= 16 input bits) are followed by the same vectors in an order drawn from
    ``seed``.
    """
    harness = target if isinstance(target, Harness) else describe(target)
    if inputs is None:
        chosen = default_inputs(model, block, harness, seed=seed, **opts)
        if strengthen:
            chosen = _strengthened(harness, chosen, seed)
    else:
        check_vector_options(model.name, opts, ())
        chosen = inputs
    checked = check_inputs(harness, chosen)
    golden = reference_golden(model, block, harness, checked)
    return Vectors(checked, golden.outputs, golden.coverage)


def _strengthened(harness: Harness, inputs: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    chosen = from_reset(harness, inputs)
    total = sum(port.width for port in harness.inputs.values())
    count = len(next(iter(chosen.values())))
    if harness.kind == "map" and harness.latency > 0 and total <= EXHAUSTIVE_BITS and count == 1 << total:
        chosen = shuffled(chosen, seed)
    return chosen
