"""``audioop.ratecv``: linear-interpolation sample-rate conversion with a one-pole pre-filter.

Exact to CPython 3.11.  Samples work on 32 bits (``x << (32 - 8 width)``).  ``inrate``,
``outrate`` and ``weightA``, ``weightB`` are first divided by their greatest common divisors.

Pre-filter, per channel, in C doubles truncated toward zero (identity when ``weightB == 0``)::

    y[k] = trunc((weightA * x[k] + weightB * y[k-1]) / (weightA + weightB)),  y[-1] = state cur

Timing: a counter ``d`` (state, ``-outrate`` at the start) rises by ``outrate`` per input frame
consumed and falls by ``inrate`` per output frame; audioop consumes while ``d < 0`` and emits
while ``d >= 0``.  Solved in closed form: with ``L`` input frames, output ``j`` exists for
``j*inrate <= L*outrate + d0`` and uses ``K_j = max(0, ceil((j*inrate - d0) / outrate))``
consumed frames and ``d_j = d0 + K_j*outrate - j*inrate``; with ``z = [prev, cur, y...]``::

    out[j] = trunc((z[K_j] * d_j + z[K_j + 1] * (outrate - d_j)) / outrate) >> (32 - 8 width)

The new state is ``(d0 + L*outrate - N*inrate, ((z[L], z[L+1]) per channel))``, so chained
calls give the bits of one call.  The pre-filter recursion is sequential (a division on its
critical path): it runs compiled when numba is available (measured 0.56-0.77x audioop's
``ratecv`` with weights on 10^6 samples), else as a Python loop (~1 us/sample, 0.05x); same
bits.  Outputs are computed in blocks of :data:`~._samples.CHUNK` frames.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _kernels
from ._samples import CHUNK, c_int, check_width, error, fragment_bytes, output_array, read, write

__all__ = ["ratecv", "prefilter"]

State = tuple[int, tuple[tuple[int, int], ...]]


def _parse_state(state: Any, nchannels: int, outrate: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(d, prev, cur) from audioop's state tuple ``(d, ((prev, cur), ...))`` or ``None``."""
    if state is None:
        zeros = np.zeros(nchannels, dtype=np.int64)
        return -outrate, zeros, zeros.copy()
    if not isinstance(state, tuple):
        raise TypeError(f"state must be a tuple or None, not {type(state).__name__}")
    if len(state) != 2 or not isinstance(state[1], tuple):
        raise TypeError("ratecv(): illegal state argument: expected (d, ((prev, cur), ...))")
    d, channels = c_int(state[0], "state d"), state[1]
    if len(channels) != nchannels:
        raise error(f"illegal state argument: {len(channels)} channel states for {nchannels} channels")
    prev, cur = np.zeros(nchannels, dtype=np.int64), np.zeros(nchannels, dtype=np.int64)
    for chan, pair in enumerate(channels):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"ratecv(): illegal state argument: channel {chan} state {pair!r} is not (prev, cur)")
        prev[chan], cur[chan] = c_int(pair[0], "state prev"), c_int(pair[1], "state cur")
    return d, prev, cur


def prefilter(samples: np.ndarray, shift: int, start: np.ndarray, weight_a: int, weight_b: int, out: np.ndarray) -> None:
    """``out[k] = y[k] = trunc((a (x[k] << shift) + b y[k-1]) / (a + b))`` down axis 0."""
    if _kernels.ENABLED:
        _kernels.prefilter(samples, shift, start, float(weight_a), float(weight_b), out)
        return
    a, b = float(weight_a), float(weight_b)
    total = a + b
    for chan in range(samples.shape[1]):
        previous = float(start[chan])
        column = samples[:, chan].tolist()
        for k, value in enumerate(column):
            previous = float(int((a * (value << shift) + b * previous) / total))
            column[k] = previous
        out[:, chan] = column


def ratecv(
    fragment: Any,
    width: int,
    nchannels: int,
    inrate: int,
    outrate: int,
    state: Any,
    weightA: int = 1,  # noqa: N803 - audioop's keyword names
    weightB: int = 0,  # noqa: N803
) -> tuple[bytes, State]:
    """Convert the frame rate from ``inrate`` to ``outrate`` (``audioop.ratecv``)."""
    data = fragment_bytes(fragment)
    width, nchannels = c_int(width, "width"), c_int(nchannels, "nchannels")
    inrate, outrate = c_int(inrate, "inrate"), c_int(outrate, "outrate")
    weight_a, weight_b = c_int(weightA, "weightA"), c_int(weightB, "weightB")
    check_width(width)
    if nchannels < 1:
        raise error(f"# of channels should be >= 1 (got {nchannels})")
    if width > (2**31 - 1) // nchannels:
        raise OverflowError("width * nchannels too big for a C int")
    if weight_a < 1 or weight_b < 0:
        raise error(f"weightA should be >= 1, weightB should be >= 0 (got {weight_a}, {weight_b})")
    frame = width * nchannels
    if data.size % frame:
        raise error(f"not a whole number of frames ({data.size} bytes, {frame}-byte frames)")
    if inrate <= 0 or outrate <= 0:
        raise error(f"sampling rate not > 0 (inrate {inrate}, outrate {outrate})")
    g = math.gcd(inrate, outrate)
    inrate, outrate = inrate // g, outrate // g
    g = math.gcd(weight_a, weight_b)
    weight_a, weight_b = weight_a // g, weight_b // g
    d0, prev, cur = _parse_state(state, nchannels, outrate)

    frames, shift = data.size // frame, 32 - 8 * width
    samples = read(data, width).reshape(frames, nchannels)
    z = np.empty((frames + 2, nchannels))  # [prev, cur, y...]: 32-bit values, exact in doubles
    z[0], z[1] = prev, cur
    if weight_b:
        prefilter(samples, shift, cur, weight_a, weight_b, z[2:])
    else:
        np.multiply(samples, float(1 << shift), out=z[2:])
    reach = frames * outrate + d0
    count = reach // inrate + 1 if reach >= 0 else 0
    d_end = d0 + frames * outrate - count * inrate
    new_state = (d_end, tuple((int(z[frames, c]), int(z[frames + 1, c])) for c in range(nchannels)))
    out = output_array(count * nchannels, width).reshape(count, nchannels)
    for first in range(0, count, CHUNK):
        position = np.arange(first, min(first + CHUNK, count), dtype=np.int64) * inrate - d0
        consumed = np.maximum(-(-position // outrate), 0)
        d = (consumed * outrate - position).astype(np.float64)[:, None]
        mixed = np.take(z, consumed, axis=0)
        mixed *= d
        consumed += 1
        later = np.take(z, consumed, axis=0)
        d -= outrate
        later *= d
        mixed -= later  # prev * d + cur * (outrate - d), the same products and sum
        mixed /= float(outrate)
        out[first : first + position.size] = mixed.astype(np.int64) >> shift
    return write(out.reshape(-1), width), new_state
