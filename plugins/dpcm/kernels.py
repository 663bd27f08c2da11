"""Optional numba kernels for the DPCM recursions of :mod:`.loops` (the ``numba`` extra).

The same three loops as :mod:`.loops` (encoder; decoder's Jayant step; decoder's general
predictor), on int64 arrays, compiled with ``cache=True``.  They give the same bits as the
Python-integer loops whenever every intermediate fits int64, which :func:`fits_int64` checks
from the design: ``sum |c_i| * 2^15 + |bias|`` for the predictor sum (coefficients may be up to
2^45 raw, so a long high-precision predictor can exceed int64 and then the exact Python loop
runs); levels (< 2^19 raw) times steps (< 2^24) and steps times multipliers (< 2^16) always
fit.  Integer ``//`` and ``>>`` in numba floor like Python's.

``INWHALE_HW_NUMBA=0`` in the environment (read at import) forces the Python paths.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["ENABLED", "fits_int64", "encode_channel", "residuals_adaptive", "predict_channel"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

_LIMIT = 1 << 62


def fits_int64(d: Any) -> bool:
    """True if the design's predictor sum and level products stay below 2^62 in magnitude."""
    predictor = sum(abs(c) for c in d.coeffs) * 32768 + abs(d.predict_bias)
    return predictor < _LIMIT and max(abs(v) for v in d.levels) * (max(d.step_max, d.step) + 1) < _LIMIT


if numba is not None:
    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _sat16(y):
        return 32767 if y > 32767 else (-32768 if y < -32768 else y)

    @_jit
    def _predict(coeffs, hist, pbias, shift):
        acc = 0
        for i in range(coeffs.size):
            acc += coeffs[i] * hist[i]
        return (acc + pbias) >> shift

    @_jit
    def _push(hist, y):
        for i in range(hist.size - 1, 0, -1):
            hist[i] = hist[i - 1]
        if hist.size:
            hist[0] = y

    @_jit
    def _adapt(step, k, mults, mshift, mbias, smin, smax):
        step = (step * mults[k if k >= 0 else -1 - k] + mbias) >> mshift
        return smin if step < smin else (smax if step > smax else step)

    @_jit
    def encode_kernel(xs, hist, step, coeffs, shift, pbias, levels, lshift, lbias, mults, adaptive, mshift, mbias,
                      smin, smax):
        """:func:`.loops.encode_channel` on arrays: (k, y, step); ``hist`` is updated in place."""
        n = xs.size
        top = levels.size - 1
        half = levels.size // 2
        ks = np.empty(n, np.int64)
        ys = np.empty(n, np.int64)
        fixed = (levels * step + lbias) >> lshift
        for t in range(n):
            p = _predict(coeffs, hist, pbias, shift)
            e = xs[t] - p
            if not adaptive:
                j = np.searchsorted(fixed, e)
                has_low = j > 0
                has_high = j <= top
                low = fixed[j - 1] if has_low else 0
                high = fixed[j] if has_high else 0
            else:
                j = np.searchsorted(levels, (e << lshift) // step)
                while j > 0 and (levels[j - 1] * step + lbias) >> lshift >= e:
                    j -= 1
                while j <= top and (levels[j] * step + lbias) >> lshift < e:
                    j += 1
                has_low = j > 0
                has_high = j <= top
                low = (levels[j - 1] * step + lbias) >> lshift if has_low else 0
                high = (levels[j] * step + lbias) >> lshift if has_high else 0
            if (not has_high) or (has_low and (e - low < high - e or (e - low == high - e and abs(low) <= abs(high)))):
                k = j - 1
                r = low
            else:
                k = j
                r = high
            y = _sat16(p + r)
            _push(hist, y)
            k -= half
            if adaptive:
                step = _adapt(step, k, mults, mshift, mbias, smin, smax)
            ks[t] = k
            ys[t] = y
        return ks, ys, step

    @_jit
    def residuals_kernel(index, step, levels, lshift, lbias, mults, mshift, mbias, smin, smax):
        half = levels.size // 2
        out = np.empty(index.size, np.int64)
        for t in range(index.size):
            i = index[t]
            out[t] = (levels[i] * step + lbias) >> lshift
            step = _adapt(step, i - half, mults, mshift, mbias, smin, smax)
        return out, step

    @_jit
    def predict_kernel(resid, hist, coeffs, pbias, shift):
        out = np.empty(resid.size, np.int64)
        for t in range(resid.size):
            y = _sat16(_predict(coeffs, hist, pbias, shift) + resid[t])
            _push(hist, y)
            out[t] = y
        return out


def _arr(values: Any) -> np.ndarray:
    return np.asarray(values if values is not None else (), dtype=np.int64)


def encode_channel(xs: np.ndarray, history: tuple[int, ...], step: int, d: Any):
    """Compiled :func:`.loops.encode_channel`: (k array, y array, new history, new step)."""
    hist = _arr(history).copy()
    adaptive = d.multipliers is not None and len(d.multipliers) > 0
    ks, ys, step = encode_kernel(
        np.ascontiguousarray(xs, dtype=np.int64), hist, step, _arr(d.coeffs), d.coeff_shift, d.predict_bias,
        _arr(d.levels), d.level_shift, d.level_bias, _arr(d.multipliers if adaptive else (0,)), adaptive,
        d.mult_shift, d.mult_bias, d.step_min, d.step_max,
    )
    return ks, ys, tuple(int(v) for v in hist), int(step)


def residuals_adaptive(index: np.ndarray, step: int, d: Any) -> tuple[np.ndarray, int]:
    """Compiled :func:`.loops.residuals_adaptive`."""
    out, step = residuals_kernel(
        np.ascontiguousarray(index, dtype=np.int64), step, _arr(d.levels), d.level_shift, d.level_bias,
        _arr(d.multipliers), d.mult_shift, d.mult_bias, d.step_min, d.step_max,
    )
    return out, int(step)


def predict_channel(resid: np.ndarray, history: tuple[int, ...], d: Any) -> np.ndarray:
    """Compiled :func:`.loops.predict_channel`."""
    return predict_kernel(np.ascontiguousarray(resid, dtype=np.int64), _arr(history).copy(), _arr(d.coeffs),
                          d.predict_bias, d.coeff_shift)
