"""Every variant of a hardware model's block: the ``verify --matrix`` and ``--formal`` sweeps.

:func:`variants` lists the configurations ``verify --matrix`` runs: the product of

* every choice of the model's *variant parameters*, those named in :data:`VARIANT_PARAMS`
  that declare ``choices`` (G.711 ``flavor``, the PE's ``overflow`` and ``weights``, the
  requantizers' output ``dtype``, DPCM's ``code_format``) and that the caller did not fix;
* every pipeline depth in :data:`DEPTHS` the block's ``datapath`` accepts (just ``{}``,
  no ``pipeline`` option, when it accepts none).

:func:`pipeline_depths` finds the accepted depths by building the block.  :func:`formal_sweep`
proves each accepted nonzero depth equivalent to depth 0 (:func:`.formal.prove_pipelines`,
one Yosys run): by induction within ``timeout`` seconds, else a bounded check of ``bound``
cycles, reported as such.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Mapping

from amaranth.hdl import Fragment

from ..errors import ParameterError, VerificationError
from .formal import FormalReport, prove_pipelines
from .protocol import build_block

__all__ = ["VARIANT_PARAMS", "DEPTHS", "pipeline_depths", "variants", "formal_sweep"]

#: parameters whose choices select a hardware variant of the same model
VARIANT_PARAMS = ("flavor", "overflow", "weights", "dtype", "code_format")
#: pipeline depths a sweep tries (0 = combinational / the block's base latency)
DEPTHS = (0, 1, 2, 3)


def pipeline_depths(model: Any, block: str, depths: tuple[int, ...] = DEPTHS) -> list[int]:
    """The depths in ``depths`` that ``model.datapath(block, pipeline=d)`` accepts."""
    accepted = []
    for depth in depths:
        try:
            component = build_block(model, block, pipeline=depth)
        except ParameterError:
            continue
        Fragment.get(component, None)  # elaborated: a probe is not an unused design
        accepted.append(depth)
    return accepted


def variants(model: Any, block: str, fixed: Mapping[str, Any] = ()) -> Iterator[tuple[Any, dict[str, Any]]]:
    """``(model variant, hw options)`` for every variant parameter choice x pipeline depth.

    ``fixed`` names parameters the user set (they keep the model's value).
    """
    specs = [p for p in type(model).param_specs() if p.name in VARIANT_PARAMS and p.choices and p.name not in fixed]
    base = dict(model.params)
    for values in itertools.product(*(p.choices for p in specs)):
        params = {**base, **{p.name: v for p, v in zip(specs, values)}}
        try:
            variant = type(model)(**params)
        except ParameterError:  # a combination the model rejects (e.g. bits for a weight format)
            continue
        depths = pipeline_depths(variant, block)
        for depth in depths or [None]:
            yield variant, ({} if depth is None else {"pipeline": depth})


def formal_sweep(model: Any, block: str, depths: list[int] | None = None, *, timeout: float = 60.0,
                 bound: int = 8) -> list[FormalReport]:
    """Prove ``block`` at each depth (default: the accepted ones in 1..3) equivalent to depth 0."""
    chosen = [d for d in pipeline_depths(model, block) if d > 0] if depths is None else depths
    if not chosen:
        raise ParameterError(f"{model.name!r} block {block!r} has no 'pipeline' option to prove equivalent")
    label = f"{model!r} {block}"

    def make(d: int) -> Any:
        return build_block(model, block, pipeline=d)

    try:
        return prove_pipelines(make, chosen, design=label, timeout=timeout)
    except VerificationError:  # induction did not finish in time: a bounded check instead
        return prove_pipelines(make, chosen, design=label, bounded=bound, timeout=None)
