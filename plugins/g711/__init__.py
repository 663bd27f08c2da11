"""G.711 µ-law and A-law, and the generic companding quantizer: hook, models, tables, hardware.

``model.py`` (``mulaw``, ``alaw``), ``companding.py`` (``companding``: µ-law / A-law curves on
a chosen grid), ``tables.py`` (the G.711 segment tables), ``hardware.py`` (which
:mod:`inwhale_hw.hdl.g711` Component each block and flavor builds).
"""

from __future__ import annotations

from inwhale_hw import hookimpl

from .companding import Companding
from .model import ALaw, MuLaw

__all__ = ["MuLaw", "ALaw", "Companding", "register_quantizers"]


@hookimpl
def register_quantizers(registry) -> None:
    """Register ``mulaw``, ``alaw`` and ``companding``."""
    registry.add(MuLaw, aliases=("ulaw", "pcmu"))
    registry.add(ALaw, aliases=("pcma",))
    registry.add(Companding)
