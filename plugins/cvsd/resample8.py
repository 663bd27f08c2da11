"""Exact integer polyphase resampling by a factor L (8 for CVSD's 8 kHz <-> 64 kHz path).

The filter is the one ``scipy.signal.resample_poly(x, L, 1)`` designs by default,
``firwin(20 L + 1, 1 / L, window=("kaiser", 5.0))`` (161 taps for L = 8, cutoff at the low
rate's Nyquist frequency), quantized to 16-bit coefficients ``c[j]`` in Q1.15 (HALF_EVEN).
With integer coefficients every product and sum is an integer below 2**40, so the float64
dot products below are exact whatever the summation order, and
``scipy.signal.resample_poly(x, L, 1, window=c)`` computes the same sums (its result is
``L * acc`` exactly): the tests use it as the independent reference.

Upsampling (``x`` at the low rate, zero-phase as resample_poly aligns it, ``half = 10 L``)::

    acc[m] = sum_j c[j] * xup[m + half - j],   xup[L i] = x[i], 0 elsewhere
    out[m] = sat16(round(L * acc[m] / 2**15))          (round: the caller's Rounding)

Downsampling (``z`` at the high rate)::

    acc[n] = sum_j c[j] * z[L n + half - j]
    out[n] = sat16(round(acc[n] / 2**15))

Samples outside the signal are zero, as resample_poly's default ``padtype="constant"``.
Both directions stream: :class:`Upsampler` / :class:`Downsampler` keep the last samples of
each channel and hold back the outputs that need samples not yet seen (10 low-rate samples
of lookahead); ``finish`` zero-pads the end.  Any chunking gives the one-shot result.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from inwhale_hw.fixed import QFormat, Rounding, quantize, shift_right

__all__ = ["COEFF_FORMAT", "Downsampler", "Upsampler", "design_filter"]

#: format of the filter coefficients: 16-bit signed, 15 fractional bits
COEFF_FORMAT = QFormat(1, 15)


def design_filter(factor: int) -> np.ndarray:
    """resample_poly's default anti-imaging/anti-aliasing filter, as Q1.15 raw integers."""
    from scipy.signal import firwin  # imported on use: scipy.signal takes ~1 s to import

    taps = firwin(20 * factor + 1, 1.0 / factor, window=("kaiser", 5.0))
    return quantize(taps, COEFF_FORMAT, rounding=Rounding.HALF_EVEN)


def _to_int16(acc: np.ndarray, shift: int, rounding: Rounding) -> np.ndarray:
    return np.clip(shift_right(acc.astype(np.int64), shift, rounding), -32768, 32767)


class Upsampler:
    """Streaming ``L``-fold interpolator of int frames (n, channels) -> (L n, channels)."""

    def __init__(self, factor: int, channels: int, rounding: Rounding) -> None:
        taps = design_filter(factor)
        self.factor, self.rounding = factor, rounding
        self.reach = len(taps) // (2 * factor)  # low-rate samples each side of an output block
        width = 2 * self.reach + 1
        # out[L n + p] = sum_i bank[i, p] * x[n - reach + i]
        bank = np.zeros((width, factor))
        half = len(taps) // 2
        for i in range(width):
            for p in range(factor):
                j = half + p - factor * (i - self.reach)
                if 0 <= j < len(taps):
                    bank[i, p] = taps[j]
        self.bank = bank * factor  # resample_poly's gain L restores the level after zero-stuffing
        self.buffer = np.zeros((self.reach, channels))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed low-rate frames; return every high-rate frame that is complete."""
        self.buffer = np.concatenate([self.buffer, x.astype(np.float64)])
        return self._emit()

    def finish(self) -> np.ndarray:
        """Zero-pad the end and return the remaining high-rate frames."""
        channels = self.buffer.shape[1]
        self.buffer = np.concatenate([self.buffer, np.zeros((self.reach, channels))])
        return self._emit()

    def _emit(self) -> np.ndarray:
        width = 2 * self.reach + 1
        blocks = len(self.buffer) - width + 1
        channels = self.buffer.shape[1]
        if blocks <= 0:
            return np.zeros((0, channels), dtype=np.int64)
        windows = sliding_window_view(self.buffer, width, axis=0)[:blocks]  # (blocks, channels, width)
        acc = windows @ self.bank  # (blocks, channels, factor), exact integers
        self.buffer = self.buffer[blocks:]
        out = acc.transpose(0, 2, 1).reshape(blocks * self.factor, channels)
        return _to_int16(out, COEFF_FORMAT.frac_bits, self.rounding)


class Downsampler:
    """Streaming ``L``-fold decimator of int frames (n, channels) -> (ceil(n / L), channels)."""

    def __init__(self, factor: int, channels: int, rounding: Rounding) -> None:
        self.taps = design_filter(factor)[::-1].astype(np.float64)
        self.factor, self.rounding = factor, rounding
        self.half = len(self.taps) // 2
        self.buffer = np.zeros((self.half, channels))
        self.seen = 0
        self.emitted = 0

    def process(self, z: np.ndarray) -> np.ndarray:
        """Feed high-rate frames; return every low-rate frame that is complete."""
        self.seen += len(z)
        self.buffer = np.concatenate([self.buffer, z.astype(np.float64)])
        return self._emit(self._ready(len(self.buffer)))

    def finish(self) -> np.ndarray:
        """Zero-pad the end and return the remaining low-rate frames (ceil(n / L) in all)."""
        total = -(-self.seen // self.factor)
        remaining = total - self.emitted
        needed = (remaining - 1) * self.factor + len(self.taps) if remaining > 0 else 0
        pad = max(needed - len(self.buffer), 0)
        self.buffer = np.concatenate([self.buffer, np.zeros((pad, self.buffer.shape[1]))])
        return self._emit(remaining)

    def _ready(self, length: int) -> int:
        return max((length - len(self.taps)) // self.factor + 1, 0)

    def _emit(self, count: int) -> np.ndarray:
        channels = self.buffer.shape[1]
        if count <= 0:
            return np.zeros((0, channels), dtype=np.int64)
        windows = sliding_window_view(self.buffer, len(self.taps), axis=0)[: count * self.factor : self.factor]
        acc = windows @ self.taps  # (count, channels), exact integers
        self.buffer = self.buffer[count * self.factor :]
        self.emitted += count
        return _to_int16(acc, COEFF_FORMAT.frac_bits, self.rounding)
