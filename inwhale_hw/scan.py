"""Vectorized saturating recursions: ``y[t] = clamp(y[t-1] + a[t], lo, hi)`` for many lanes.

The one home of this recursion.  Both IMA ADPCM decoder recursions have this form: the step
index (``lo = 0``, ``hi = 88``, ``a`` = the index adjustment of each code) and, once the step
indices are known, the predictor (``lo = -32768``, ``hi = 32767``, ``a`` = each code's signed
difference); so do the reconstructions of delta modulation and of DPCM with a one-tap unit
predictor (:func:`clamp_add_frames` takes their ``(n, channels)`` layout).  Steps larger than
``hi - lo`` saturate exactly as ``+-(hi - lo)`` does, so they are limited to that first.

The map ``x -> clamp(x + a, lo, hi)`` is a *clamp-add*; composing clamp-adds gives a
clamp-add again, and on ``[lo, hi]`` the composition of a whole run of steps ``F`` equals
``clamp(x + sum(a), F(lo), F(hi))`` (``F`` is monotone, and ``F(x) - x`` can only change
where a clamp acted).  So the recursion is solved in three stages:

1. fast paths without a loop over time: the plain prefix sum ``s = x0 + cumsum(a)`` is exact when
   it stays in ``[lo, hi]``; with only the lower bound active the solution is the Lindley /
   Skorokhod reflection ``s - min(0, cummin(s - lo))``, exact when it never exceeds ``hi``
   (and symmetrically for the upper bound);
2. lanes that fail every fast path are cut into chunks of ``max(CHUNK, sqrt(T))`` steps; each
   chunk's map
   is found by running the recursion from ``lo`` and from ``hi`` in parallel (NumPy over all
   chunks, one step at a time), then the maps are chained across chunks;
3. a last parallel run from each chunk's true start value gives the trajectory.

The fast paths cost a fixed number of whole-array NumPy passes; the general method about
``3 * sqrt(T)`` small ones.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["clamp_add_scan", "clamp_add_frames", "clamp_add_lanes", "CHUNK"]

#: chunk length of the general (stage 2/3) method
CHUNK = 256


def clamp_add_lanes(adds: np.ndarray, start: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Step-by-step recursion over lanes: ``adds`` (T, lanes) time-major -> trajectory (T, lanes).

    ``out[t] = clamp(out[t-1] + adds[t], lo, hi)`` with ``out[-1] = start``; int32 throughout.
    """
    steps = adds.shape[0]
    out = np.empty(adds.shape, dtype=np.int32)
    previous = np.asarray(start, dtype=np.int32)
    for t in range(steps):
        row = out[t]
        np.add(previous, adds[t], out=row)
        np.maximum(row, lo, out=row)
        np.minimum(row, hi, out=row)
        previous = row
    return out


def clamp_add_scan(adds: np.ndarray, start: np.ndarray, lo: int, hi: int, limit: int | None = None) -> np.ndarray:
    """Solve ``y[:, t] = clamp(y[:, t-1] + adds[:, t], lo, hi)`` with ``y[:, -1] = start``.

    ``adds`` has shape (lanes, T) (an integer dtype), ``start`` shape (lanes,) with values in
    ``[lo, hi]``; ``limit`` bounds ``|adds|`` (measured if None).
    Returns the trajectory (lanes, T), int32 (or int64 when a prefix sum could leave the
    int32 range).
    """
    adds = np.asarray(adds)
    lanes, steps = adds.shape
    start = np.asarray(start, dtype=np.int64).reshape(lanes)
    if steps == 0:
        return np.empty((lanes, 0), dtype=np.int32)
    limit = max(int(adds.max()), -int(adds.min())) if limit is None else limit
    if limit > hi - lo:  # a step of more than the range width saturates like one of exactly it
        adds = np.clip(adds, lo - hi, hi - lo)
        limit = hi - lo
    reach = limit * steps + max(abs(lo), abs(hi))
    dtype = np.int32 if reach < 2**31 else np.int64
    total = np.cumsum(adds, axis=1, dtype=dtype)
    total += start.astype(dtype)[:, None]
    # plain prefix sum
    pending = (total.min(axis=1) < lo) | (total.max(axis=1) > hi)
    if not pending.any():
        return total
    rows = np.flatnonzero(pending)
    s = total[rows]
    # lower bound only: y = s + max(0, cummax(lo - s)); exact if it never exceeds hi
    lifted = np.maximum.accumulate(lo - s, axis=1)
    np.maximum(lifted, 0, out=lifted)
    lifted += s
    good = lifted.max(axis=1) <= hi
    total[rows[good]] = lifted[good]
    rows, s = rows[~good], s[~good]
    if rows.size:
        # upper bound only: y = s - max(0, cummax(s - hi)); exact if it never falls below lo
        lowered = np.maximum.accumulate(s - hi, axis=1)
        np.maximum(lowered, 0, out=lowered)
        np.subtract(s, lowered, out=lowered)
        good = lowered.min(axis=1) >= lo
        total[rows[good]] = lowered[good]
        rows = rows[~good]
    if rows.size:
        total[rows] = _chunked(adds[rows], start[rows], lo, hi)
    return total


def clamp_add_frames(a: np.ndarray, y0: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """:func:`clamp_add_scan` in the codecs' frame layout: ``a`` (n, channels), ``y0``
    (channels,); returns ``y`` (n, channels) as int64 with ``y[k] = clamp(y[k-1] + a[k])``."""
    a = np.asarray(a)
    return clamp_add_scan(a.T, np.asarray(y0).reshape(-1), lo, hi).T.astype(np.int64)


def _chunked(adds: np.ndarray, start: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The general method (stages 2 and 3) for lanes where both bounds act."""
    lanes, steps = adds.shape
    chunk = min(max(CHUNK, math.isqrt(steps)), steps)
    count = -(-steps // chunk)
    padded = np.zeros((lanes, count * chunk), dtype=np.int32)
    padded[:, :steps] = adds
    # time-major chunk lanes: (chunk, lanes * count)
    by_time = np.ascontiguousarray(padded.reshape(lanes * count, chunk).T)
    width = lanes * count
    extremes = np.concatenate([np.full(width, lo, np.int32), np.full(width, hi, np.int32)])
    ends = clamp_add_lanes(np.concatenate([by_time, by_time], axis=1), extremes, lo, hi)[-1]
    from_lo = ends[:width].reshape(lanes, count)
    from_hi = ends[width:].reshape(lanes, count)
    sums = by_time.sum(axis=0, dtype=np.int64).reshape(lanes, count)
    starts = np.empty((lanes, count), dtype=np.int64)
    value = start.astype(np.int64)
    for k in range(count):
        starts[:, k] = value
        value = np.minimum(np.maximum(value + sums[:, k], from_lo[:, k]), from_hi[:, k])
    path = clamp_add_lanes(by_time, starts.reshape(width), lo, hi)
    return path.T.reshape(lanes, count * chunk)[:, :steps]
