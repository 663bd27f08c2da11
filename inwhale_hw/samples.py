"""The bundled audio samples, read as package data wherever the package is installed.

The source files live in the repository's top-level ``audio_samples/`` (made by
``audio_samples/make_samples.py``); ``pyproject.toml`` maps that folder into the package as
``inwhale_hw.audio_samples``, so a wheel (``pip install .``) carries them and
:func:`samples_dir` finds them through :mod:`importlib.resources` from any working directory.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .errors import InputError

__all__ = ["SAMPLES_PACKAGE", "samples_dir", "sample_path"]

SAMPLES_PACKAGE = "inwhale_hw.audio_samples"


def samples_dir() -> Path:
    """The directory holding the bundled samples (``speech_8k.wav``, ``music_44k.wav``)."""
    try:
        root = resources.files(SAMPLES_PACKAGE)
    except ModuleNotFoundError:
        raise InputError(
            f"the bundled audio samples ({SAMPLES_PACKAGE}) are not installed; reinstall inwhale_hw "
            "(pip install .) or pass your own files"
        ) from None
    return Path(os.fspath(root))


def sample_path(name: str) -> Path:
    """The path of the bundled sample ``name``, or :class:`InputError` naming what exists."""
    folder = samples_dir()
    path = folder / name
    if not path.is_file():
        present = sorted(p.name for p in folder.glob("*.wav"))
        raise InputError(f"bundled sample {name!r} is missing from {folder}; present: {', '.join(present) or 'none'}")
    return path
