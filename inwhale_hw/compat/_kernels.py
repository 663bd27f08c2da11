"""Optional numba kernels of the ``audioop`` drop-in's sequential loops (the ``numba`` extra).

Two loops are sequential in audioop: ``ratecv``'s pre-filter with ``weightB != 0`` (each
output is truncated before it feeds the next) and the ``double`` running sums of ``avg`` /
``rms`` once partial sums pass 2**53 (32-bit samples at full scale), where each addition
rounds.  The kernels perform the same IEEE double operations in the same order as
CPython's C loops and as the NumPy fallbacks (:mod:`._ratecv`, :mod:`._measure`); numba
without fast-math neither reassociates nor fuses multiply-adds, hence the same bits.

``INWHALE_HW_NUMBA=0`` in the environment (read at import) forces the fallback.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ENABLED", "prefilter", "sequential_sum"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

if numba is not None:

    @numba.njit(cache=True, nogil=True)
    def prefilter(samples, shift, start, weight_a, weight_b, out):
        """``out[k] = y[k] = trunc((a (x[k] << shift) + b y[k-1]) / (a + b))`` per column."""
        total = weight_a + weight_b
        for chan in range(samples.shape[1]):
            previous = start[chan]
            for k in range(samples.shape[0]):
                value = np.int64(samples[k, chan]) << shift
                previous = np.int64((weight_a * np.float64(value) + weight_b * np.float64(previous)) / total)
                out[k, chan] = previous

    @numba.njit(cache=True, nogil=True)
    def sequential_sum(values, square):
        """``total += v`` (``v * v`` when ``square``) in order, in a double."""
        total = 0.0
        for k in range(values.size):
            v = np.float64(values[k])
            total += v * v if square else v
        return total

else:  # pragma: no cover - numba missing

    def prefilter(samples, shift, start, weight_a, weight_b, out):
        raise RuntimeError("numba is not installed")

    def sequential_sum(values, square):
        raise RuntimeError("numba is not installed")
