"""Spectrogram PNGs for the listening page (matplotlib, from the ``plot`` extra, Agg canvas).

The picture: channels averaged to mono (the page says so), scaled to full scale 1.0; a periodic-Hann-windowed
STFT (NumPy ``rfft``) with ``nperseg`` the power of two nearest to 32 ms (256 at 8 kHz,
1024 at 44.1 kHz) and 75 % overlap, one-sided power spectral density
``|X|^2 / (rate * sum w^2)`` (doubled except at DC and Nyquist, as
``scipy.signal.spectrogram(..., detrend=False, scaling="density")``); in dB relative
to full-scale white noise (power 1/2 spread evenly over 0..rate/2), drawn on a fixed colour
range of [-120, 0] dB so the original, decoded and residual pictures of one input are
directly comparable (the residual is drawn at unity gain, whatever gain its player has).
The STFT is computed block by block (:class:`SpectrogramAccumulator`) and long inputs get a
decimated time axis: at most :data:`MAX_COLUMNS` columns, each the mean power of a group of
consecutive STFT frames; nothing holds the whole signal or its whole STFT.

matplotlib is optional: :func:`matplotlib_missing` says why it cannot be used, and the page
builder then leaves the pictures out and says so on the page.
"""

from __future__ import annotations

import importlib
import math
import os

import numpy as np

from ..audio.atomic import atomic_path

__all__ = [
    "matplotlib_missing", "save_spectrogram", "draw_spectrogram", "stft_psd", "SpectrogramAccumulator",
    "DB_RANGE", "MAX_COLUMNS",
]

DB_RANGE = (-120.0, 0.0)
#: most time columns an image gets (twice the 900-pixel figure's width); longer inputs average
#: groups of STFT frames per column.  Drawing costs memory in proportion (matplotlib resamples
#: in float64 RGBA): 4000 columns at 1024-point frames took 180 MB to draw, 1800 take 87 MB.
MAX_COLUMNS = 1800


def matplotlib_missing() -> str | None:
    """``None`` when matplotlib's Agg canvas can be imported, else the reason it cannot."""
    try:
        importlib.import_module("matplotlib.backends.backend_agg")
        importlib.import_module("matplotlib.figure")
    except ImportError as exc:
        return f"matplotlib is not installed ({exc}); install the plot extra: pip install 'inwhale_hw[plot]'"
    return None


def _nperseg(rate: int, frames: int) -> int:
    n = 2 ** max(4, round(math.log2(max(rate * 0.032, 16))))
    return int(min(n, max(16, 2 ** int(math.log2(max(frames, 16))))))


def stft_psd(x: np.ndarray, rate: int, nperseg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(freqs, times, psd)`` of 1-D ``x``: periodic Hann, hop ``nperseg // 4``, one-sided density."""
    hop = nperseg // 4
    if len(x) < nperseg:
        x = np.pad(x, (0, nperseg - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::hop]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nperseg) / nperseg)
    spectrum = np.fft.rfft(frames * window, axis=1)
    psd = (np.abs(spectrum) ** 2 / (rate * np.sum(window**2))).T
    psd[1 : (nperseg + 1) // 2] *= 2.0  # one-sided: fold negative frequencies (not DC/Nyquist)
    freqs = np.fft.rfftfreq(nperseg, 1.0 / rate)
    times = (np.arange(frames.shape[0]) * hop + nperseg / 2) / rate
    return freqs, times, psd


class SpectrogramAccumulator:
    """The STFT of :func:`stft_psd` computed block by block, with a bounded time axis.

    Feed integer blocks ``(n, channels)`` (int16 scale) of a signal of ``frames`` frames; the
    channels are averaged.  With ``T`` STFT frames, consecutive groups of ``g = ceil(T /
    max_columns)`` frames are averaged (power) into one column, so an image never has more than
    ``max_columns`` columns and memory is ``max_columns x (nperseg / 2 + 1)`` floats whatever
    the length.  ``g = 1`` (inputs up to ``max_columns`` frames) gives exactly :func:`stft_psd`.
    """

    def __init__(self, rate: int, frames: int, max_columns: int = MAX_COLUMNS) -> None:
        self.rate, self.frames = rate, frames
        self.nperseg = _nperseg(rate, frames)
        self.hop = self.nperseg // 4
        self.count = (max(frames, self.nperseg) - self.nperseg) // self.hop + 1
        self.group = -(-self.count // max_columns)
        self.columns = -(-self.count // self.group)
        self._sum = np.zeros((self.columns, self.nperseg // 2 + 1))
        self._n = np.zeros(self.columns)
        self._buf = np.zeros(0)
        self._next = 0  # next STFT frame; the buffer starts at its first sample
        self._window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.nperseg) / self.nperseg)

    def update(self, block: np.ndarray) -> None:
        x = np.asarray(block, dtype=np.float64) / 32768.0
        self._buf = np.concatenate([self._buf, x.mean(axis=1) if x.ndim == 2 else x])
        ready = min(self.count - self._next, (len(self._buf) - self.nperseg) // self.hop + 1)
        if ready > 0:
            self._add(self._buf, ready)
            self._buf = self._buf[ready * self.hop :]

    def _add(self, x: np.ndarray, ready: int) -> None:
        frames = np.lib.stride_tricks.sliding_window_view(x, self.nperseg)[:: self.hop][:ready]
        psd = np.abs(np.fft.rfft(frames * self._window, axis=1)) ** 2 / (self.rate * np.sum(self._window**2))
        psd[:, 1 : (self.nperseg + 1) // 2] *= 2.0
        cols = (self._next + np.arange(ready)) // self.group
        np.add.at(self._sum, cols, psd)
        np.add.at(self._n, cols, 1)
        self._next += ready

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(freqs, column centre times, psd (freqs, columns))``."""
        if self._next < self.count:  # shorter than one segment: zero-padded, as stft_psd does
            self._add(np.pad(self._buf, (0, max(0, self.nperseg - len(self._buf)))), self.count - self._next)
        psd = (self._sum / np.maximum(self._n, 1)[:, None]).T
        first = np.arange(self.columns) * self.group
        centre = (first + (np.minimum(first + self.group, self.count) - 1)) / 2
        times = (centre * self.hop + self.nperseg / 2) / self.rate
        return np.fft.rfftfreq(self.nperseg, 1.0 / self.rate), times, psd


def save_spectrogram(path: str | os.PathLike, samples: np.ndarray, rate: int, title: str) -> None:
    """Draw the spectrogram of integer ``samples`` ((n,) or (n, ch), int16 scale) to a PNG."""
    acc = SpectrogramAccumulator(rate, len(samples))
    acc.update(samples)
    draw_spectrogram(path, acc, title)


def draw_spectrogram(path: str | os.PathLike, acc: SpectrogramAccumulator, title: str) -> None:
    """Draw what ``acc`` accumulated to a PNG (900 x 340 px, colour bar labelled)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    f, t, sxx = acc.result()
    rate, nperseg = acc.rate, acc.nperseg
    reference = 0.5 / (rate / 2)  # PSD of full-scale white noise: power 1/2 over 0..rate/2
    db = (10.0 * np.log10(np.maximum(sxx / reference, 1e-30))).astype(np.float32)
    fig = Figure(figsize=(9.0, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.16, 0.8, 0.72))
    cax = fig.add_axes((0.885, 0.16, 0.018, 0.72))
    step = (t[1] - t[0]) if len(t) > 1 else nperseg / rate
    extent = (t[0] - step / 2, t[-1] + step / 2, 0.0, f[-1] / 1000.0)
    image = ax.imshow(
        db, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=DB_RANGE[0], vmax=DB_RANGE[1], interpolation="nearest",
    )
    ax.set_xlabel("time (s)", fontsize=9)
    ax.set_ylabel("kHz", fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.ax.tick_params(labelsize=8)
    colorbar.set_label("dB re full-scale white noise", fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", pad_inches=0.08)
