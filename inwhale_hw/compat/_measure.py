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
from typing import Any

import numpy as np

from ._samples import c_int, c_ssize, check_parameters, error, fragment_bytes, read

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


def sequential_sum(values: np.ndarray) -> float:
    """``sum += v`` over float64 ``values`` in order, as a C loop with a ``double`` does."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def getsample(fragment: Any, width: int, index: int) -> int:
    """The sample at ``index`` (``audioop.getsample``)."""
    data = fragment_bytes(fragment)
    width, index = c_int(width, "width"), c_ssize(index, "index")
    check_parameters(data.size, width)
    if not 0 <= index < data.size // width:
        raise error(f"Index out of range (index {index}, fragment of {data.size // width} samples)")
    return int(read(data[index * width : (index + 1) * width], width)[0])


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
        total = sequential_sum(x.astype(np.float64))
    return math.floor(total / x.size)


def rms(fragment: Any, width: int) -> int:
    """Root mean square, truncated (``audioop.rms``)."""
    x, width = _samples(fragment, width)
    if not x.size:
        return 0
    xf = x.astype(np.float64)
    peak = 2.0 ** (8 * width - 1) if width < 3 else float(_max(-int(x.min()), int(x.max())))
    if x.size * peak * peak < _EXACT:
        total = float(np.dot(xf, xf))  # integer partial sums below 2**53: exact in any order
    else:
        total = sequential_sum(xf * xf)
    return int(math.sqrt(total / x.size))


def cross(fragment: Any, width: int) -> int:
    """Number of zero crossings (``audioop.cross``)."""
    x, _ = _samples(fragment, width)
    if not x.size:
        return -1
    negative = x < 0
    return int(np.count_nonzero(negative[1:] != negative[:-1]))


def _extrema(fragment: Any, width: Any) -> np.ndarray:
    """The local extrema as int64 (runs of equal samples collapsed first)."""
    x, _ = _samples(fragment, width)
    if x.size <= 1:
        return x[:0].astype(np.int64)
    keep = np.empty(x.size, dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    v = x[keep]
    falling = v[1:] < v[:-1]
    turns = np.flatnonzero(falling[1:] != falling[:-1])
    return v[turns + 1].astype(np.int64)


def maxpp(fragment: Any, width: int) -> int:
    """Largest peak-to-peak swing between consecutive extrema (``audioop.maxpp``)."""
    extrema = _extrema(fragment, width)
    if extrema.size < 2:
        return 0
    return int(np.abs(np.diff(extrema)).max())


def avgpp(fragment: Any, width: int) -> int:
    """Mean peak-to-peak swing between consecutive extrema, truncated (``audioop.avgpp``)."""
    extrema = _extrema(fragment, width)
    if extrema.size < 2:
        return 0
    swings = np.abs(np.diff(extrema))
    total = int(swings.sum())
    if total >= _EXACT:
        total = sequential_sum(swings.astype(np.float64))
    return int(float(total) / swings.size)


def _int16(fragment: Any) -> np.ndarray:
    data = fragment_bytes(fragment)
    if data.size & 1:
        raise error(f"Strings should be even-sized (got {data.size} bytes of 16-bit samples)")
    return data.view(np.int16)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """audioop's ``_sum2``: sum of products of int16 samples, accumulated in order in a double."""
    af, bf = a.astype(np.float64), b.astype(np.float64)
    if a.size < 2**23:  # |products| <= 2**30: integer partial sums below 2**53, exact
        return float(np.dot(af, bf))
    return sequential_sum(af * bf)


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
    cumulative = np.zeros(a.size + 1, dtype=np.int64)
    np.cumsum(a.astype(np.int64) ** 2, out=cumulative[1:])
    return int(np.argmax(cumulative[length:] - cumulative[: a.size - length + 1]))


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
        correlation = np.correlate(a.astype(np.float64), r.astype(np.float64), mode="valid")
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
