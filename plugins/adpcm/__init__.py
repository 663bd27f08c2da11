"""IMA ADPCM (``ima-adpcm``): hook, model, tables, WAV blocks, encoders, hardware wiring and vectors."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import ImaAdpcm

__all__ = ["ImaAdpcm", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``ima-adpcm``."""
    registry.add(ImaAdpcm, aliases=("ima", "dvi-adpcm"))
