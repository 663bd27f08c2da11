"""What a quantizer provides so its hardware blocks can be built and verified.

The quantizer side of the protocol (all but the first two are optional):

``blocks`` (class attribute)
    Names of the blocks :meth:`~inwhale_hw.Quantizer.datapath` builds, e.g.
    ``("encoder", "decoder")``.
``datapath(block, **hw)``
    A fresh ``amaranth.lib.wiring.Component`` for ``block``, bit-exact with the quantizer as
    configured (its parameters, e.g. ``flavor``, select the variant).  ``hw`` holds
    hardware-only options that do not change the bits (e.g. ``pipeline=2``); unknown ones
    raise :class:`~inwhale_hw.errors.ParameterError`.  The component describes itself to
    the runners through its signature (map or stream block, see :mod:`.ports`) and its
    ``latency`` attribute.
``hdl_vectors(block) -> dict[str, array]``
    Default input vectors, keyed like the block's inputs (port names; ``"i"`` for a
    stream's payload).  Without it, a map block whose inputs total at most 16 bits gets
    every input combination (exhaustive), anything else must define it.  Sequential codecs
    return real signals here (speech, music, full-scale edge cases) and reset or load
    their state through sideband ports as their blocks require.
``hdl_reference(block, inputs) -> dict[str, array]``
    The golden outputs for ``inputs``, keyed like the block's outputs (``"o"`` and the
    observed state ports for a stream, one entry per output transfer).  Without it, block
    ``"encoder"`` is ``encode`` and ``"decoder"`` is ``decode`` applied to the block's single
    input, giving its single output (``"o"`` for a stream); blocks with more ports, or
    with other names, must define it.  A stateful codec returns the state after every
    sample here, computed by its bit-accurate model.

Stream sideband inputs are all 0 on an element that loads no state (the block codes it from
the state it holds); :func:`golden_vectors` relies on that to start the default vectors from
the block's reset state.

Inputs are cast to the quantizer's ``sample_dtype`` (encoder) or ``code_dtype`` (decoder)
before the default reference runs, since those are the types ``encode``/``decode`` take.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import ParameterError, UnsupportedError
from ..quantizer import Quantizer
from .ports import Harness, describe
from .stimulus import from_reset, shuffled
from .vectors import Vectors, check_inputs

__all__ = ["build_block", "default_inputs", "reference_outputs", "golden_vectors", "EXHAUSTIVE_BITS"]

#: map blocks whose inputs total at most this many bits are checked exhaustively by default
EXHAUSTIVE_BITS = 16


def build_block(quantizer: Quantizer, block: str, **hw: Any) -> wiring.Component:
    """``quantizer.datapath(block, **hw)``, after checking ``block`` is one it declares."""
    if not quantizer.blocks:
        raise UnsupportedError(f"quantizer {quantizer.name!r} has no hardware blocks")
    if block not in quantizer.blocks:
        raise ParameterError(
            f"quantizer {quantizer.name!r}: block {block!r} is not allowed; expected one of "
            + ", ".join(repr(b) for b in quantizer.blocks)
        )
    component = quantizer.datapath(block, **hw)
    if not isinstance(component, wiring.Component):
        raise UnsupportedError(
            f"{quantizer.name}.datapath({block!r}) returned {type(component).__name__}, "
            "not an amaranth.lib.wiring.Component"
        )
    return component


def default_inputs(quantizer: Quantizer, block: str, harness: Harness) -> dict[str, np.ndarray]:
    """The block's default input vectors (``hdl_vectors`` or the exhaustive set)."""
    hook = getattr(quantizer, "hdl_vectors", None)
    if hook is not None:
        return {key: np.asarray(value) for key, value in hook(block).items()}
    total = sum(port.width for port in harness.inputs.values())
    if harness.kind != "map" or total > EXHAUSTIVE_BITS:
        raise UnsupportedError(
            f"quantizer {quantizer.name!r}, block {block!r}: no default vectors (a {harness.kind} "
            f"block with {total} input bits); define hdl_vectors(block) or pass vectors"
        )
    index = np.arange(1 << total, dtype=np.int64)
    inputs, shift = {}, 0
    for key, port in harness.inputs.items():
        inputs[key] = port.from_bits((index >> shift) & ((1 << port.width) - 1))
        shift += port.width
    return inputs


def reference_outputs(
    quantizer: Quantizer, block: str, harness: Harness, inputs: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Golden outputs for ``inputs`` (``hdl_reference`` or encode/decode)."""
    hook = getattr(quantizer, "hdl_reference", None)
    if hook is not None:
        result = hook(block, inputs)
    else:
        single_in = len(harness.inputs) == 1
        single_out = len(harness.outputs) == 1
        if block not in ("encoder", "decoder") or not (single_in and single_out):
            raise UnsupportedError(
                f"quantizer {quantizer.name!r}, block {block!r}: no default golden model for a block "
                f"with inputs {list(harness.inputs)} and outputs {list(harness.outputs)}; "
                "define hdl_reference(block, inputs)"
            )
        (values,) = inputs.values()
        (out_key,) = harness.outputs
        if block == "encoder":
            result = {out_key: quantizer.encode(np.asarray(values).astype(quantizer.sample_dtype))}
        else:
            result = {out_key: quantizer.decode(np.asarray(values).astype(quantizer.code_dtype))}
    missing = [key for key in harness.outputs if key not in result]
    if missing:
        raise UnsupportedError(f"{quantizer.name}.hdl_reference({block!r}) gave no values for {missing}")
    return {key: np.asarray(result[key]).astype(np.int64).reshape(-1) for key in harness.outputs}


def golden_vectors(
    quantizer: Quantizer,
    block: str,
    target: Harness | wiring.Component,
    inputs: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
) -> Vectors:
    """Inputs (``inputs`` or the defaults) and the golden outputs for the block ``target``.

    ``target`` is the component that will run (typically ``quantizer.datapath(block)``) or
    its :class:`~.ports.Harness`; its ports key the vectors.  With a ``seed``, the default
    vectors are strengthened (:mod:`.stimulus`): a stream's first element loads no state, so
    the run starts from the reset state, and the exhaustive vectors of a pipelined map block
    are followed by the same vectors in a seeded random order.
    """
    harness = target if isinstance(target, Harness) else describe(target)
    chosen = default_inputs(quantizer, block, harness) if inputs is None else inputs
    if inputs is None and seed is not None:
        chosen = from_reset(harness, chosen)
        exhaustive = getattr(quantizer, "hdl_vectors", None) is None
        if harness.kind == "map" and harness.latency > 0 and exhaustive:
            chosen = shuffled(chosen, seed)
    checked = check_inputs(harness, chosen)
    return Vectors(checked, reference_outputs(quantizer, block, harness, checked))
