"""inwhale_hw: bit-accurate fixed-point quantizer models, plugins and matching hardware.

Public API::

    import inwhale_hw
    q = inwhale_hw.get_quantizer("uniform", bits=8)
    codes = q.encode(x)
    inwhale_hw.list_quantizers()
"""

from __future__ import annotations

from typing import Any

from .hookspecs import hookimpl
from .params import Param
from .quantizer import Quantizer, StreamDecoder, StreamEncoder

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Param",
    "Quantizer",
    "StreamDecoder",
    "StreamEncoder",
    "get_quantizer",
    "hookimpl",
    "list_quantizers",
]


def get_quantizer(name: str, **params: Any) -> Quantizer:
    """Instantiate the registered quantizer ``name`` (or an alias) with ``params``."""
    from .host import get_host

    return get_host().registry.create(name, **params)


def list_quantizers(kind: str | None = None) -> list[str]:
    """Names of the registered quantizers, optionally only those of ``kind`` ("audio"/"tensor")."""
    from .host import get_host

    return get_host().registry.names(kind)
