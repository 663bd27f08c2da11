"""The per-sample recursions of :mod:`~inwhale_hw.plugins.dpcm.model`, one channel at a time.

Inherently sequential (each prediction needs the previous reconstructions, each step the
previous step), so they run on Python integers, which are exact and, for one or two channels,
far cheaper per sample than NumPy calls.  ``d`` is a :class:`~inwhale_hw.plugins.dpcm.model.Design`;
every rounding is ``(v + bias) >> shift`` with the design's biases.  Histories are tuples of the
last N reconstructions, most recent first.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

__all__ = ["encode_channel", "predict_channel", "residuals_adaptive"]

INT16_MIN, INT16_MAX = -32768, 32767


def encode_channel(xs: list[int], history: tuple[int, ...], step: int, d: Any):
    """Encode one channel: (signed indices k, reconstructions y, new history, new step)."""
    coeffs, shift, pbias = d.coeffs, d.coeff_shift, d.predict_bias
    levels, lshift, lbias = d.levels, d.level_shift, d.level_bias
    mults, mshift, mbias, smin, smax = d.multipliers, d.mult_shift, d.mult_bias, d.step_min, d.step_max
    top = len(levels) - 1
    half = len(levels) // 2
    fixed = None if mults else [(lv * step + lbias) >> lshift for lv in levels]
    hist = list(history)
    ks: list[int] = []
    ys: list[int] = []
    for v in xs:
        acc = 0
        for c, h in zip(coeffs, hist):
            acc += c * h
        p = (acc + pbias) >> shift
        e = v - p
        if fixed is not None:
            j = bisect_left(fixed, e)
            low = fixed[j - 1] if j else None
            high = fixed[j] if j <= top else None
        else:
            j = bisect_left(levels, (e << lshift) // step)
            while j > 0 and (levels[j - 1] * step + lbias) >> lshift >= e:
                j -= 1
            while j <= top and (levels[j] * step + lbias) >> lshift < e:
                j += 1
            low = (levels[j - 1] * step + lbias) >> lshift if j else None
            high = (levels[j] * step + lbias) >> lshift if j <= top else None
        # r(j-1) < e <= r(j): the nearest level is j-1 or j (ties: smaller |r|, then smaller k)
        if high is None or (low is not None and (e - low < high - e or (e - low == high - e and abs(low) <= abs(high)))):
            k, r = j - 1, low
        else:
            k, r = j, high
        y = p + r
        if y > INT16_MAX:
            y = INT16_MAX
        elif y < INT16_MIN:
            y = INT16_MIN
        hist.pop()
        hist.insert(0, y)
        k -= half
        if mults:
            step = (step * mults[k if k >= 0 else -1 - k] + mbias) >> mshift
            step = smin if step < smin else smax if step > smax else step
        ks.append(k)
        ys.append(y)
    return ks, ys, tuple(hist), step


def residuals_adaptive(index: list[int], step: int, d: Any) -> tuple[list[int], int]:
    """Decoder side of the Jayant step: the residuals ``r`` for table indices 0..2**bits-1."""
    levels, lshift, lbias = d.levels, d.level_shift, d.level_bias
    mults, mshift, mbias, smin, smax = d.multipliers, d.mult_shift, d.mult_bias, d.step_min, d.step_max
    half = len(levels) // 2
    out: list[int] = []
    for i in index:
        out.append((levels[i] * step + lbias) >> lshift)
        k = i - half
        step = (step * mults[k if k >= 0 else -1 - k] + mbias) >> mshift
        step = smin if step < smin else smax if step > smax else step
    return out, step


def predict_channel(resid: list[int], history: tuple[int, ...], d: Any) -> list[int]:
    """Decoder side of the predictor: ``y[n] = sat16(p[n] + r[n])`` for a general predictor."""
    coeffs, shift, pbias = d.coeffs, d.coeff_shift, d.predict_bias
    hist = list(history)
    ys: list[int] = []
    for r in resid:
        acc = 0
        for c, h in zip(coeffs, hist):
            acc += c * h
        y = ((acc + pbias) >> shift) + r
        if y > INT16_MAX:
            y = INT16_MAX
        elif y < INT16_MIN:
            y = INT16_MIN
        hist.pop()
        hist.insert(0, y)
        ys.append(y)
    return ys
