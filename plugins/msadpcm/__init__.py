"""Microsoft ADPCM (``ms-adpcm``, WAV 0x0002): hook, model, tables, WAV blocks and kernels."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import MsAdpcm

__all__ = ["MsAdpcm", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``ms-adpcm``."""
    registry.add(MsAdpcm, aliases=("msadpcm",))
