"""Accumulator width, overflow policy and statistics for exact integer dot products.

An output of a matmul or convolution is the dot product ``y = bias + sum_k a[k] * b[k]``
accumulated in a signed register of ``acc_bits`` bits, range ``[-2^(acc_bits-1),
2^(acc_bits-1) - 1]``.  The accumulation order is fixed and stated once for the whole package:

* the bias (if any) is loaded first: ``S_0 = bias``;
* products are added for ``k = 0, 1, ..., K-1``: ``S_{k+1} = policy(S_k + a[k] * b[k])``;
* each product is exact (an int8 x int8 product needs 16 bits, never overflows on its own).

Overflow policies, applied to every partial sum ``S_k`` in that order:

``wrap``
    two's-complement wrap-around modulo ``2^acc_bits`` (what C ``int32_t`` adders and most
    MAC arrays do).  Modular arithmetic makes the final value ``wrap(exact sum)`` whatever
    the order, so no sequential pass is ever needed for the result.
``sat``
    clamp to the range after every addition.  Order matters, so when a static bound says a
    partial sum *might* leave the range, the running sums of the outputs concerned are
    computed sequentially in the order above (compiled by :mod:`inwhale_hw.fixed.running`
    when numba is available, else by :func:`running_sums`: the same bits).
``error``
    raise :class:`~inwhale_hw.errors.FixedPointOverflowError` if any partial sum of any output
    leaves the range, naming how many outputs did and the flat index of the first one.

:class:`AccumulatorStats` reports per call what an accelerator study needs per layer: how many
outputs had a partial sum outside the range, how many exact final sums are outside it (the
outputs that ``wrap`` corrupts), the largest magnitude reached and the bits it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FixedPointOverflowError, ParameterError

__all__ = [
    "OVERFLOW_POLICIES",
    "AccumulatorStats",
    "accumulator_range",
    "check_policy",
    "raise_overflow",
    "running_sums",
    "signed_bits_needed",
    "wrap_signed",
]

OVERFLOW_POLICIES = ("wrap", "sat", "error")

#: elements of the (outputs x K) product matrix handled at once by :func:`running_sums`
_CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class AccumulatorStats:
    """What happened in the accumulators of one matmul/convolution call.

    Attributes:
        acc_bits: accumulator width in bits (signed).
        overflow: the policy applied ("wrap", "sat" or "error").
        outputs: number of outputs (dot products) computed.
        k: products per output (the reduction length K).
        overflowed: outputs in which at least one partial sum ``S_1..S_K`` (or the bias
            ``S_0``) left the accumulator range.  Exact: outputs whose static bound
            ``|bias| + sum_k |a_k b_k|`` fits the range are known not to overflow; the others
            are checked with their exact running sums.
        final_out_of_range: outputs whose exact final sum lies outside the range; under
            ``wrap`` these (and only these) differ from the exact result.
        peak: largest ``|S|`` over the exact final sums; with ``track_partials=True``, over
            every exact partial sum ``S_0..S_K`` of every output.
        peak_is_partial: True when ``peak`` covers every partial sum.
        bits_needed: signed width that holds ``peak`` (``signed_bits_needed(peak)``).
        bound: static worst case ``max|bias| + K * max|a| * max|b|`` from the input ranges.
        bound_bits: signed width that holds ``bound``; ``bound_bits <= acc_bits`` proves that
            no partial sum can overflow for any input of the same ranges.
    """

    acc_bits: int
    overflow: str
    outputs: int
    k: int
    overflowed: int
    final_out_of_range: int
    peak: int
    peak_is_partial: bool
    bits_needed: int
    bound: int
    bound_bits: int


def check_policy(acc_bits: int, overflow: str) -> tuple[int, int]:
    """Validate ``acc_bits`` (2..64) and ``overflow``; return the range ``(lo, hi)``."""
    if isinstance(acc_bits, bool) or not isinstance(acc_bits, (int, np.integer)):
        raise ParameterError(f"acc_bits must be an integer in [2, 64], got {acc_bits!r}")
    if not 2 <= int(acc_bits) <= 64:
        raise ParameterError(f"acc_bits must be in [2, 64], got {acc_bits}")
    if overflow not in OVERFLOW_POLICIES:
        raise ParameterError(f"overflow must be one of {OVERFLOW_POLICIES}, got {overflow!r}")
    return accumulator_range(int(acc_bits))


def accumulator_range(acc_bits: int) -> tuple[int, int]:
    """``(-2^(acc_bits-1), 2^(acc_bits-1) - 1)``, the range of a signed ``acc_bits`` register."""
    return -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1


def signed_bits_needed(magnitude: int) -> int:
    """Smallest signed width holding every value in ``[-magnitude, magnitude]`` (1 for 0).

    ``-2^(n-1)`` fits n bits but ``+2^(n-1)`` does not, so a symmetric range needs
    ``bit_length(magnitude) + 1`` bits.
    """
    return int(magnitude).bit_length() + 1


def wrap_signed(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 ``x`` into ``bits`` (<= 64) bits, as int64."""
    x = np.asarray(x, dtype=np.int64)
    if bits >= 64:
        return x
    shift = np.int64(64 - bits)
    return (x << shift) >> shift


def running_sums(
    a_rows: np.ndarray,
    b_cols: np.ndarray,
    bias: np.ndarray | None,
    acc_bits: int,
    overflow: str,
    need_values: bool,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Run the accumulators of R outputs sequentially: ``S_0 = bias``, ``S_{k+1} = S_k + a b``.

    ``a_rows`` and ``b_cols`` are (R, K) integer arrays (row r holds the operands of output r),
    ``bias`` is (R,) or None.  Products and exact running sums use int64 (the caller checks the
    bound fits).  Returns ``(values, overflowed, peak)``: the final register values under
    ``overflow`` (None unless ``need_values``), a bool (R,) mask of outputs with a partial sum
    outside the range, and the (R,) largest exact ``|S_k|`` per output.

    Vectorized across outputs; the K-step loop runs only under ``sat`` for the outputs whose
    exact running sum left the range (clamping makes the order matter).  Cost: one (R, K)
    cumulative sum per chunk, plus K vector steps over the saturating outputs.
    """
    lo, hi = accumulator_range(acc_bits)
    r_count, k_count = a_rows.shape
    values = np.empty(r_count, dtype=np.int64) if need_values else None
    overflowed = np.zeros(r_count, dtype=bool)
    peak = np.zeros(r_count, dtype=np.int64)
    step = max(1, _CHUNK_ELEMENTS // max(k_count, 1))
    for start in range(0, r_count, step):
        sl = slice(start, min(start + step, r_count))
        products = a_rows[sl].astype(np.int64) * b_cols[sl].astype(np.int64)
        s0 = np.zeros(products.shape[0], dtype=np.int64) if bias is None else bias[sl]
        sums = np.cumsum(products, axis=1)
        sums += s0[:, None]
        out = (sums < lo) | (sums > hi)
        over = out.any(axis=1) | (s0 < lo) | (s0 > hi)
        overflowed[sl] = over
        peak[sl] = np.maximum(np.abs(sums).max(axis=1, initial=0), np.abs(s0))
        if not need_values:
            continue
        final = sums[:, -1] if k_count else s0.copy()
        if overflow == "wrap":
            values[sl] = wrap_signed(final, acc_bits)
            continue
        if overflow == "error":
            values[sl] = final
            continue
        clamped = final.copy()
        rows = np.flatnonzero(over)
        if rows.size:
            state = np.clip(s0[rows], lo, hi)
            for k in range(k_count):
                state = np.clip(state + products[rows, k], lo, hi)
            clamped[rows] = state
        values[sl] = clamped
    return values, overflowed, peak


def raise_overflow(where: str, overflowed: np.ndarray, acc_bits: int, layout: str = "flat") -> None:
    """Raise the ``error``-policy exception for the non-empty output indices ``overflowed``
    (in the caller's ``layout``; the smallest is reported as the first)."""
    count = int(overflowed.size)
    first = int(overflowed.min())
    lo, hi = accumulator_range(acc_bits)
    raise FixedPointOverflowError(
        f"{where}: {count} output(s) had a partial sum outside the {acc_bits}-bit accumulator "
        f"range [{lo}, {hi}] (first at {layout} output index {first}); "
        f"use overflow='wrap' or 'sat', or a wider acc_bits",
        count=count,
        first_index=first,
    )
