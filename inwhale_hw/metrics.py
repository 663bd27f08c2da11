"""Objective quality numbers for a coded signal against its reference.

All functions take the reference ``s`` and the test signal ``y`` as integer (or float)
arrays of equal shape ``(n,)`` or ``(n, channels)`` and compute in float64 on the error
``e = s - y`` (exact: int16 differences fit float64).

SNR (whole signal, all channels pooled)::

    SNR = 10 log10( sum s^2 / sum e^2 )  dB

``+inf`` when ``e`` is all zero, ``-inf`` when ``s`` is all zero but ``e`` is not, and
``nan`` when both are all zero.

Segmental SNR, following the usual practice for waveform coders (Quackenbush, Barnwell and
Clements, *Objective Measures of Speech Quality*, Prentice Hall 1988; the same limits as
Hansen and Pellom, ICSLP 1998): the signal is cut into non-overlapping frames of
``frame`` samples per channel (default 32 ms, i.e. ``round(0.032 * rate)``: 256 samples at
8 kHz); a trailing partial frame is dropped unless the signal is shorter than one frame, in
which case the whole signal is one frame.  Each frame's SNR is clamped to
``[lo, hi] = [-10, 35]`` dB, so silent or perfectly coded frames neither dominate nor break
the average: a frame with ``sum e^2 = 0`` counts as ``hi`` (this includes silence
reproduced exactly) and one with ``sum s^2 = 0 < sum e^2`` counts as ``lo``.  segSNR is
the mean over all frames of all channels.  Because a high-quality codec pins that mean at the
35 dB clamp, the *unclamped* segSNR is reported too: the plain mean of the per-frame SNRs over
the frames where both ``sum s^2`` and ``sum e^2`` are non-zero (frames coded exactly or silent
in the reference are left out; ``nan`` when no frame qualifies).

Max absolute error: ``max |e|``.  Error histogram: counts of ``e`` in unit-wide bins centred
on each integer from ``min e`` to ``max e`` when that span is at most 256 values, else 64
equal-width bins over ``[min e, max e]`` (``numpy.histogram`` semantics: the last bin is
closed).  Bit rates: nominal ``bits_per_sample * rate * channels`` and, when the coded
payload size is known, the payload rate ``8 * payload_bytes * rate / frames`` (which
includes block headers of codecs such as IMA ADPCM).

:class:`MetricsAccumulator` computes the same numbers for integer signals fed block by block
(memory bounded by the block): energies and the error histogram are exact integer sums
(counts per error value in [-65535, 65535]), so SNR, max error and histogram equal
:func:`compare`'s; per-frame SNRs are summed as they complete, so segSNR equals it up to the
order of a float64 sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError, ParameterError

__all__ = [
    "DEFAULT_FRAME_SECONDS",
    "DEFAULT_CLAMP_DB",
    "Metrics",
    "snr_db",
    "segmental_snr_db",
    "unclamped_segmental_snr_db",
    "max_abs_error",
    "error_histogram",
    "bitrate_bps",
    "default_frame_length",
    "compare",
    "MetricsAccumulator",
]

DEFAULT_FRAME_SECONDS = 0.032
DEFAULT_CLAMP_DB = (-10.0, 35.0)
_HIST_UNIT_SPAN = 256
_HIST_BINS = 64


def _pair(s: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(s)
    y = np.asarray(y)
    if s.shape != y.shape:
        raise InputError(f"metrics: reference shape {s.shape} and test shape {y.shape} differ")
    if s.ndim not in (1, 2) or s.shape[0] == 0:
        raise InputError(f"metrics: expected non-empty arrays of shape (n,) or (n, channels), got {s.shape}")
    for name, a in (("reference", s), ("test", y)):
        if a.dtype.kind not in "iuf":
            raise InputError(f"metrics: {name} must be numeric, got dtype {a.dtype}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise InputError(f"metrics: {name} contains NaN or infinity")
    s2 = s.astype(np.float64).reshape(s.shape[0], -1)
    y2 = y.astype(np.float64).reshape(y.shape[0], -1)
    return s2, s2 - y2


def _ratio_db(signal: float, noise: float) -> float:
    if noise == 0.0:
        return math.inf if signal > 0 else math.nan
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def snr_db(reference: Any, test: Any) -> float:
    """Whole-signal SNR in dB (see the module docstring)."""
    s, e = _pair(reference, test)
    return _ratio_db(float(np.sum(s * s)), float(np.sum(e * e)))


def default_frame_length(rate: int) -> int:
    """The default segSNR frame: 32 ms, ``round(0.032 * rate)`` samples (256 at 8 kHz)."""
    return max(1, int(round(DEFAULT_FRAME_SECONDS * rate)))


def segmental_snr_db(
    reference: Any,
    test: Any,
    *,
    rate: int | None = None,
    frame: int | None = None,
    clamp: tuple[float, float] = DEFAULT_CLAMP_DB,
) -> float:
    """Segmental SNR in dB: the mean of per-frame SNRs clamped to ``clamp``."""
    if frame is None:
        if rate is None:
            raise ParameterError("segmental_snr_db: give the sample rate or an explicit frame length")
        frame = default_frame_length(rate)
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 1:
        raise ParameterError(f"segmental_snr_db: frame length {frame!r} is not allowed; expected an integer >= 1")
    lo, hi = clamp
    if not lo < hi:
        raise ParameterError(f"segmental_snr_db: clamp {clamp!r} is not allowed; expected (lo, hi) with lo < hi")
    s, e = _pair(reference, test)
    n = s.shape[0]
    count = n // frame
    if count == 0:
        count, frame = 1, n
    use = count * frame
    es = (s[:use] ** 2).reshape(count, frame, -1).sum(axis=1)
    ee = (e[:use] ** 2).reshape(count, frame, -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = 10.0 * np.log10(es / ee)
    per = np.where(ee == 0, hi, np.where(es == 0, lo, per))
    return float(np.mean(np.clip(per, lo, hi)))


def unclamped_segmental_snr_db(reference: Any, test: Any, *, frame: int) -> float:
    """Mean per-frame SNR over frames with non-zero signal and error (module docstring); ``nan`` if none."""
    s, e = _pair(reference, test)
    count = max(1, s.shape[0] // frame)
    use = count * frame if s.shape[0] >= frame else s.shape[0]
    es = (s[:use] ** 2).reshape(count, -1, 1 if s.ndim == 1 else s.shape[1]).sum(axis=1)
    ee = (e[:use] ** 2).reshape(count, -1, 1 if s.ndim == 1 else s.shape[1]).sum(axis=1)
    both = (es > 0) & (ee > 0)
    return float(np.mean(10.0 * np.log10(es[both] / ee[both]))) if both.any() else math.nan


def max_abs_error(reference: Any, test: Any) -> float:
    """``max |reference - test|`` (an integer value for integer inputs)."""
    _, e = _pair(reference, test)
    return float(np.max(np.abs(e)))


def error_histogram(reference: Any, test: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(edges, counts)`` of the error ``reference - test`` (binning in the module docstring)."""
    _, e = _pair(reference, test)
    flat = e.reshape(-1)
    lo, hi = float(flat.min()), float(flat.max())
    integral = bool(np.all(flat == np.round(flat)))
    if integral and hi - lo + 1 <= _HIST_UNIT_SPAN:
        edges = np.arange(lo - 0.5, hi + 1.0, 1.0)
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, _HIST_BINS + 1)
    counts, edges = np.histogram(flat, bins=edges)
    return edges, counts


def bitrate_bps(bits_per_sample: float, rate: int, channels: int) -> float:
    """Nominal bit rate in bit/s: ``bits_per_sample * rate * channels``."""
    return float(bits_per_sample) * rate * channels


@dataclass(frozen=True)
class Metrics:
    """The numbers one coded signal gets; :meth:`to_dict` is what ``metrics.json`` holds."""

    snr_db: float
    segmental_snr_db: float
    segment_frame: int
    segment_clamp_db: tuple[float, float]
    max_abs_error: float
    histogram_edges: np.ndarray
    histogram_counts: np.ndarray
    bits_per_sample: float | None
    bitrate_bps: float | None
    payload_bitrate_bps: float | None
    segmental_snr_unclamped_db: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "snr_db": _json_float(self.snr_db),
            "segmental_snr_db": _json_float(self.segmental_snr_db),
            "segmental_snr_frame_samples": self.segment_frame,
            "segmental_snr_clamp_db": list(self.segment_clamp_db),
            "segmental_snr_unclamped_db": (
                None if self.segmental_snr_unclamped_db is None else _json_float(self.segmental_snr_unclamped_db)
            ),
            "max_abs_error": _json_float(self.max_abs_error, integral=True),
            "error_histogram": {
                "edges": [float(v) for v in self.histogram_edges],
                "counts": [int(v) for v in self.histogram_counts],
            },
            "bits_per_sample": self.bits_per_sample,
            "bitrate_bps": self.bitrate_bps,
            "payload_bitrate_bps": self.payload_bitrate_bps,
        }


def _json_float(value: float, integral: bool = False) -> float | int | str:
    """Finite floats as numbers (ints when ``integral`` and whole); inf/-inf/nan as the strings
    "inf", "-inf", "nan" (JSON has none)."""
    if math.isfinite(value):
        return int(value) if integral and float(value).is_integer() else float(value)
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def compare(
    reference: Any,
    test: Any,
    rate: int,
    *,
    bits_per_sample: float | None = None,
    payload_bytes: int | None = None,
    frame: int | None = None,
    clamp: tuple[float, float] = DEFAULT_CLAMP_DB,
) -> Metrics:
    """Every metric of this module for one reference/test pair."""
    s = np.asarray(reference)
    frames = s.shape[0]
    channels = 1 if s.ndim == 1 else s.shape[1]
    frame = default_frame_length(rate) if frame is None else frame
    edges, counts = error_histogram(reference, test)
    return Metrics(
        snr_db=snr_db(reference, test),
        segmental_snr_db=segmental_snr_db(reference, test, frame=frame, clamp=clamp),
        segment_frame=min(frame, frames),
        segment_clamp_db=(float(clamp[0]), float(clamp[1])),
        max_abs_error=max_abs_error(reference, test),
        histogram_edges=edges,
        histogram_counts=counts,
        bits_per_sample=None if bits_per_sample is None else float(bits_per_sample),
        bitrate_bps=None if bits_per_sample is None else bitrate_bps(bits_per_sample, rate, channels),
        payload_bitrate_bps=None if payload_bytes is None else 8.0 * payload_bytes * rate / frames,
        segmental_snr_unclamped_db=unclamped_segmental_snr_db(reference, test, frame=min(frame, frames)),
    )


_ERR_SPAN = 65535  # largest |s - y| for int16 signals


class MetricsAccumulator:
    """:func:`compare` for integer ``(n, channels)`` signals given block by block (int16 range).

    Feed :meth:`update` with consecutive blocks of the reference and the test signal (any
    sizes, equal per call); :meth:`result` gives the :class:`Metrics`.  ``code_rate``: the rate
    the codes run at when the codec worked at another rate than ``rate`` (the nominal bit rate
    is ``bits_per_sample * code_rate * channels``).
    """

    def __init__(
        self,
        rate: int,
        channels: int,
        *,
        frame: int | None = None,
        clamp: tuple[float, float] = DEFAULT_CLAMP_DB,
        bits_per_sample: float | None = None,
        code_rate: int | None = None,
    ) -> None:
        self.rate, self.channels = rate, channels
        self.code_rate = rate if code_rate is None else code_rate
        self.frame = default_frame_length(rate) if frame is None else frame
        self.clamp = (float(clamp[0]), float(clamp[1]))
        self.bits_per_sample = bits_per_sample
        self.frames = 0
        self._signal = 0
        self._noise = 0
        self._peak = 0
        self._counts = np.zeros(2 * _ERR_SPAN + 1, dtype=np.int64)
        self._seg_sum = 0.0
        self._seg_count = 0
        self._free_sum = 0.0
        self._free_count = 0
        self._carry_s = np.zeros((0, channels), dtype=np.int64)
        self._carry_e = np.zeros((0, channels), dtype=np.int64)

    def update(self, reference: np.ndarray, test: np.ndarray) -> None:
        """Add the next block of the reference and of the test signal."""
        s = np.asarray(reference).astype(np.int64).reshape(len(reference), -1)
        y = np.asarray(test).astype(np.int64).reshape(len(test), -1)
        if s.shape != y.shape or s.shape[1] != self.channels:
            raise InputError(f"metrics: reference block {s.shape} and test block {y.shape} differ (or the channel count)")
        e = s - y
        self.frames += len(s)
        self._signal += int(np.sum(s * s))
        self._noise += int(np.sum(e * e))
        if e.size:
            self._peak = max(self._peak, int(np.max(np.abs(e))))
            self._counts += np.bincount((e + _ERR_SPAN).reshape(-1), minlength=self._counts.size)
        s = np.concatenate([self._carry_s, s])
        e = np.concatenate([self._carry_e, e])
        whole = len(s) // self.frame * self.frame
        if whole:
            self._add_frames(s[:whole], e[:whole], self.frame)
        self._carry_s, self._carry_e = s[whole:], e[whole:]

    def _add_frames(self, s: np.ndarray, e: np.ndarray, frame: int) -> None:
        lo, hi = self.clamp
        es = (s * s).reshape(-1, frame, self.channels).sum(axis=1).astype(np.float64)
        ee = (e * e).reshape(-1, frame, self.channels).sum(axis=1).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            per = 10.0 * np.log10(es / ee)
        per = np.where(ee == 0, hi, np.where(es == 0, lo, per))
        self._seg_sum += float(np.sum(np.clip(per, lo, hi)))
        self._seg_count += per.size
        both = (es > 0) & (ee > 0)
        self._free_sum += float(np.sum(per[both]))
        self._free_count += int(np.count_nonzero(both))

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """``(edges, counts)`` binned as :func:`error_histogram` bins."""
        present = np.flatnonzero(self._counts)
        lo, hi = int(present[0]) - _ERR_SPAN, int(present[-1]) - _ERR_SPAN
        counts = self._counts[present[0] : present[-1] + 1]
        if hi - lo + 1 <= _HIST_UNIT_SPAN:
            return np.arange(lo - 0.5, hi + 1.0, 1.0), counts.copy()
        values = np.arange(lo, hi + 1, dtype=np.float64)
        edges = np.linspace(lo, hi, _HIST_BINS + 1)
        binned, edges = np.histogram(values, bins=edges, weights=counts.astype(np.float64))
        return edges, np.rint(binned).astype(np.int64)

    def result(self, payload_bytes: int | None = None) -> Metrics:
        """The metrics of everything fed so far (``payload_bytes``: the coded size, if known)."""
        if not self.frames:
            raise InputError("metrics: no samples were given")
        if not self._seg_count:  # shorter than one frame: the whole signal is one frame
            self._add_frames(self._carry_s, self._carry_e, len(self._carry_s))
        seg = self._seg_sum / self._seg_count
        edges, counts = self.histogram()
        bits = self.bits_per_sample
        return Metrics(
            snr_db=_ratio_db(float(self._signal), float(self._noise)),
            segmental_snr_db=seg,
            segmental_snr_unclamped_db=self._free_sum / self._free_count if self._free_count else math.nan,
            segment_frame=min(self.frame, self.frames),
            segment_clamp_db=self.clamp,
            max_abs_error=float(self._peak),
            histogram_edges=edges,
            histogram_counts=counts,
            bits_per_sample=None if bits is None else float(bits),
            bitrate_bps=None if bits is None else bitrate_bps(bits, self.code_rate, self.channels),
            payload_bitrate_bps=None if payload_bytes is None else 8.0 * payload_bytes * self.rate / self.frames,
        )
