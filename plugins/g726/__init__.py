"""G.726 ADPCM (16-40 kbit/s, ITU-T G.726 (12/90)): blocks, kernels, streaming codec and packings."""

from __future__ import annotations

from .codec import G726Decoder, G726Encoder, decode, encode, pack, unpack

__all__ = ["G726Encoder", "G726Decoder", "encode", "decode", "pack", "unpack"]
