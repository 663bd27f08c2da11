"""Spectrogram PNGs for the listening page (matplotlib, from the ``plot`` extra, Agg canvas).

The picture: channels averaged to mono, scaled to full scale 1.0; a periodic-Hann-windowed
STFT (NumPy ``rfft``) with ``nperseg`` the power of two nearest to 32 ms (256 at 8 kHz,
1024 at 44.1 kHz) and 75 % overlap, one-sided power spectral density
``|X|^2 / (rate * sum w^2)`` (doubled except at DC and Nyquist, as
``scipy.signal.spectrogram(..., detrend=False, scaling="density")``); in dB relative
to full-scale white noise (power 1/2 spread evenly over 0..rate/2), drawn on a fixed colour
range of [-120, 0] dB so the original, decoded and residual pictures of one input are
directly comparable (the residual is drawn at unity gain, whatever gain its player has).

matplotlib is optional: :func:`matplotlib_missing` says why it cannot be used, and the page
builder then leaves the pictures out and says so on the page.
"""

from __future__ import annotations

import importlib
import math
import os

import numpy as np

from ..audio.atomic import atomic_path

__all__ = ["matplotlib_missing", "save_spectrogram", "stft_psd", "DB_RANGE"]

DB_RANGE = (-120.0, 0.0)


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


def save_spectrogram(path: str | os.PathLike, samples: np.ndarray, rate: int, title: str) -> None:
    """Draw the spectrogram of integer ``samples`` ((n,) or (n, ch), int16 scale) to a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = np.asarray(samples, dtype=np.float64) / 32768.0
    if x.ndim == 2:
        x = x.mean(axis=1)
    nperseg = _nperseg(rate, len(x))
    f, t, sxx = stft_psd(x, rate, nperseg)
    reference = 0.5 / (rate / 2)  # PSD of full-scale white noise: power 1/2 over 0..rate/2
    db = 10.0 * np.log10(np.maximum(sxx / reference, 1e-30))
    fig = Figure(figsize=(5.6, 2.2), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.11, 0.2, 0.76, 0.68))
    cax = fig.add_axes((0.89, 0.2, 0.025, 0.68))
    hop = (t[1] - t[0]) if len(t) > 1 else nperseg / rate
    extent = (t[0] - hop / 2, t[-1] + hop / 2, 0.0, f[-1] / 1000.0)
    image = ax.imshow(
        db, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=DB_RANGE[0], vmax=DB_RANGE[1], interpolation="nearest",
    )
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("kHz", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.ax.tick_params(labelsize=7)
    colorbar.set_label("dB", fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
