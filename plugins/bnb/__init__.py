"""bitsandbytes NF4 / FP4 with QLoRA double quantization as the ``bnb`` tensor quantizer."""

from inwhale_hw import hookimpl

from .model import BnB

__all__ = ["BnB", "register_quantizers"]


@hookimpl
def register_quantizers(registry):
    registry.add(BnB, aliases=("nf4",))
