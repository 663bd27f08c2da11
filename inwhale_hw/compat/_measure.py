"""The ``audioop`` functions that measure a fragment: levels, peaks, crossings and matches.

Each gives CPython 3.11 ``audioop``'s result exactly.  Where audioop accumulates in C
``double`` one sample at a time, the sum here is an exact integer sum (NumPy, any order)
whenever every partial sum is an integer below 2**53 -- then each ``double`` addition was exact
too, so the results agree -- and otherwise a sequential float64 ``cumsum``, the same additions
in the same order (:func:`sequential_sum`).  Rules per function (``x`` the samples):

``max``        max |x| (2**31 for a 32-bit -2**31);  ``minmax``: (min, max), empty -> (2**31-1, -2**31)
``avg``        floor(sum(x) / n);  ``rms``: trunc(sqrt(sum(x*x) / n)), 0 when empty
``cross``      sign changes of ``x < 0`` between neighbours, minus one (-1 when empty)
``maxpp``/``avgpp``
    runs of equal samples collapse to one; a local extremum is a sample where the direction
    (rising/falling) changes; over consecutive extrema, the largest (``maxpp``) or the
    truncated mean (``avgpp``) absolute difference; 0 with fewer than two extrema.
``findmax``    first start ``j`` of the ``length``-sample window of largest energy (16-bit)
``findfit``    first ``j`` minimizing ``(R*A_j - C_j**2) / A_j``, ``R = sum r**2``,
    ``A_j = sum a[j:j+m]**2``, ``C_j = sum a[j:j+m] r`` (16-bit); returns ``(j, C_j / R)``
``findfactor`` ``sum(a r) / sum(r r)`` (16-bit, equal lengths)

Division by zero follows C ``double`` arithmetic (inf or nan, no exception).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from . import _kernels
from ._samples import CHUNK, c_int, c_ssize, check_parameters, error, fragment_bytes, read

__all__ = [
    "getsample",
    "max",
    "minmax",
    "avg",
    "rms",
    "cross",
    "maxpp",
    "avgpp",
    "findmax",
    "findfit",
    "findfactor",
    "sequential_sum",
]

_EXACT = 2.0**53
_max = max  # the builtin, before this module's ``max`` shadows it


def _samples(fragment: Any, width: Any) -> tuple[np.ndarray, int]:
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_parameters(data.size, width)
    return read(data, width), width


def sequential_sum(values: np.ndarray, square: bool = False) -> float:
    """``sum += v`` (or ``v * v``) over ``values`` as float64 in order, as a C loop with a
    ``double`` does: compiled when numba is available, else in NumPy blocks, each block's
    first element carrying the running sum (same bits)."""
    if _kernels.ENABLED and values.size:
        return float(_kernels.sequential_sum(values, square))
    total = 0.0
    scratch = np.empty(min(values.size, CHUNK))
    for start in range(0, values.size, CHUNK):
        part = scratch[: min(CHUNK, values.size - start)]
        np.copyto(part, values[start : start + part.size])
        if square:
            np.multiply(part, part, out=part)
        part[0] += total
        total = float(np.cumsum(part)[-1])
    return total


def getsample(fragment: Any, width: int, index: int) -> int:
    """The sample at ``index`` (``audioop.getsample``)."""
    view = memoryview(fragment).cast("B")
    width, index = c_int(width, "width"), c_ssize(index, "index")
    check_parameters(view.nbytes, width)
    if not 0 <= index < view.nbytes // width:
        raise error(f"Index out of range (index {index}, fragment of {view.nbytes // width} samples)")
    return int.from_bytes(view[index * width : (index + 1) * width], sys.byteorder, signed=True)


def max(fragment: Any, width: int) -> int:  # noqa: A001 - audioop's name
    """Largest absolute sample value (``audioop.max``)."""
    x, _ = _samples(fragment, width)
    if not x.size:
        return 0
    return _max(-int(x.min()), int(x.max()), 0)


def minmax(fragment: Any, width: int) -> tuple[int, int]:
    """(smallest, largest) sample (``audioop.minmax``)."""
    x, _ = _samples(fragment, width)
    if not x.size:
        return 0x7FFFFFFF, -0x80000000
    return int(x.min()), int(x.max())


def avg(fragment: Any, width: int) -> int:
    """Mean sample value, rounded down (``audioop.avg``)."""
    x, width = _samples(fragment, width)
    if not x.size:
        return 0
    if x.size * 2.0 ** (8 * width - 1) < _EXACT:
        total = float(np.sum(x, dtype=np.int64))
    else:
        total = sequential_sum(x)
    return math.floor(total / x.size)


def rms(fragment: Any, width: int) -> int:
    """Root mean square, truncated (``audioop.rms``)."""
    x, width = _samples(fragment, width)
    if not x.size:
        return 0
    peak = 2 ** (8 * width - 1) if width < 3 else _max(-int(x.min()), int(x.max()))
    if x.size * peak * peak < 2**53:  # integer partial sums below 2**53: exact in any order
        scratch = np.empty(min(x.size, CHUNK), dtype=np.int64)
        exact = 0
        for start in range(0, x.size, CHUNK):
            part = scratch[: min(CHUNK, x.size - start)]
            np.copyto(part, x[start : start + part.size])
            np.square(part, out=part)
            exact += int(part.sum())
        total = float(exact)
    else:
        total = sequential_sum(x, square=True)
    return int(math.sqrt(total / x.size))


def cross(fragment: Any, width: int) -> int:
    """Number of zero crossings (``audioop.cross``)."""
    x, _ = _samples(fragment, width)
    if not x.size:
        return -1
    negative = x < 0
    return int(np.count_nonzero(negative[1:] != negative[:-1]))


def _swings(fragment: Any, width: Any, inexact: bool = False) -> tuple[int, int, float]:
    """Over consecutive local extrema: (count, largest, sum) of the absolute differences.

    The sum is audioop's double accumulated in order: the exact integer sum when it stays
    below 2**53 (then no addition rounded), else a second pass adds the doubles in order.
    Runs of equal samples collapse first; blocks carry the last value, the direction into
    it and the last extremum, so the result is that of one pass.
    """
    x, width = _samples(fragment, width)
    count, largest, exact, rounded = 0, 0, 0, 0.0
    last = direction = extreme = None
    for start in range(0, x.size, CHUNK):
        block = x[start : start + CHUNK]
        keep = np.empty(block.size, dtype=bool)
        keep[0] = last is None or block[0] != last
        np.not_equal(block[1:], block[:-1], out=keep[1:])
        fresh = block[keep].astype(np.int64)
        if not fresh.size:
            continue
        seq = fresh if last is None else np.concatenate(([last], fresh))
        falling = seq[1:] < seq[:-1]  # direction into seq[1:]
        if falling.size:
            before = falling[:-1] if direction is None else np.concatenate(([direction], falling[:-1]))
            turned = np.flatnonzero(before != falling[falling.size - before.size :])
            extrema = seq[turned + (falling.size - before.size)]
            if extrema.size:
                chain = extrema if extreme is None else np.concatenate(([extreme], extrema))
                diffs = np.abs(np.diff(chain))
                if diffs.size:
                    count += diffs.size
                    largest = _max(largest, int(diffs.max()))
                    exact += int(diffs.sum())
                    if inexact:
                        diffs_f = diffs.astype(np.float64)
                        diffs_f[0] += rounded
                        rounded = float(np.cumsum(diffs_f)[-1])
                extreme = int(extrema[-1])
            direction = bool(falling[-1])
        last = int(seq[-1])
    if exact >= _EXACT and not inexact:  # some double addition rounded: again, in order
        return _swings(fragment, width, inexact=True)
    return count, largest, rounded if inexact else float(exact)


def maxpp(fragment: Any, width: int) -> int:
    """Largest peak-to-peak swing between consecutive extrema (``audioop.maxpp``)."""
    return _swings(fragment, width)[1]


def avgpp(fragment: Any, width: int) -> int:
    """Mean peak-to-peak swing between consecutive extrema, truncated (``audioop.avgpp``)."""
    count, _, total = _swings(fragment, width)
    return int(total / count) if count else 0


def _int16(fragment: Any) -> np.ndarray:
    data = fragment_bytes(fragment)
    if data.size & 1:
        raise error(f"Strings should be even-sized (got {data.size} bytes of 16-bit samples)")
    return data.view(np.int16)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """audioop's ``_sum2``: sum of products of int16 samples, accumulated in order in a double."""
    if a.size < 2**23:  # |products| <= 2**30: integer partial sums below 2**53, exact
        return float(np.sum(a.astype(np.int64) * b, dtype=np.int64))
    return sequential_sum(a.astype(np.float64) * b)


def findmax(fragment: Any, length: int) -> int:
    """Start of the ``length``-sample window of largest energy (``audioop.findmax``)."""
    a = _int16(fragment)
    length = c_ssize(length, "length")
    if length < 0 or a.size < length:
        raise error(f"Input sample should be longer (length {length}, fragment of {a.size} samples)")
    if length + 1 >= 2**23:  # running sum no longer exact: the sequential double updates
        squares = a.astype(np.float64) ** 2
        energy = np.empty(a.size - length + 1)
        energy[0] = sequential_sum(squares[:length])
        for j in range(1, energy.size):
            energy[j] = energy[j - 1] + squares[j + length - 1] - squares[j - 1]
        return int(np.argmax(energy))
    if length == 0:
        return 0  # every window is empty: energy 0 everywhere, the first wins
    # energy_j = I(j + length - 1) - I(j - 1), I the inclusive prefix sum of squares, in blocks
    starts = a.size - length + 1
    size = min(starts, CHUNK)
    squares, low_sums, high_sums = (np.empty(size, dtype=np.int64) for _ in range(3))
    low = 0  # I(first - 1)
    high = _exclusive_head(a, length - 1)  # I(first + length - 2)
    best, best_energy = 0, -1
    for first in range(0, starts, CHUNK):
        count = min(CHUNK, starts - first)
        sq, lows, highs = squares[:count], low_sums[:count], high_sums[:count]
        np.copyto(sq, a[first : first + count])
        np.square(sq, out=sq)
        np.cumsum(sq, out=lows)
        lows -= sq
        lows += low
        low = int(lows[-1]) + int(sq[-1])
        np.copyto(sq, a[first + length - 1 : first + length - 1 + count])
        np.square(sq, out=sq)
        np.cumsum(sq, out=highs)
        highs += high
        high = int(highs[-1])
        highs -= lows
        j = int(np.argmax(highs))
        if highs[j] > best_energy:
            best, best_energy = first + j, int(highs[j])
    return best


def _exclusive_head(a: np.ndarray, count: int) -> int:
    """Sum of the squares of ``a[:count]`` (exact, in blocks)."""
    return sum(int(np.square(a[k : min(k + CHUNK, count)], dtype=np.int64).sum()) for k in range(0, count, CHUNK))


def findfit(fragment: Any, reference: Any) -> tuple[int, float]:
    """Best match of ``reference`` in ``fragment``: (offset, factor) (``audioop.findfit``)."""
    a, r = _int16(fragment), _int16(reference)
    m = r.size
    if a.size < m:
        raise error(f"First sample should be longer ({a.size} samples, reference {m})")
    sum_rr = _dot(r, r)
    if m >= 2**23:
        return _findfit_sequential(a, r, sum_rr)
    cumulative = np.zeros(a.size + 1, dtype=np.int64)
    np.cumsum(a.astype(np.int64) ** 2, out=cumulative[1:])
    energy = (cumulative[m:] - cumulative[: a.size - m + 1]).astype(np.float64)
    if m:
        correlation = np.correlate(a.astype(np.int64), r.astype(np.int64), mode="valid").astype(np.float64)
    else:
        correlation = np.zeros(energy.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = (sum_rr * energy - correlation * correlation) / energy
    if np.isnan(result[0]):
        best = 0
    else:
        best = int(np.argmin(np.where(np.isnan(result), np.inf, result)))
    return best, _ratio(_dot(a[best : best + m], r), sum_rr)


def _findfit_sequential(a: np.ndarray, r: np.ndarray, sum_rr: float) -> tuple[int, float]:
    """findfit for references of 2**23 samples or more, where audioop's running double sums
    round: the same updates in the same order, one offset at a time."""
    m = r.size
    squares = a.astype(np.float64) ** 2
    energy = _dot(a[:m], a[:m])
    best, best_result = 0, np.float64(np.nan)
    for j in range(a.size - m + 1):
        if j:
            energy = energy + squares[j + m - 1] - squares[j - 1]
        correlation = _dot(a[j : j + m], r)
        with np.errstate(divide="ignore", invalid="ignore"):
            result = (np.float64(sum_rr) * energy - np.float64(correlation) * correlation) / np.float64(energy)
        if j == 0 or result < best_result:
            best, best_result = j, result
    return best, _ratio(_dot(a[best : best + m], r), sum_rr)


def _ratio(numerator: float, denominator: float) -> float:
    """C double division: inf or nan instead of ZeroDivisionError."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(numerator) / np.float64(denominator))


def findfactor(fragment: Any, reference: Any) -> float:
    """Factor ``f`` minimizing ``sum((a - f r)**2)`` (``audioop.findfactor``)."""
    a, r = _int16(fragment), _int16(reference)
    if a.size != r.size:
        raise error(f"Samples should be same size ({a.size} and {r.size} samples)")
    return _ratio(_dot(a, r), _dot(r, r))
