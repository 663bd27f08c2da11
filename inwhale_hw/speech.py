"""Speech quality and intelligibility on bounded excerpts: PESQ (ITU-T P.862) and STOI/ESTOI.

These are *speech* metrics: they model how people hear coded speech and mean nothing for
music (the listening page says so).  PESQ is computed with the ``pesq`` package (the ITU-T
P.862 reference implementation wrapped for Python) and STOI/ESTOI with ``pystoi``; this module
only chooses the excerpts and resamples them to the rates the standards require.

Excerpt rule (:class:`SpeechExcerpts`, fed block by block, memory bounded by the excerpts):

* both signals are mixed to mono (mean of channels, float64) at the input rate and cut into
  non-overlapping 20 ms frames (``round(0.020 * rate)`` samples);
* a frame is *active* when the RMS of the reference frame is at least -40 dBFS
  (``ACTIVE_DBFS``; full scale = 32768);
* a segment starts at an active frame and runs over the following frames until 0.5 s
  (``GAP_FRAMES`` = 25 frames) pass with no active frame, or until it holds 20 s
  (``MAX_SECONDS``); trailing inactive frames are dropped;
* segments shorter than 1 s (``MIN_SECONDS``) are discarded; the first three
  (``MAX_EXCERPTS``) kept segments are the excerpts and nothing after them is buffered.

Held in memory: at most ``3 * 20 s`` of both signals (float32 mono: 23 MB for both at 48 kHz).

Rates (each excerpt is resampled with :func:`scipy.signal.resample_poly`, default Kaiser
window, from the input rate):

* PESQ narrowband (P.862 + P.862.1 MOS-LQO mapping): 8000 Hz, ``pesq(8000, ref, deg, "nb")``;
* PESQ wideband (P.862.2): 16000 Hz, ``pesq(16000, ref, deg, "wb")``; only for inputs of at
  least 16 kHz (a narrowband input has no wideband content to judge);
* STOI and ESTOI (Taal et al. 2011, Jensen and Taal 2016): 10000 Hz, the rate of their
  one-third-octave analysis, ``stoi(ref, deg, 10000, extended=...)``.

Signals are passed to the packages as float64 scaled to [-1, 1) (``x / 32768``).  Each value
is the mean over the excerpts; the per-excerpt values are reported too.

Content hint: ``"speech"`` always computes them, ``"music"`` never, ``"auto"`` computes them
when the input looks like speech by this stated rule: among the 20 ms frames seen up to the
end of the last excerpt (or the whole input), at least 10 % are inactive (speech has pauses
between words and phrases; music is rarely silent that often).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from .errors import InputError, ParameterError

__all__ = [
    "ACTIVE_DBFS", "FRAME_SECONDS", "GAP_FRAMES", "MIN_SECONDS", "MAX_SECONDS", "MAX_EXCERPTS",
    "PESQ_NB_RATE", "PESQ_WB_RATE", "STOI_RATE", "CONTENT_HINTS",
    "Excerpt", "SpeechExcerpts", "resample_to", "speech_scores", "check_content_hint", "speech_record",
]

ACTIVE_DBFS = -40.0
FRAME_SECONDS = 0.020
GAP_FRAMES = 25
MIN_SECONDS = 1.0
MAX_SECONDS = 20.0
MAX_EXCERPTS = 3
SPEECH_MIN_INACTIVE = 0.10
PESQ_NB_RATE = 8000
PESQ_WB_RATE = 16000
STOI_RATE = 10000
CONTENT_HINTS = ("auto", "speech", "music")


@dataclass(frozen=True)
class Excerpt:
    """One active segment: its first frame (input-rate samples) and both mono signals."""

    start: int
    reference: np.ndarray
    test: np.ndarray

    @property
    def frames(self) -> int:
        return len(self.reference)


@dataclass
class SpeechExcerpts:
    """Chooses the excerpts of the module docstring from (reference, test) blocks."""

    rate: int
    excerpts: list[Excerpt] = field(default_factory=list)
    frames_seen: int = 0
    inactive_frames: int = 0

    def __post_init__(self) -> None:
        if int(self.rate) <= 0:
            raise ParameterError(f"speech excerpts: rate must be a positive integer, got {self.rate!r}")
        self.frame = max(1, round(FRAME_SECONDS * self.rate))
        self._threshold = (32768.0 * 10.0 ** (ACTIVE_DBFS / 20.0)) ** 2 * self.frame
        self._max_frames = round(MAX_SECONDS / FRAME_SECONDS)
        self._min_frames = round(MIN_SECONDS / FRAME_SECONDS)
        self._pending = np.zeros((0, 2))
        self._ref: list[np.ndarray] = []
        self._test: list[np.ndarray] = []
        self._gap = 0
        self._start = 0
        self._position = 0

    @property
    def done(self) -> bool:
        return len(self.excerpts) >= MAX_EXCERPTS

    def update(self, reference: np.ndarray, test: np.ndarray) -> None:
        """Feed the next block of both signals, shape ``(n,)`` or ``(n, channels)``."""
        if self.done:
            return
        reference, test = np.asarray(reference), np.asarray(test)
        if reference.shape != test.shape:
            raise InputError(f"speech excerpts: reference shape {reference.shape} and test shape {test.shape} differ")
        mono = np.stack([_mono(reference), _mono(test)], axis=1)
        data = np.concatenate([self._pending, mono]) if len(self._pending) else mono
        whole = len(data) // self.frame * self.frame
        self._pending = data[whole:]
        frames = data[:whole].reshape(-1, self.frame, 2)
        active = (frames[:, :, 0] ** 2).sum(axis=1) >= self._threshold
        for k in range(len(frames)):
            self._step(frames[k], bool(active[k]))
            if self.done:
                return

    def finish(self) -> list[Excerpt]:
        """Close the open segment (end of input) and return the excerpts."""
        if not self.done:
            self._close()
        return self.excerpts

    def looks_like_speech(self) -> bool:
        """The ``auto`` rule of the module docstring."""
        return self.frames_seen > 0 and self.inactive_frames >= SPEECH_MIN_INACTIVE * self.frames_seen

    def _step(self, frame: np.ndarray, active: bool) -> None:
        self.frames_seen += 1
        self.inactive_frames += not active
        position = self._position
        self._position += self.frame
        if not self._ref:
            if active:
                self._start, self._gap = position, 0
                self._ref.append(frame[:, 0].astype(np.float32))
                self._test.append(frame[:, 1].astype(np.float32))
            return
        self._ref.append(frame[:, 0].astype(np.float32))
        self._test.append(frame[:, 1].astype(np.float32))
        self._gap = 0 if active else self._gap + 1
        if self._gap >= GAP_FRAMES or len(self._ref) >= self._max_frames:
            self._close()

    def _close(self) -> None:
        keep = len(self._ref) - self._gap
        if keep >= self._min_frames:
            self.excerpts.append(
                Excerpt(self._start, np.concatenate(self._ref[:keep]), np.concatenate(self._test[:keep]))
            )
        self._ref, self._test, self._gap = [], [], 0


def _mono(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return x if x.ndim == 1 else x.mean(axis=1)


def resample_to(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """``x`` (int16-scaled) resampled from ``src`` to ``dst`` Hz and scaled to float64 in [-1, 1)."""
    g = math.gcd(int(src), int(dst))
    y = np.asarray(x, dtype=np.float64) / 32768.0
    return y if src == dst else resample_poly(y, dst // g, src // g)


def speech_scores(excerpts: list[Excerpt], rate: int) -> dict[str, Any]:
    """PESQ NB/WB, STOI and ESTOI of the excerpts (see the module docstring), JSON-ready."""
    from pesq import PesqError, pesq
    from pystoi import stoi

    per: list[dict[str, Any]] = []
    for ex in excerpts:
        row: dict[str, Any] = {"start_s": ex.start / rate, "duration_s": ex.frames / rate}
        for key, fs, mode in (("pesq_nb", PESQ_NB_RATE, "nb"), ("pesq_wb", PESQ_WB_RATE, "wb")):
            if mode == "wb" and rate < PESQ_WB_RATE:
                continue
            try:
                row[key] = float(pesq(fs, resample_to(ex.reference, rate, fs), resample_to(ex.test, rate, fs), mode))
            except PesqError as exc:
                row[key + "_error"] = f"{type(exc).__name__}: {exc}"
        ref, deg = resample_to(ex.reference, rate, STOI_RATE), resample_to(ex.test, rate, STOI_RATE)
        row["stoi"] = float(stoi(ref, deg, STOI_RATE))
        row["estoi"] = float(stoi(ref, deg, STOI_RATE, extended=True))
        per.append(row)
    means = {}
    for key in ("pesq_nb", "pesq_wb", "stoi", "estoi"):
        values = [r[key] for r in per if key in r]
        means[key] = float(np.mean(values)) if values else None
    return {**means, "excerpts": per}


def _missing_packages() -> list[str]:
    """The speech-metric packages (the ``speech`` extra) that do not import."""
    missing = []
    for name in ("pesq", "pystoi"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


def check_content_hint(hint: str) -> str:
    """``hint`` if it is one of :data:`CONTENT_HINTS`, else a :class:`ParameterError`."""
    if hint not in CONTENT_HINTS:
        raise ParameterError(f"content hint must be one of {', '.join(CONTENT_HINTS)}; got {hint!r}")
    return hint


def speech_record(excerpts: SpeechExcerpts, hint: str = "auto") -> dict[str, Any]:
    """The ``speech_metrics`` entry of ``metrics.json``: scores when the hint or the rule says speech."""
    check_content_hint(hint)
    chosen = excerpts.finish()
    if hint == "auto":
        shown = excerpts.looks_like_speech()
        why = (f"auto: {excerpts.inactive_frames} of {excerpts.frames_seen} 20 ms frames inactive "
               f"({'>=' if shown else '<'} {SPEECH_MIN_INACTIVE:.0%}: {'speech' if shown else 'not speech'})")
    else:
        shown, why = hint == "speech", f"content hint: {hint}"
    record: dict[str, Any] = {
        "label": "speech metrics: meaningful for speech only, meaningless for music",
        "content": hint,
        "decision": why,
        "excerpt_rule": (
            f"mono mix, {FRAME_SECONDS * 1000:g} ms frames active at reference RMS >= {ACTIVE_DBFS:g} dBFS; "
            f"segments end after {GAP_FRAMES * FRAME_SECONDS:g} s inactive or at {MAX_SECONDS:g} s; "
            f"first {MAX_EXCERPTS} of >= {MIN_SECONDS:g} s"
        ),
        "rates_hz": {"pesq_nb": PESQ_NB_RATE, "pesq_wb": PESQ_WB_RATE, "stoi": STOI_RATE},
        "shown": bool(shown and chosen),
    }
    if shown and not chosen:
        record["decision"] += "; no active segment of at least 1 s"
    missing = _missing_packages() if record["shown"] else []
    if missing:
        record["shown"] = False
        record["decision"] += (f"; not computed: {' and '.join(missing)} not installed "
                               "(pip install 'inwhale_hw[speech]')")
    if record["shown"]:
        record.update(speech_scores(chosen, excerpts.rate))
    return record
