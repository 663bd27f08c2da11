"""ITU-T G.722 (``g722``): hook, model, tables and the sequential kernels."""

from __future__ import annotations

from inwhale_hw import hookimpl

from .model import G722

__all__ = ["G722", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``g722``."""
    registry.add(G722, aliases=("g.722",))
