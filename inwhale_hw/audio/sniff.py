"""Telling our coded files apart from PCM: the ``.iwc`` magic, a coded WAV format tag, ``.ul``/``.al``.

Used by :mod:`.pcm` to hint at ``inwhale-hw decode`` when libsndfile cannot read a file, and
by :mod:`.coded_read`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AudioFormatError
from . import container, wav
from .codecs import RAW_TAGS

__all__ = ["sniff_coded"]


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
        try:
            with open(path, "rb") as handle:  # the fmt chunk lies in the first 64 KiB
                fmt = wav.read_wav(handle.read(1 << 16), str(path)).fmt
        except (OSError, AudioFormatError):
            return None
        if fmt.format_tag not in (wav.WAVE_FORMAT_PCM, wav.WAVE_FORMAT_IEEE_FLOAT):
            return f"coded WAV ({fmt.describe()})"
    if path.suffix.lower() in RAW_TAGS:
        return f"raw {'mu-law' if RAW_TAGS[path.suffix.lower()] == 7 else 'A-law'} file"
    return None
