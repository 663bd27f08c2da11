"""Closed-loop DPCM with a fixed-point predictor: hook, model, loops, hardware wiring and vectors."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import DPCM

__all__ = ["DPCM", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``dpcm``."""
    registry.add(DPCM)
