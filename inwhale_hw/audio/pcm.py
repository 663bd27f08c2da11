"""Reading any audio file as int16 PCM, float-to-int16 conversion, resampling, writing PCM.

Reading (:func:`read_audio`) goes through libsndfile (``soundfile``), so every container and
subtype it reads is accepted (WAV, WAVEX, RF64, AIFF, FLAC, OGG/Vorbis, MP3, AU, CAF, ...).
Channels are preserved: :attr:`Audio.samples` always has shape ``(frames, channels)``.

Sample conversion, stated exactly:

* Subtypes whose decoded values are 16-bit integers (PCM_16, PCM_S8, PCM_U8, ULAW, ALAW and
  libsndfile's ADPCM/GSM decoders) are read as int16 unchanged: no rounding happens.
* Everything else (PCM_24, PCM_32, FLOAT, DOUBLE, lossy codecs) is read as float64 in
  libsndfile's normalisation (full scale = 1.0; exact for integer PCM) and converted by
  :func:`float_to_int16`: optional TPDF dither ``d`` (in LSB) added as ``x + d / 32768``, then
  :func:`inwhale_hw.fixed.quantize` to ``QFormat(1, 15)``: ``round(x * 32768)`` exactly
  (no double rounding) with ``Rounding.HALF_EVEN`` (round half to even) and
  ``Overflow.SAT`` (**saturation** to [-32768, 32767]).  Saturated samples are counted, reported in
  :class:`Conversion` and warned about with :class:`AudioSaturationWarning`; they are never
  clipped silently.  Note that +1.0 maps to 32768, which saturates to 32767.
* NaN or infinity in a float file raises :class:`~inwhale_hw.errors.AudioFormatError`
  naming the first frame and channel.

TPDF dither (``dither=True``, seeded): the sum of two independent uniform variables on
[-0.5, 0.5) LSB (drawn per sample as one consecutive pair, so block reading draws the same), i.e. triangular on (-1, 1) LSB, added before rounding (Lipshitz, Wannamaker
and Vanderkooy, "Quantization and Dither: A Theoretical Survey", JAES 40(5), 1992, §4).
It decorrelates the requantisation error from the signal.  int16 sources without resampling
need no requantisation and are never dithered.

Resampling (``rate=``) uses :func:`scipy.signal.resample_poly` with the reduced ratio
``rate/src`` (default Kaiser window, beta 5.0) along the time axis, in float64, followed by
the same float-to-int16 conversion (so overshoot past full scale is saturated and counted).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioFormatError, FixedPointOverflowError, ParameterError
from ..fixed import Overflow, QFormat, Rounding, quantize
from .atomic import atomic_path, write_failure
from .sniff import coded_input_hint
from .wav import WavFile, is_riff_wave, read_wav
from .limits import MAX_RATE, MIN_RATE, LimitError, check_header, check_rate

__all__ = [
    "Audio",
    "Conversion",
    "AudioSaturationWarning",
    "AudioTruncationWarning",
    "float_to_int16",
    "read_audio",
    "resample",
    "resample_audio",
    "write_pcm",
    "MIN_RATE",
    "MAX_RATE",
    "check_rate",
]


#: libsndfile subtypes whose decoded samples are exactly 16-bit integers
_INT16_SUBTYPES = frozenset(
    {"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM", "GSM610", "VOX_ADPCM"}
)

_Q15 = QFormat(1, 15)  # int16 as a fraction: raw = x * 2**15, range [-1, 1 - 2**-15]
ROUNDING_TEXT = "round half to even of x*32768, saturate to [-32768, 32767]"


class AudioSaturationWarning(UserWarning):
    """Samples beyond int16 full scale were saturated during conversion."""


class AudioTruncationWarning(UserWarning):
    """An input file is shorter than its header says; the complete frames present were read."""


@dataclass(frozen=True)
class Conversion:
    """How a file's samples became int16 PCM."""

    source_rate: int
    source_subtype: str
    source_format: str
    converted: bool = False
    rounding: str | None = None
    saturated: int = 0
    first_saturated: tuple[int, int] | None = None
    dither_seed: int | None = None
    dithered: bool = False
    resampled_to: int | None = None

    def to_dict(self) -> dict:
        return {
            "source_rate": self.source_rate,
            "source_format": self.source_format,
            "source_subtype": self.source_subtype,
            "converted_from_float": self.converted,
            "rounding": self.rounding,
            "saturated_samples": self.saturated,
            "first_saturated": list(self.first_saturated) if self.first_saturated else None,
            "tpdf_dither": self.dithered,
            "dither_seed": self.dither_seed,
            "resampled_to": self.resampled_to,
        }

    def saturation_message(self, name: str) -> str | None:
        """A one-line warning when samples were saturated, else ``None``."""
        if not self.saturated or self.first_saturated is None:
            return None
        frame, channel = self.first_saturated
        return (
            f"{name}: {self.saturated} sample(s) beyond int16 full scale were saturated to "
            f"[-32768, 32767] (first at frame {frame}, channel {channel})"
        )


@dataclass(frozen=True)
class Audio:
    """int16 PCM of shape ``(frames, channels)`` at ``rate`` Hz."""

    samples: np.ndarray
    rate: int
    conversion: Conversion | None = field(default=None, compare=False)

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.rate


def float_to_int16(
    x: np.ndarray, *, dither: bool = False, seed: int | None = None
) -> tuple[np.ndarray, int, tuple[int, int] | None]:
    """Convert float samples (full scale 1.0, shape (n, ch)) to int16 as the module states.

    Returns ``(samples, saturated_count, first_saturated)`` where ``first_saturated`` is
    ``(frame, channel)`` of the first saturated sample or ``None``.
    """
    x = np.asarray(x, dtype=np.float64)
    _check_finite(x, "samples")
    if dither:
        pairs = np.random.default_rng(seed).uniform(-0.5, 0.5, x.shape + (2,))
        x = x + pairs.sum(axis=-1) / 32768.0
    try:
        raw = quantize(x, _Q15, rounding=Rounding.HALF_EVEN, overflow=Overflow.ERROR)
        return raw.astype(np.int16), 0, None
    except FixedPointOverflowError as exc:
        count, flat = exc.count, exc.first_index
    raw = quantize(x, _Q15, rounding=Rounding.HALF_EVEN, overflow=Overflow.SAT)
    first = divmod(flat, x.shape[1]) if x.ndim == 2 else (flat, 0)
    return raw.astype(np.int16), count, first


def _check_finite(x: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        flat = int(np.flatnonzero(bad)[0])
        frame, channel = divmod(flat, x.shape[1]) if x.ndim == 2 else (flat, 0)
        value = x.reshape(-1)[flat]
        raise AudioFormatError(
            f"{name}: sample at frame {frame}, channel {channel} is {value}; audio samples must be "
            f"finite ({int(bad.sum())} non-finite value(s) in total)"
        )


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Resample float64 ``x`` (n, ch) from ``src`` to ``dst`` Hz with resample_poly."""
    from scipy.signal import resample_poly  # imported on use: scipy.signal takes ~1 s to import

    g = math.gcd(src, dst)
    return resample_poly(np.asarray(x, dtype=np.float64), dst // g, src // g, axis=0)


def _open_info(path: Path) -> sf._SoundFileInfo:
    if not path.exists():
        raise AudioFormatError(f"{path}: no such file")
    if path.is_dir():
        raise AudioFormatError(f"{path}: is a directory, expected an audio file")
    if path.stat().st_size == 0:
        raise AudioFormatError(f"{path}: file is empty (0 bytes); expected an audio file")
    peek = _peek_wav(path)
    if peek is not None:
        check_header(str(path), rate=peek.fmt.rate, channels=peek.fmt.channels)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, OverflowError, ValueError) as exc:
        readable = ", ".join(sorted(sf.available_formats()))
        hint = _coded_hint(path)
        raise AudioFormatError(
            f"{path}: not an audio file libsndfile can read ({_one_line(exc)}){hint}; "
            f"readable containers: {readable}"
        ) from None
    check_header(str(path), rate=info.samplerate, channels=info.channels)
    _truncation_warning(path, info.frames, peek)
    return info


def _peek_wav(path: Path) -> WavFile | None:
    """The chunk layout of a RIFF/WAVE file from its first 64 KiB, or ``None`` if not parseable."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        size = path.stat().st_size
        parsed = read_wav(head, str(path)) if is_riff_wave(head) else None
    except LimitError:
        raise
    except (OSError, AudioFormatError):
        return None
    if parsed is not None and parsed.missing_bytes:
        # the data chunk only looked truncated because we read the first 64 KiB
        missing = parsed.missing_bytes - (size - len(head))
        parsed = replace(parsed, missing_bytes=max(missing, 0))
    return parsed


def _truncation_warning(path: Path, frames: int, peek: WavFile | None) -> None:
    if peek is not None and peek.missing_bytes:
        warnings.warn(
            f"{path}: data chunk is truncated ({peek.missing_bytes} bytes missing); read the "
            f"{frames} complete frames present",
            AudioTruncationWarning,
            stacklevel=4,
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1].strip() if text else type(exc).__name__


def _coded_hint(path: Path) -> str:
    return coded_input_hint(path)


def read_audio(
    path: str | os.PathLike,
    *,
    rate: int | None = None,
    dither: bool = False,
    seed: int | None = None,
) -> Audio:
    """Read ``path`` as int16 PCM ``(frames, channels)``, optionally resampled to ``rate`` Hz.

    Raises :class:`~inwhale_hw.errors.AudioFormatError` for a missing, empty, non-audio or
    unreadable file, a file without frames, and NaN/inf samples.
    """
    from .stream import open_audio  # local import: stream.py builds on this module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioSaturationWarning)
        stream = open_audio(path, rate=rate, dither=dither, seed=seed)
    parts = list(stream.blocks())
    if not parts:
        raise AudioFormatError(f"{path}: contains no audio frames ({stream.conversion.source_format} {stream.conversion.source_subtype})")
    conv = stream.conversion
    message = conv.saturation_message(str(path))
    if message:
        warnings.warn(message, AudioSaturationWarning, stacklevel=2)
    return Audio(np.ascontiguousarray(np.concatenate(parts)), stream.rate, conv)


def resample_audio(audio: Audio, rate: int) -> Audio:
    """``audio`` resampled to ``rate`` Hz with :func:`resample`, then int16 as the module states.

    The returned conversion record keeps the source description and adds the new rate and any
    samples saturated by the resampling filter's overshoot (warned about, never silent).
    """
    rate = check_rate(rate, "target sample rate")
    if rate == audio.rate:
        return audio
    floats = resample(audio.samples.astype(np.float64) / 32768.0, audio.rate, rate)
    samples, count, first = float_to_int16(floats)
    prior = audio.conversion or Conversion(audio.rate, "PCM_16", "array")
    conv = replace(
        prior,
        converted=True,
        rounding=ROUNDING_TEXT,
        saturated=prior.saturated + count,
        first_saturated=prior.first_saturated or first,
        resampled_to=rate,
    )
    if count:
        message = replace(conv, saturated=count, first_saturated=first).saturation_message(
            f"resampling {audio.rate} -> {rate} Hz"
        )
        warnings.warn(message, AudioSaturationWarning, stacklevel=2)
    return Audio(samples, rate, conv)


def write_pcm(path: str | os.PathLike, samples: np.ndarray, rate: int) -> Path:
    """Write int16 ``samples`` ((n,) or (n, ch)) as 16-bit PCM, atomically.

    The container follows the extension (``.wav`` gives a canonical 44-byte-header RIFF
    WAVE for mono/stereo; ``.flac``, ``.aiff`` ... whatever libsndfile writes as PCM_16).
    """
    path = Path(path)
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        raise ParameterError(f"write_pcm: samples must be int16, got {samples.dtype}")
    ext = path.suffix.lower().lstrip(".")
    fmt = {"wav": "WAV", "flac": "FLAC", "aif": "AIFF", "aiff": "AIFF", "au": "AU", "caf": "CAF"}.get(ext)
    if fmt is None:
        raise AudioFormatError(
            f"{path}: unsupported PCM output container {('.' + ext) if ext else '(no extension)'!r}; "
            "allowed: .wav, .flac, .aif, .aiff, .au, .caf"
        )
    with atomic_path(path) as tmp:
        try:
            sf.write(str(tmp), samples, int(rate), subtype="PCM_16", format=fmt)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise write_failure(path, tmp, _one_line(exc).replace(str(tmp), "the file")) from None
    return path
