"""Optional numba kernels for the CVSD recursions of :mod:`.loops` (the ``numba`` extra).

The §9.2 encoder and decoder loops of :mod:`.loops` on int64 arrays, compiled with
``cache=True``.  They give the bits of the Python-integer loops whenever every intermediate
fits int64, which :func:`fits_int64` checks from the raw parameters (``frac_bits`` <= 24 keeps
``x << f`` below 2^40; the products ``y * h_mul`` and ``delta * beta_mul`` are checked).
Integer ``>>`` in numba is arithmetic like Python's.

``INWHALE_HW_NUMBA=0`` in the environment (read at import) forces the Python loops.
"""

from __future__ import annotations

import os

import numpy as np

from .loops import ChannelState, RawParams

__all__ = ["ENABLED", "fits_int64", "encode_channel", "decode_channel"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

_LIMIT = 1 << 62


def fits_int64(p: RawParams) -> bool:
    """True if ``x << f``, ``y * h_mul + h_bias`` and ``delta * beta_mul + beta_bias`` stay below 2^62."""
    y = max(abs(p.y_min), abs(p.y_max))
    return (
        (32768 << p.frac_bits) < _LIMIT
        and y * abs(p.h_mul) + abs(p.h_bias) < _LIMIT
        and (p.step_max + p.step_min) * abs(p.beta_mul) + abs(p.beta_bias) < _LIMIT
    )


if numba is not None:
    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _step(a, bit, xhat, delta, dmin, dmax, ymin, ymax, hm, hs, hb, bm, bs, bb):
        if a:
            delta += dmin
            if delta > dmax:
                delta = dmax
        else:
            delta = (delta * bm + bb) >> bs
            if delta < dmin:
                delta = dmin
        y = xhat - delta if bit else xhat + delta
        if y > ymax:
            y = ymax
        elif y < ymin:
            y = ymin
        return (y * hm + hb) >> hs, delta

    @_jit
    def _history(bit, j, kj, last, run, age):
        """The bit-history update of :class:`.loops.ChannelState` (run length capped late)."""
        if bit == last:
            run += 1
        else:
            last = bit
            run = 1
        if run >= j:
            age = 0
        elif age <= kj:
            age += 1
        return last, run, age

    @_jit
    def encode_kernel(xs, f, j, kj, dmin, dmax, ymin, ymax, hm, hs, hb, bm, bs, bb, xhat, delta, last, run, age):
        n = xs.size
        bits = np.empty(n, np.int64)
        est = np.empty(n, np.int64)
        for t in range(n):
            bit = 0 if (xs[t] << f) >= xhat else 1
            last, run, age = _history(bit, j, kj, last, run, age)
            xhat, delta = _step(age <= kj, bit, xhat, delta, dmin, dmax, ymin, ymax, hm, hs, hb, bm, bs, bb)
            bits[t] = bit
            est[t] = xhat
        if run > j:
            run = j
        return bits, est, xhat, delta, last, run, age

    @_jit
    def decode_kernel(bits, j, kj, dmin, dmax, ymin, ymax, hm, hs, hb, bm, bs, bb, xhat, delta, last, run, age):
        est = np.empty(bits.size, np.int64)
        for t in range(bits.size):
            last, run, age = _history(bits[t], j, kj, last, run, age)
            xhat, delta = _step(age <= kj, bits[t], xhat, delta, dmin, dmax, ymin, ymax, hm, hs, hb, bm, bs, bb)
            est[t] = xhat
        if run > j:
            run = j
        return est, xhat, delta, last, run, age


def encode_channel(xs: np.ndarray, st: ChannelState, p: RawParams) -> tuple[np.ndarray, np.ndarray, ChannelState]:
    """Compiled :func:`.loops.encode_channel`: (bits, x^ raw per sample, new state)."""
    bits, est, xhat, delta, last, run, age = encode_kernel(
        np.ascontiguousarray(xs, dtype=np.int64), p.frac_bits, p.j, p.k_minus_j, p.step_min, p.step_max, p.y_min,
        p.y_max, p.h_mul, p.h_shift, p.h_bias, p.beta_mul, p.beta_shift, p.beta_bias, *st,
    )
    return bits, est, ChannelState(int(xhat), int(delta), int(last), int(run), int(age))


def decode_channel(bits: np.ndarray, st: ChannelState, p: RawParams) -> tuple[np.ndarray, ChannelState]:
    """Compiled :func:`.loops.decode_channel`: (x^ raw per sample, new state)."""
    est, xhat, delta, last, run, age = decode_kernel(
        np.ascontiguousarray(bits, dtype=np.int64), p.j, p.k_minus_j, p.step_min, p.step_max, p.y_min, p.y_max,
        p.h_mul, p.h_shift, p.h_bias, p.beta_mul, p.beta_shift, p.beta_bias, st.xhat, st.delta, st.last_bit, st.run,
        st.age,
    )
    return est, ChannelState(int(xhat), int(delta), int(last), int(run), int(age))
