"""Linear delta modulation (``delta``, alias ``dm``): hook, model, hardware wiring and vectors."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import DeltaModulation

__all__ = ["DeltaModulation", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``delta``."""
    registry.add(DeltaModulation, aliases=("dm",))
