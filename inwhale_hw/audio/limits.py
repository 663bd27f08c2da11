"""Limits every audio container and command enforces, checked before anything is allocated.

One rule for every reader (PCM WAV through libsndfile, coded WAV, ``.iwc``, raw ``.ul``/``.al``)
and every command:

* sample rate: an integer in [:data:`MIN_RATE`, :data:`MAX_RATE`] = [1,000, 768,000] Hz;
* channels: an integer in [1, :data:`MAX_CHANNELS`] = [1, 256];
* a header's frame count may not ask for more coded bytes than the file really holds:
  ``ceil(frames * channels * bits_per_sample / 8) <= payload bytes present``, so a corrupt
  header can never make a reader allocate beyond a fixed multiple of the file's real size.

A value from a file header that breaks a rule raises
:class:`~inwhale_hw.errors.AudioFormatError` naming the file; a value the user passed
(``--rate``, ``--raw-channels``) raises :class:`~inwhale_hw.errors.ParameterError`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import AudioFormatError, ParameterError

__all__ = [
    "MIN_RATE",
    "MAX_RATE",
    "MAX_CHANNELS",
    "check_rate",
    "check_channels",
    "check_header",
    "check_payload_fits",
    "LimitError",
]

MIN_RATE = 1000
MAX_RATE = 768000
MAX_CHANNELS = 256


class LimitError(AudioFormatError):
    """A file header breaks one of the limits above (raised before anything is allocated)."""


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def check_rate(rate: Any, what: str = "sample rate") -> int:
    """A user-given sample rate in Hz, or :class:`ParameterError`."""
    if not _is_int(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise ParameterError(f"{what} {rate!r} is not allowed; expected an integer in [{MIN_RATE}, {MAX_RATE}] Hz")
    return int(rate)


def check_channels(channels: Any, what: str = "channel count") -> int:
    """A user-given channel count, or :class:`ParameterError`."""
    if not _is_int(channels) or not 1 <= channels <= MAX_CHANNELS:
        raise ParameterError(f"{what} {channels!r} is not allowed; expected an integer in [1, {MAX_CHANNELS}]")
    return int(channels)


def check_header(name: str, *, rate: Any, channels: Any) -> None:
    """Raise :class:`AudioFormatError` if a file header's rate or channel count breaks the rules."""
    if not _is_int(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise LimitError(
            f"{name}: header sample rate {rate!r} Hz is not supported; allowed: {MIN_RATE} to {MAX_RATE} Hz"
        )
    if not _is_int(channels) or not 1 <= channels <= MAX_CHANNELS:
        raise LimitError(
            f"{name}: header channel count {channels!r} is not supported; allowed: 1 to {MAX_CHANNELS}"
        )


def check_payload_fits(name: str, frames: int, channels: int, bits_per_sample: float, available: int) -> None:
    """Raise :class:`AudioFormatError` unless ``frames`` codes of ``channels`` fit ``available`` bytes."""
    bits = float(bits_per_sample)
    if not math.isfinite(bits) or bits <= 0:
        raise AudioFormatError(f"{name}: codec declares {bits_per_sample!r} bits per sample; expected > 0")
    needed = math.ceil(frames * channels * bits / 8)
    if needed > available:
        raise LimitError(
            f"{name}: header declares {frames} frames x {channels} channel(s) at {bits:g} bits "
            f"({needed} bytes) but the file holds only {available} payload bytes (truncated or corrupt)"
        )
