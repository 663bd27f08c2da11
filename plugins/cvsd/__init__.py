"""CVSD (continuously variable slope delta, Bluetooth flavor): hook, model, resampler, hardware."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import CVSD

__all__ = ["CVSD", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``cvsd``."""
    registry.add(CVSD, aliases=("cvsd-bt",))
