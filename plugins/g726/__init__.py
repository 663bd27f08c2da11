"""G.726 ADPCM (``g726``; 16-40 kbit/s, ITU-T G.726 (12/90)): hook, blocks, kernels, flavors, codec, files."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .codec import G726Decoder, G726Encoder, decode, encode, pack, unpack
from .model import G726

__all__ = ["G726", "G726Encoder", "G726Decoder", "encode", "decode", "pack", "unpack", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``g726``."""
    registry.add(G726, aliases=("g.726", "g721"))
