"""GGUF block quants (llama.cpp's GGML types) as the ``gguf`` tensor quantizer."""

from inwhale_hw import hookimpl

from .model import GGUF

__all__ = ["GGUF", "register_quantizers"]


@hookimpl
def register_quantizers(registry):
    registry.add(GGUF)
