"""Histogram calibration: the histogram a tensor's values build, and the ranges chosen from it.

The collection and the threshold searches restate onnxruntime's ``HistogramCollector``
(``onnxruntime/quantization/calibrate.py``, checked against onnxruntime 1.32.0) operation for
operation, so that the same float32 values in the same batches give the same float32 range.

Collection (:class:`Histogram`), per tensor, for a batch ``x`` (float32, flattened):

* signed (``entropy``, asymmetric ``percentile``): threshold ``T = max(|min x|, |max x|)``;
  the first batch gives ``np.histogram(x, B, range=(-T, T))``.  A later batch with
  ``T' <= T`` adds its histogram over the same edges; with ``T' > T`` the histogram widens by
  ``k = floor((T' - T) / s) + 1`` bins of stride ``s = 2T / B`` on each side (``T <- T + k s``),
  the new batch is histogrammed over the wider range and the old counts are added to the middle.
* absolute (symmetric ``percentile``): ``|x|`` over ``[min|x|, max|x|]`` in ``B`` bins; later batches
  append bins of the first width up to their maximum (``np.arange`` edges).

onnxruntime's ``quantize_static`` hands the calibrator every batch at once, so its histogram is
the *single-batch* one over all calibration data.  :class:`TwoPassHistogram` gets that result in
constant memory: one pass for the extremes, a second pass accumulating ``np.histogram`` over the
final fixed edges (``np.histogram`` bins each element independently of the others, so the sum
of the per-batch histograms equals the histogram of the concatenation).

Range selection:

* :func:`percentile_range`: ``cdf = cumsum(h / sum h)``; symmetric: ``t = e[searchsorted(cdf,
  p/100)]``, range ``(-t, t)``; otherwise ``lo = e[searchsorted(cdf, c)]``,
  ``hi = e[searchsorted(cdf, 1 - c)]`` with ``c = (100 - p) / 200``; clamped to the observed
  ``[min, max]``.
* :func:`entropy_range` (TensorRT's KL search, Migacz 2017): for every window
  ``[z - i, z + i + 1)`` of bins around the centre bin ``z = B // 2`` (``i`` from ``Q // 2``
  to ``z``), ``P`` = the window with the outside counts added to its end bins, ``Q`` = the
  window merged into ``Q`` quantized bins and spread back uniformly over the non-empty bins
  (integer division), both smoothed (zeros -> ``1e-4``, the mass taken evenly off the non-zero
  bins); the window minimising ``KL(P || Q) = sum P log(P / Q)`` (float32, normalised) wins.
* :func:`mse_range`: the range ``[r lo0, r hi0]`` (``lo0 = min(x_min, 0)``, ``hi0 =
  max(x_max, 0)``; for a histogram of ``|x|``: ``-+max|x|``), ``r = k / 100`` for ``k = 1..100``,
  minimising the expected squared error ``sum_j h_j (c_j - Q_r(c_j))^2`` over the bin centres
  ``c_j``, where ``Q_r`` is the uniform quantizer with ``L`` levels, step ``(hi - lo) / (L - 1)``
  and zero point ``rint(-lo / step)``, clipping included; the first (smallest) ``r`` wins ties.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

__all__ = ["Histogram", "TwoPassHistogram", "percentile_range", "entropy_range", "mse_range"]


@dataclass
class Histogram:
    """Counts, edges (float32) and the observed extremes of one tensor."""

    absolute: bool
    bins: int = 128
    hist: np.ndarray | None = None
    edges: np.ndarray | None = None
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    threshold: np.ndarray | None = None

    def update(self, x: np.ndarray) -> None:
        """Add one batch (merging as onnxruntime's collector does for a later ``collect`` call)."""
        x = np.asarray(x).ravel()
        mn, mx = _extremes(x)
        if self.absolute:
            self._update_absolute(np.absolute(x), mn, mx)
        else:
            self._update_signed(x, mn, mx)

    def _update_absolute(self, a: np.ndarray, mn, mx) -> None:
        if self.hist is None:
            hist, edges = np.histogram(a, bins=self.bins)
            self.hist, self.edges, self.lo, self.hi = hist, edges.astype(a.dtype), mn, mx
            return
        edges = self.edges
        amax = np.nanmax(a)
        if amax > edges[-1]:
            width = edges[1] - edges[0]
            edges = np.hstack((edges, np.arange(edges[-1] + width, amax + width, width)))
        hist, edges = np.histogram(a, bins=edges)
        hist[: len(self.hist)] += self.hist
        self.hist, self.edges = hist, edges.astype(a.dtype)
        self.lo, self.hi = min(self.lo, mn), max(self.hi, mx)

    def _update_signed(self, x: np.ndarray, mn, mx) -> None:
        t_new = np.array(max(abs(mn), abs(mx)), dtype=x.dtype)
        if self.hist is None:
            self.hist, self.edges = np.histogram(x, self.bins, range=(-t_new, t_new))
            self.lo, self.hi, self.threshold = mn, mx, t_new
            return
        old, t_old = self.hist, self.threshold
        if t_new <= t_old:
            hist, _ = np.histogram(x, len(old), range=(-t_old, t_old))
            self.hist = hist + old
        elif t_old == 0:
            hist, self.edges = np.histogram(x, len(old), range=(-t_new, t_new))
            self.hist, self.threshold = hist + old, t_new
        else:
            stride = 2 * t_old / len(old)
            k = int((t_new - t_old) // stride + 1)
            n = len(old) + 2 * k
            t = k * stride + t_old
            hist, self.edges = np.histogram(x, n, range=(-t, t))
            hist[k : n - k] += old
            self.hist, self.threshold = hist, t
        self.lo, self.hi = min(self.lo, mn), max(self.hi, mx)


def _extremes(x: np.ndarray):
    if x.size:
        return np.nanmin(x), np.nanmax(x)
    return np.array(0, dtype=x.dtype), np.array(0, dtype=x.dtype)


class TwoPassHistogram:
    """The one-batch histogram of all batches in constant memory (two passes, module doc).

    Pass 1: :meth:`first` on every batch; then :meth:`second` on the same batches in any
    order; :meth:`result` gives the :class:`Histogram`.
    """

    def __init__(self, absolute: bool, bins: int):
        self.absolute, self.bins = absolute, bins
        self.lo = self.hi = self.amin = self.amax = None
        self.dtype = np.dtype(np.float32)
        self.edges = self.range = self.counts = None

    def first(self, x: np.ndarray) -> None:
        x = np.asarray(x).ravel()
        self.dtype = x.dtype
        if not x.size:
            return
        a = np.absolute(x)
        stats = (np.nanmin(x), np.nanmax(x), np.nanmin(a), np.nanmax(a))
        if self.lo is None:
            self.lo, self.hi, self.amin, self.amax = stats
        else:
            self.lo, self.hi = min(self.lo, stats[0]), max(self.hi, stats[1])
            self.amin, self.amax = min(self.amin, stats[2]), max(self.amax, stats[3])

    def _freeze(self) -> None:
        if self.lo is None:
            self.lo = self.hi = self.amin = self.amax = np.array(0, dtype=self.dtype)
        if self.absolute:  # np.histogram's own edges for data spanning [min|x|, max|x|]
            _, self.edges = np.histogram(np.array([self.amin, self.amax], dtype=self.dtype), bins=self.bins)
        else:
            t = np.array(max(abs(self.lo), abs(self.hi)), dtype=self.dtype)
            self.range = (-t, t)

    def second(self, x: np.ndarray) -> None:
        if self.edges is None and self.range is None:
            self._freeze()
        x = np.asarray(x).ravel()
        if self.absolute:
            c, _ = np.histogram(np.absolute(x), bins=self.edges)
        else:
            c, self.edges = np.histogram(x, self.bins, range=self.range)
        self.counts = c if self.counts is None else self.counts + c

    def result(self) -> Histogram:
        h = Histogram(self.absolute, self.bins, self.counts, self.edges.astype(self.dtype), self.lo, self.hi)
        if self.range is not None:
            h.threshold = self.range[1]
        return h


def percentile_range(h: Histogram, percentile: float, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` at ``percentile`` of the histogram's CDF (see module doc)."""
    hist, edges = h.hist, h.edges
    cdf = np.cumsum(hist / hist.sum())
    if symmetric:
        t = np.array(edges[np.searchsorted(cdf, percentile / 100.0)], dtype=edges.dtype)
        lo, hi = -t, t
    else:
        cut = (100.0 - percentile) / 200.0
        lo = np.array(edges[np.searchsorted(cdf, cut)], dtype=edges.dtype)
        hi = np.array(edges[np.searchsorted(cdf, 1.0 - cut)], dtype=edges.dtype)
    if lo < h.lo:
        lo = h.lo
    if hi > h.hi:
        hi = h.hi
    return lo, hi


def _smooth(p: np.ndarray, eps: float = 0.0001) -> np.ndarray | None:
    zeros = (p == 0).astype(np.float32)
    nonzeros = (p != 0).astype(np.float32)
    n_zeros = zeros.sum()
    n_nonzeros = p.size - n_zeros
    if not n_nonzeros:
        return None
    eps1 = eps * float(n_zeros) / float(n_nonzeros)
    out = p.astype(np.float32)
    out += eps * zeros + (-eps1) * nonzeros
    return out


def _kl(p: np.ndarray, q: np.ndarray) -> np.float32:
    """``sum p log(p / q)`` of the normalised float32 distributions (inf where ``q = 0 < p``)."""
    p = p.astype(np.float32)
    p = 1.0 * p / np.sum(p, keepdims=True)
    q = q.astype(np.float32)
    q = 1.0 * q / np.sum(q, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = p * np.log(p / q)
    terms[(p == 0) & (q >= 0)] = 0
    terms[~((p > 0) & (q > 0))] = np.inf
    return np.sum(terms).astype(p.dtype)


def entropy_range(h: Histogram, quantized_bins: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """The KL-minimising window's edges ``(lo, hi)``, clamped to the observed extremes."""
    hist, edges = h.hist, h.edges
    n = hist.size
    zero = n // 2
    half = quantized_bins // 2
    dtype = edges.dtype
    kl = np.zeros(zero - half + 1)
    thresholds = [(np.array(0, dtype=dtype), np.array(0, dtype=dtype))] * kl.size
    for i in range(half, zero + 1):
        start, end = zero - i, min(zero + i + 1, n)
        thresholds[i - half] = (edges[start], edges[end])
        window = copy.deepcopy(hist[start:end])
        p = window.copy()
        p[0] += sum(hist[:start])
        p[-1] += sum(hist[end:])
        nonzeros = (p != 0).astype(np.int64)
        merged = window.size // quantized_bins
        qbins = np.zeros(quantized_bins, dtype=np.int64)
        for j in range(quantized_bins):
            qbins[j] = sum(window[j * merged : (j + 1) * merged])
        qbins[-1] += sum(window[quantized_bins * merged :])
        q = np.zeros(p.size, dtype=np.int64)
        for j in range(quantized_bins):
            norm = sum(nonzeros[j * merged : (j + 1) * merged])
            if norm != 0:
                q[j * merged : (j + 1) * merged] = qbins[j] / norm
        ps, qs = _smooth(p), _smooth(q)
        kl[i - half] = np.inf if ps is None or qs is None else np.array(_kl(ps, qs), dtype=dtype)
    lo, hi = thresholds[int(np.argmin(kl))]
    if lo < h.lo:
        lo = h.lo
    if hi > h.hi:
        hi = h.hi
    return lo, hi


def mse_range(h: Histogram, levels: int, grid: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``(r lo0, r hi0)`` minimising the histogram-weighted squared error (module doc)."""
    centres = ((h.edges[:-1].astype(np.float64) + h.edges[1:]) * 0.5)
    counts = h.hist.astype(np.float64)
    if h.absolute:
        centres, counts = np.concatenate([centres, -centres]), np.concatenate([counts, counts])
        lo0, hi0 = -float(h.edges[-1]), float(h.edges[-1])
    else:
        lo0, hi0 = min(float(h.lo), 0.0), max(float(h.hi), 0.0)
    if hi0 - lo0 <= 0:
        return np.array(lo0, dtype=h.edges.dtype), np.array(hi0, dtype=h.edges.dtype)
    r = np.arange(1, grid + 1)[:, None] / grid
    lo, hi = r * lo0, r * hi0
    step = (hi - lo) / (levels - 1)
    zero = np.rint(-lo / step)
    q = (np.clip(np.rint(centres[None, :] / step) + zero, 0, levels - 1) - zero) * step
    err = (counts[None, :] * (centres[None, :] - q) ** 2).sum(axis=1)
    best = float(r[int(np.argmin(err)), 0])
    return np.array(best * lo0, dtype=h.edges.dtype), np.array(best * hi0, dtype=h.edges.dtype)
