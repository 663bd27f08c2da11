"""Finding audio codecs in the registry and what their WAV representation can be.

Shared by the writer (:mod:`.coded`) and the reader (:mod:`.coded_read`); the protocol a
codec follows to have a WAV form is described in :mod:`.coded`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError, UnknownQuantizerError, UnsupportedError
from ..quantizer import Quantizer
from ..registry import QuantizerRegistry
from . import container

__all__ = [
    "RAW_TAGS",
    "RAW_DEFAULT_RATE",
    "registry_or_default",
    "audio_codecs",
    "make_codec",
    "wav_tag",
    "codec_for_tag",
    "tagged_codecs",
    "writes_wav",
    "byte_codes",
    "as_2d",
]

#: raw extensions and the WAVE format tag whose codes they hold
RAW_TAGS = {".ul": 7, ".al": 6}
RAW_DEFAULT_RATE = 8000


def registry_or_default(registry: QuantizerRegistry | None) -> QuantizerRegistry:
    """``registry``, or the process-wide plugin host's registry when it is ``None``."""
    if registry is not None:
        return registry
    from ..host import get_host

    return get_host().registry


def audio_codecs(registry: QuantizerRegistry | None = None) -> list[str]:
    """Names of every registered audio codec."""
    return registry_or_default(registry).names("audio")


def make_codec(name: str, params: dict[str, Any] | None = None, registry: QuantizerRegistry | None = None) -> Quantizer:
    """Build the audio codec ``name`` with ``params`` (strings are coerced by its Param specs)."""
    reg = registry_or_default(registry)
    available = ", ".join(reg.names("audio")) or "none"
    if name not in reg:
        raise UnknownQuantizerError(f"unknown codec {name!r}; available audio codecs: {available}")
    cls = reg.get(name)
    if cls.kind != "audio":
        raise ParameterError(
            f"quantizer {name!r} is a {cls.kind} quantizer, not an audio codec; available audio codecs: {available}"
        )
    return cls(**(params or {}))


def wav_tag(q: Quantizer | type[Quantizer]) -> int | None:
    tag = q.wav_format_tag
    return int(tag) if tag is not None else None


def codec_for_tag(tag: int, reg: QuantizerRegistry) -> type[Quantizer] | None:
    for entry in reg.entries("audio"):
        if wav_tag(entry.cls) == tag:
            return entry.cls
    return None


def tagged_codecs(reg: QuantizerRegistry) -> str:
    pairs = [f"0x{wav_tag(e.cls):04X} {e.name}" for e in reg.entries("audio") if wav_tag(e.cls) is not None]
    return ", ".join(pairs) or "none registered"


def writes_wav(q: Quantizer) -> bool:
    """True when ``q`` can be written as WAV: a format tag plus either the wav_encode/wav_decode
    protocol or whole-byte codes for the default payload."""
    if wav_tag(q) is None:
        return False
    if q.wav_encode is not None and q.wav_decode is not None:
        return True
    bits = float(q.bits_per_sample)
    return bits > 0 and bits % 8 == 0


def byte_codes(q: Quantizer) -> int:
    """Bytes per code for the default (whole-byte) WAV/raw payload, or raise UnsupportedError."""
    bits = float(q.bits_per_sample)
    if bits <= 0 or bits % 8:
        raise UnsupportedError(
            f"codec {q.name!r} has {bits:g} bits per sample and no wav_encode/wav_decode methods; "
            f"a WAV or raw file needs whole-byte codes: write {container.EXTENSION} instead"
        )
    return int(bits) // 8


def as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x
