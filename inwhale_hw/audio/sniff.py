"""Telling our coded files apart from PCM: the ``.iwc`` magic, a coded WAV format tag, ``.ul``/``.al``.

Used by :mod:`.pcm` to hint at ``inwhale-hw decode`` when libsndfile cannot read a file, and
by :mod:`.coded_read`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AudioFormatError
from . import container, wav
from ..registry import QuantizerRegistry
from .codecs import RAW_TAGS, codec_for_tag, registry_or_default, tagged_codecs

__all__ = ["sniff_coded", "coded_input_hint"]


def sniff_coded(path: str | os.PathLike) -> str | None:
    """A short description if ``path`` looks like one of our coded files, else ``None``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return None
    if head.startswith(container.MAGIC):
        return "inwhale coded container"
    if wav.is_riff_wave(head):
        fmt = _wav_format(path)
        if fmt is not None and fmt.format_tag not in (wav.WAVE_FORMAT_PCM, wav.WAVE_FORMAT_IEEE_FLOAT):
            return f"coded WAV ({fmt.describe()})"
    if path.suffix.lower() in RAW_TAGS:
        return f"raw {'mu-law' if RAW_TAGS[path.suffix.lower()] == 7 else 'A-law'} file"
    return None


def _wav_format(path: Path) -> wav.WavFormat | None:
    """The ``fmt`` chunk of a RIFF/WAVE file, from its first 64 KiB (``None`` if not found)."""
    try:
        with open(path, "rb") as handle:
            return wav.read_wav(handle.read(1 << 16), str(path)).fmt
    except (OSError, AudioFormatError):
        return None


def coded_input_hint(path: str | os.PathLike, registry: QuantizerRegistry | None = None) -> str:
    """What to tell a user who passed a coded file where PCM audio is expected ("" if not coded).

    A coded WAV whose format tag no registered codec decodes (G.726 0x0045, Yamaha ADPCM
    0x0020, ...) is called unsupported, with the tags that are; others point at ``decode``.
    """
    path = Path(path)
    kind = sniff_coded(path)
    if kind is None:
        return ""
    reg = registry_or_default(registry)
    fmt = _wav_format(path) if kind.startswith("coded WAV") else None
    if fmt is not None and codec_for_tag(fmt.format_tag, reg) is None:
        return f" - it is a WAV with {fmt.describe()}, which is not supported; supported coded WAV tags: {tagged_codecs(reg)}"
    return f" - it is a {kind}; decode it first with `inwhale-hw decode`"
