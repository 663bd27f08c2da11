"""Tensor quantizers: uniform, affine (int), power-of-two (pow2, INQ, APoT), observers, packing."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .affine import Affine
from .pow2 import INQ, APoT, Pow2
from .uniform import UniformQuantizer

__all__ = ["UniformQuantizer", "Affine", "Pow2", "INQ", "APoT", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``uniform``, ``affine``, ``pow2``, ``inq`` and ``apot``."""
    registry.add(UniformQuantizer)
    registry.add(Affine, aliases=("int",))
    registry.add(Pow2, aliases=("logquant", "po2"))
    registry.add(INQ)
    registry.add(APoT)
