"""OCP Microscaling (MX v1.0) block formats as the ``mx`` tensor quantizer."""

from inwhale_hw import hookimpl

from .model import MX

__all__ = ["MX", "register_quantizers"]


@hookimpl
def register_quantizers(registry):
    registry.add(MX)
