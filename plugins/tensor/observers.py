"""Range observers: the clipping range ``[lo, hi]`` each scale of a tensor quantizer covers.

Every function works on *rows*: a 2-D float64 array ``(G, n)`` whose row ``g`` holds the values
that share scale ``g`` (one row per tensor, channel or group; the quantizer does the
reshaping).  Results are per-row arrays ``lo``, ``hi`` of shape ``(G,)``.  ``symmetric``
observers return ``lo = -c``, ``hi = c``.

* :func:`minmax` -- ``lo = min(x)``, ``hi = max(x)`` (symmetric: ``c = max|x|``), as PyTorch's
  ``MinMaxObserver``; across calls the running extremes (:func:`merge_minmax`).
* :func:`moving_average` -- exponential moving average of the per-call min and max,
  ``r <- r + m (new - r)`` with momentum ``m`` (PyTorch's ``MovingAverageMinMaxObserver``
  with ``averaging_constant = m``); the first call initialises ``r``.
* :func:`percentile` -- ``c = P_p(|x|)`` (symmetric) or ``lo = P_{100-p}(x)``, ``hi = P_p(x)``
  with NumPy's default ``"linear"`` interpolation (Hyndman & Fan definition 7).
* :func:`mse_search` -- the range minimising the squared quantization error over a grid of
  clip ratios ``r`` applied to a base range ``[lo0, hi0]`` (candidates ``[r lo0, r hi0]``):
  first ``r = k/N`` for ``k = 1..N``; then, around the best ``r*``, ``r* + j/(10 N)`` for
  ``j = -10..10`` (kept within ``(0, 1]``).  ``N + 20`` evaluations per call; each row picks
  its own ratio; a candidate replaces the best so far only when its error is strictly
  smaller (so equal errors keep the smaller coarse ratio).  The error of a candidate is
  computed by the caller's quantize-dequantize function, so it is the error of exactly the
  encoding that will be used.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["minmax", "merge_minmax", "moving_average", "percentile", "mse_search", "REFINE_STEPS"]

#: the refinement pass of :func:`mse_search` tries ``r* + j/(10 N)`` for ``j`` in this range
REFINE_STEPS = range(-10, 11)


def minmax(rows: np.ndarray, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(min, max)``; symmetric: ``(-max|x|, max|x|)``."""
    if symmetric:
        c = np.max(np.abs(rows), axis=1)
        return -c, c
    return np.min(rows, axis=1), np.max(rows, axis=1)


def merge_minmax(old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Running extremes of two observations."""
    return np.minimum(old[0], new[0]), np.maximum(old[1], new[1])


def moving_average(
    old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray], momentum: float
) -> tuple[np.ndarray, np.ndarray]:
    """``old + momentum * (new - old)`` for both ends of the range."""
    return old[0] + momentum * (new[0] - old[0]), old[1] + momentum * (new[1] - old[1])


def percentile(rows: np.ndarray, p: float, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-row percentile range (``p`` in percent, linear interpolation)."""
    if symmetric:
        c = np.percentile(np.abs(rows), p, axis=1)
        return -c, c
    return np.percentile(rows, 100.0 - p, axis=1), np.percentile(rows, p, axis=1)


def mse_search(
    lo0: np.ndarray,
    hi0: np.ndarray,
    sse: Callable[[np.ndarray, np.ndarray], np.ndarray],
    grid: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(r lo0, r hi0)`` with the ratio ``r`` minimising ``sse(lo, hi)`` (see module doc).

    ``sse(lo, hi)`` returns the per-row sum of squared errors of quantizing with that range.
    """
    def scan(ratios: list[np.ndarray], best_r: np.ndarray, best_e: np.ndarray) -> None:
        for r in ratios:
            err = sse(r * lo0, r * hi0)
            better = err < best_e
            best_r[better] = r[better]
            best_e[better] = err[better]

    shape = np.shape(lo0)
    best_r = np.ones(shape)
    best_e = np.full(shape, np.inf)
    scan([np.full(shape, k / grid) for k in range(1, grid + 1)], best_r, best_e)
    center = best_r.copy()
    fine = [center + j / (10 * grid) for j in REFINE_STEPS if j]
    scan([np.where((r > 0) & (r <= 1), r, center) for r in fine], best_r, best_e)
    return best_r * lo0, best_r * hi0
