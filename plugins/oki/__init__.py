"""OKI / Dialogic VOX ADPCM (``oki-adpcm``): hook, model, tables and kernels."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import OkiAdpcm

__all__ = ["OkiAdpcm", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``oki-adpcm``."""
    registry.add(OkiAdpcm, aliases=("vox", "dialogic-adpcm"))
