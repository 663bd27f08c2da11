"""Per-tensor activation observers: streaming, constant memory in the number of batches.

Each observer takes float32 batches with :meth:`update` and gives the clipping range
``(lo, hi)`` (float32 scalars) with :meth:`range`:

* ``minmax``: ``lo = min x``, ``hi = max x`` over all batches (NaN ignored); symmetric:
  ``(-m, m)``, ``m = max(|lo|, |hi|)``.  Equal to onnxruntime's ``MinMaxCalibrater``.
* ``moving_average``: ``r_1 = r(batch 1)``, ``r_k = r_{k-1} + m (r(batch k) - r_{k-1})`` for
  both ends (PyTorch's ``MovingAverageMinMaxObserver``, ``averaging_constant = m``).
* ``percentile``: the ``p``-th percentile of the histogram (:func:`~inwhale_hw.ptq.histogram.
  percentile_range`); symmetric uses the histogram of ``|x|``.
* ``entropy``: TensorRT's KL-divergence threshold search over the histogram
  (:func:`~inwhale_hw.ptq.histogram.entropy_range`).
* ``mse``: the clip ratio of the observed range minimising the histogram-weighted squared
  quantization error at the activation type's number of levels (:func:`~inwhale_hw.ptq.histogram.mse_range`).

Histogram observers either merge batch by batch (:meth:`Histogram.update`) or, when
``two_pass`` is set, take all batches in two passes (:func:`~inwhale_hw.ptq.histogram.
collect_two_pass`), which gives onnxruntime's ``quantize_static`` histogram exactly.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .histogram import Histogram, entropy_range, mse_range, percentile_range

__all__ = ["RangeObserver", "MinMaxObserver", "MovingAverageObserver", "HistogramObserver", "make_observer"]


class RangeObserver:
    """Base: ``update(batch)`` then ``range() -> (lo, hi)``."""

    def update(self, x: np.ndarray) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def range(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError


class MinMaxObserver(RangeObserver):
    def __init__(self, symmetric: bool = False):
        self.symmetric = symmetric
        self.lo = self.hi = None

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        if not x.size or np.all(np.isnan(x)):
            return
        mn, mx = np.nanmin(x), np.nanmax(x)
        self.lo = mn if self.lo is None else np.minimum(self.lo, mn)
        self.hi = mx if self.hi is None else np.maximum(self.hi, mx)

    def range(self):
        if self.lo is None:
            raise ParameterError("observer saw no data: calibrate with at least one non-empty batch")
        if self.symmetric:
            m = np.nanmax([np.abs(self.lo), np.abs(self.hi)], axis=0)
            return -m, m
        return self.lo, self.hi


class MovingAverageObserver(MinMaxObserver):
    def __init__(self, momentum: float, symmetric: bool = False):
        super().__init__(symmetric)
        self.momentum = momentum

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        if not x.size or np.all(np.isnan(x)):
            return
        mn, mx = np.nanmin(x), np.nanmax(x)
        if self.lo is None:
            self.lo, self.hi = mn, mx
        else:
            m = x.dtype.type(self.momentum)
            self.lo = self.lo + m * (mn - self.lo)
            self.hi = self.hi + m * (mx - self.hi)


class HistogramObserver(RangeObserver):
    """Histogram-based ranges (``method`` percentile, entropy or mse)."""

    def __init__(self, method: str, symmetric: bool, bins: int, percentile: float = 99.999,
                 quantized_bins: int = 128, levels: int = 256):
        self.method, self.symmetric = method, symmetric
        self.percentile, self.quantized_bins, self.levels = percentile, quantized_bins, levels
        self.hist = Histogram(absolute=(method == "percentile" and symmetric), bins=bins)

    def update(self, x: np.ndarray) -> None:
        self.hist.update(x)

    def range(self):
        if self.hist.hist is None:
            raise ParameterError("observer saw no data: calibrate with at least one non-empty batch")
        if self.method == "percentile":
            return percentile_range(self.hist, self.percentile, self.symmetric)
        if self.method == "entropy":
            return entropy_range(self.hist, self.quantized_bins)
        return mse_range(self.hist, self.levels)


def make_observer(method: str, config) -> RangeObserver:
    """The observer of ``method`` with the settings of a :class:`~inwhale_hw.ptq.config.PTQConfig`."""
    sym = config.observe_symmetric
    if method == "minmax":
        return MinMaxObserver(sym)
    if method == "moving_average":
        return MovingAverageObserver(config.momentum, sym)
    if method in ("percentile", "entropy", "mse"):
        from .qparams import QTYPES

        levels = 1 << QTYPES[config.activation_type][2]
        return HistogramObserver(method, sym, config.bins, config.percentile, config.num_quantized_bins, levels)
    raise ParameterError(f"calibration method {method!r} is not one of minmax, moving_average, percentile, entropy, mse")
