"""Encode, store, decode and measure: the round trip behind ``roundtrip`` and ``listen``.

The round trip goes through the real coded file (the bytes ``encode`` would write, in the
codec's default container: ``.wav`` when it declares a WAV format tag, else ``.iwc``) and
decodes those bytes, so what is measured is what a user would get from the files.

Residual: ``r = input - decoded`` (int32; it can reach 65535 in magnitude).  For listening it
is written as int16 ``round_half_even(g * r)`` saturated to [-32768, 32767], with gain ``g``:

* ``"auto"`` (default): the largest power of two ``g = 2^k`` with ``g * max|r| <= 32767``,
  limited to ``2^-1 <= g <= 2^8`` (+48.2 dB), so small coding noise becomes audible and a
  power-of-two scale keeps the waveform shape exact; ``g = 1`` for a zero residual;
* a number: that linear gain, saturating (and counting) what exceeds full scale.

The gain in linear and dB terms and the saturated count are part of :class:`RoundTrip`
and of ``metrics.json``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..version import __version__
from ..errors import ParameterError
from ..metrics import Metrics, compare
from ..quantizer import Quantizer
from . import coded
from .atomic import atomic_write_bytes, atomic_write_text
from .container import jsonable_params
from .pcm import Audio, resample_audio, write_pcm

__all__ = [
    "RoundTrip", "run_roundtrip", "is_roundtrip_dir", "residual_gain", "gain_for_peak", "parse_gain", "AUTO_GAIN_RANGE",
]

AUTO_GAIN_RANGE = (-1, 8)


@dataclass(frozen=True)
class RoundTrip:
    """Everything one codec's round trip produced."""

    codec: str
    params: dict[str, Any]
    original: Audio
    decoded: Audio
    residual: np.ndarray
    gain: float
    gain_mode: str
    residual_saturated: int
    metrics: Metrics
    coded_bytes: bytes
    coded_extension: str
    coded_description: str

    @property
    def gain_db(self) -> float:
        return 20.0 * math.log10(self.gain)

    def gain_text(self) -> str:
        return f"x{self.gain:g} ({self.gain_db:+.1f} dB, {self.gain_mode})"

    def summary(self) -> dict[str, Any]:
        """The JSON-ready record written as ``metrics.json``."""
        return {
            "codec": self.codec,
            "params": jsonable_params(self.params),
            "coded_file": self.coded_description,
            "rate": self.original.rate,
            "channels": self.original.channels,
            "frames": self.original.frames,
            "duration_s": self.original.duration,
            "metrics": self.metrics.to_dict(),
            "residual": {
                "definition": "input - decoded, written as round_half_even(gain * r) saturated to int16",
                "gain": self.gain,
                "gain_db": self.gain_db,
                "gain_mode": self.gain_mode,
                "saturated_samples": self.residual_saturated,
            },
            "writer": f"inwhale_hw {__version__}",
        }

    def write(self, out_dir: str | os.PathLike, input_info: dict[str, Any] | None = None) -> dict[str, Path]:
        """Write decoded.wav, residual.wav, coded.<ext> and metrics.json into ``out_dir``.

        ``out_dir`` must exist; the CLI passes a temporary directory from
        :func:`~inwhale_hw.audio.atomic.atomic_dir` so the result appears whole or not at all.
        """
        out = Path(out_dir)
        paths = {
            "decoded": out / "decoded.wav",
            "residual": out / "residual.wav",
            "coded": out / f"coded{self.coded_extension}",
            "metrics": out / "metrics.json",
        }
        write_pcm(paths["decoded"], _mono_or_multi(self.decoded.samples), self.decoded.rate)
        write_pcm(paths["residual"], _mono_or_multi(self.residual), self.original.rate)
        atomic_write_bytes(paths["coded"], self.coded_bytes)
        record = self.summary()
        if input_info is not None:
            record = {"input": input_info, **record}
        record["files"] = {key: p.name for key, p in paths.items()}
        atomic_write_text(paths["metrics"], json.dumps(record, indent=2) + "\n")
        return paths


OUTPUT_NAMES = ("decoded.wav", "residual.wav", "metrics.json")


def is_roundtrip_dir(path: Path) -> bool:
    """True if ``path`` holds only files a round trip writes (so a re-run may replace it)."""
    return all(p.name in OUTPUT_NAMES or p.stem == "coded" for p in path.iterdir())


def _mono_or_multi(x: np.ndarray) -> np.ndarray:
    return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x


def parse_gain(text: str | float) -> str | float:
    """``"auto"`` or a positive finite linear gain."""
    if isinstance(text, str) and text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"residual gain {text!r} is not allowed; expected 'auto' or a positive number")
    return value


def residual_gain(residual: np.ndarray, mode: str | float = "auto") -> float:
    """The gain the module docstring defines for ``residual`` (int array)."""
    return gain_for_peak(int(np.max(np.abs(residual))) if residual.size else 0, mode)


def gain_for_peak(peak: int, mode: str | float = "auto") -> float:
    """The gain the module docstring defines for a residual whose largest ``|r|`` is ``peak``."""
    if mode != "auto":
        return float(parse_gain(mode))
    if peak == 0:
        return 1.0
    lo, hi = AUTO_GAIN_RANGE
    k = math.floor(math.log2(32767 / peak))
    while 2.0**k * peak > 32767:  # guard the float log2 at exact powers of two
        k -= 1
    return 2.0 ** min(max(k, lo), hi)


def at_codec_rate(audio: Audio, q: Quantizer) -> Audio:
    """``audio`` resampled to the codec's :attr:`~inwhale_hw.Quantizer.required_rate`, if it has one."""
    rate = q.required_rate
    return audio if rate is None or rate == audio.rate else resample_audio(audio, rate)


def run_roundtrip(audio: Audio, q: Quantizer, *, gain: str | float = "auto") -> RoundTrip:
    """Encode ``audio`` with ``q`` into its default container, decode the bytes, measure.

    Input at another rate than the codec's ``required_rate`` is resampled first; ``original``
    in the result (and the residual) is then the resampled signal.
    """
    audio = at_codec_rate(audio, q)
    gain_mode = "auto" if gain == "auto" else "fixed"
    ext = coded.default_extension(q)
    blob, payload_bytes = coded.encode_to_bytes(audio, q, coded.container_of(Path("coded" + ext)))
    decoded = coded.decode_blob(blob, "coded" + ext, codec=q)
    if decoded.audio.samples.shape != audio.samples.shape:
        raise ParameterError(
            f"codec {q.name!r} decoded shape {decoded.audio.samples.shape} differs from the input "
            f"{audio.samples.shape}"
        )
    r = audio.samples.astype(np.int32) - decoded.audio.samples.astype(np.int32)
    g = residual_gain(r, gain)
    scaled = np.rint(r * g)
    saturated = int(np.count_nonzero((scaled < -32768) | (scaled > 32767)))
    residual = np.clip(scaled, -32768, 32767).astype(np.int16)
    metrics = compare(
        audio.samples, decoded.audio.samples, audio.rate,
        bits_per_sample=q.bits_per_sample, payload_bytes=payload_bytes,
    )
    return RoundTrip(
        codec=q.name, params=dict(q.params), original=audio, decoded=decoded.audio, residual=residual,
        gain=g, gain_mode=gain_mode, residual_saturated=saturated, metrics=metrics,
        coded_bytes=blob, coded_extension=ext, coded_description=decoded.description,
    )
