"""Scalar minifloats (FP8 E4M3FN/E5M2 and fnuz, FP6, FP4) as the ``minifloat`` tensor quantizer."""

from inwhale_hw import hookimpl

from .model import MiniFloatQuantizer

__all__ = ["MiniFloatQuantizer", "register_quantizers"]


@hookimpl
def register_quantizers(registry):
    registry.add(MiniFloatQuantizer, aliases=("fp8",))
