"""The CVSD recursions of Bluetooth Core v5.x Vol 2 Part B §9.2 on Python integers, one channel.

:class:`RawParams` is the codec's configuration in integer form (step limits, the accumulator
and step decay factors as shift/multiply pairs, the saturation rails); :class:`ChannelState`
is one channel's state (x^, δ, the last bit, the run length and the age of the last run of J
equal bits).  :func:`encode_channel` and :func:`decode_channel` step that state over a list of
samples or bits; :func:`run_flags` tells where a run of J equal bits ends.  The model
(:mod:`.model`) and the hardware reference (:mod:`.hardware`) both call them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["FACTOR", "RawParams", "ChannelState", "run_flags", "encode_channel", "decode_channel"]

FACTOR = 8


class RawParams(NamedTuple):
    """The parameters as raw integers of the fixed-point datapath."""

    frac_bits: int
    j: int
    k_minus_j: int
    step_min: int
    step_max: int
    y_min: int
    y_max: int
    h_mul: int
    h_shift: int
    h_bias: int
    beta_mul: int
    beta_shift: int
    beta_bias: int


class ChannelState(NamedTuple):
    """Per-channel state: ``x^(k-1)`` and ``delta(k-1)`` (raw), and the bit-history summary:
    the last bit (-1 before the first), the length of its run, and how many bits ago the last
    run of J equal bits ended (capped at K - J + 1)."""

    xhat: int
    delta: int
    last_bit: int
    run: int
    age: int


def run_flags(bits: np.ndarray, last_bit: int, run: int, age: int, j: int, k_minus_j: int):
    """Vectorized ``alpha`` for a bit sequence continuing the history (last_bit, run, age).

    Returns ``(alpha, (last_bit, run, age))``: ``alpha[i]`` is 1 when a run of ``j`` equal
    bits ends within the last ``k_minus_j + 1`` positions up to ``i``.
    """
    n = len(bits)
    if n == 0:
        return np.zeros(0, dtype=bool), (last_bit, run, age)
    idx = np.arange(n)
    changed = np.empty(n, dtype=bool)
    changed[0] = bits[0] != last_bit
    changed[1:] = bits[1:] != bits[:-1]
    start = np.maximum.accumulate(np.where(changed, idx, -1))
    runs = np.where(start >= 0, idx - start + 1, run + idx + 1)
    last_hit = np.maximum.accumulate(np.where(runs >= j, idx, -1))
    ages = np.where(last_hit >= 0, idx - last_hit, age + idx + 1)
    alpha = ages <= k_minus_j
    return alpha, (int(bits[-1]), int(min(runs[-1], j)), int(min(ages[-1], k_minus_j + 1)))


def encode_channel(xs: list[int], st: ChannelState, p: RawParams) -> tuple[list[int], list[int], ChannelState]:
    """The §9.2 encoder over one channel: (bits, x^ raw per sample, new state)."""
    f, j, kj = p.frac_bits, p.j, p.k_minus_j
    dmin, dmax, ymin, ymax = p.step_min, p.step_max, p.y_min, p.y_max
    hm, hs, hb, bm, bs, bb = p.h_mul, p.h_shift, p.h_bias, p.beta_mul, p.beta_shift, p.beta_bias
    xhat, delta, last, run, age = st
    bits: list[int] = []
    est: list[int] = []
    for v in xs:
        bit = 0 if (v << f) >= xhat else 1
        if bit == last:
            run += 1
        else:
            last, run = bit, 1
        if run >= j:
            age = 0
        elif age <= kj:
            age += 1
        if age <= kj:
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
        xhat = (y * hm + hb) >> hs
        bits.append(bit)
        est.append(xhat)
    if run > j:
        run = j
    return bits, est, ChannelState(xhat, delta, last, run, age)


def decode_channel(bits: np.ndarray, st: ChannelState, p: RawParams) -> tuple[list[int], ChannelState]:
    """The §9.2 decoder over one channel: (x^ raw per sample, new state)."""
    alpha, (last, run, age) = run_flags(bits, st.last_bit, st.run, st.age, p.j, p.k_minus_j)
    dmin, dmax, ymin, ymax = p.step_min, p.step_max, p.y_min, p.y_max
    hm, hs, hb, bm, bs, bb = p.h_mul, p.h_shift, p.h_bias, p.beta_mul, p.beta_shift, p.beta_bias
    xhat, delta = st.xhat, st.delta
    est: list[int] = []
    for bit, a in zip(bits.tolist(), alpha.tolist()):
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
        xhat = (y * hm + hb) >> hs
        est.append(xhat)
    return est, ChannelState(xhat, delta, last, run, age)
