"""inwhale_hw: bit-accurate fixed-point quantizer models, plugins and matching hardware.

Public API::

    import inwhale_hw
    q = inwhale_hw.get_quantizer("uniform", bits=8)
    codes = q.encode(x)
    inwhale_hw.list_quantizers()
    mac = inwhale_hw.get_hardware("mac", acc_bits=24)   # a hardware model (inwhale_hw.hardware)
"""

from __future__ import annotations

from typing import Any

from .hardware import Golden, HardwareBlocks, HardwareModel
from .hookspecs import hookimpl
from .params import Param
from .quantizer import Quantizer, StreamDecoder, StreamEncoder
from .version import __version__


__all__ = [
    "__version__",
    "Golden",
    "HardwareBlocks",
    "HardwareModel",
    "Param",
    "Quantizer",
    "StreamDecoder",
    "StreamEncoder",
    "get_hardware",
    "get_quantizer",
    "hookimpl",
    "list_hardware",
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


def get_hardware(name: str, **params: Any) -> HardwareModel:
    """The hardware model ``name``: a quantizer with hardware blocks, else a registered block set.

    An unknown name raises :class:`~inwhale_hw.errors.UnknownQuantizerError` listing both.
    """
    from .errors import UnknownQuantizerError
    from .host import get_host

    host = get_host()
    if name in host.registry or name not in host.hardware:
        try:
            return host.registry.create(name, **params)
        except UnknownQuantizerError as exc:
            known = ", ".join(host.hardware.names()) or "none"
            raise UnknownQuantizerError(f"{exc}; hardware models: {known}") from None
    return host.hardware.create(name, **params)


def list_hardware() -> list[str]:
    """Names of every hardware model: quantizers that declare blocks, then registered block sets."""
    from .host import get_host

    host = get_host()
    return [e.name for e in host.registry.entries() if e.cls.blocks] + host.hardware.names()
