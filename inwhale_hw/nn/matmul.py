"""Exact integer matrix product with a modelled accumulator.

``matmul(a, b, bias, acc_bits=32, overflow="wrap")`` computes ``bias + a @ b`` the way an
integer datapath with a signed ``acc_bits`` accumulator does, in the order stated in
:mod:`inwhale_hw.nn.accumulate` (bias first, then k = 0..K-1), and returns the register values
with :class:`~inwhale_hw.nn.accumulate.AccumulatorStats`.

Speed: the exact sum ``bias + a @ b`` comes from one call of
:func:`inwhale_hw.fixed.matmul.exact_product` (the kernel of ``exact_matmul``; bias as its addend), which uses float32 BLAS while
``max|bias| + K * max|a| * max|b| <= 2^24`` (or a finer per-row/column bound is), float64 BLAS
below ``2^53`` (every partial sum of a float dot product is then an integer below the
significand limit, so no rounding can happen in any order) and integer arithmetic beyond; the
maxima scanned here for the statistics are passed on, not scanned twice.  The policy is then
applied without a sequential pass whenever it provably cannot matter:

1. global bound ``max|bias| + K max|a| max|b|`` inside the range: no partial sum can overflow;
2. otherwise the per-output bound ``|bias| + (|a| @ |b|)`` (one more exact matmul) selects the
   outputs that might overflow, and only those get running sums.  With numba (the default
   when installed) they are compiled (:func:`inwhale_hw.fixed.running.running_products`:
   whole rows of outputs, SIMD across columns, threads across rows; float32 arithmetic for a
   narrow register, proved exact), and the per-output bound is skipped when a sample of
   :data:`_SAMPLE_ROWS` rows shows every row would be run anyway; under ``wrap``/``error``
   the overflow statistic comes from the saturating recurrence, whose first excursion is the
   exact sums' first one.  Without numba, or with ``INWHALE_HW_NUMBA=0``, the same bits come
   from :func:`~inwhale_hw.nn.accumulate.running_sums` (NumPy, vectorized across outputs).
   Measured in ``benchmarks/bench_nn.py``.

Broadcasting follows ``numpy.matmul`` (and ONNX MatMul): ``(..., M, K) @ (..., K, N)``, 1-D
operands promoted and the added axis removed.  Values are returned as int64.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import InputError, WidthLimitError
from ..fixed import running
from ..fixed.matmul import exact_product, matmul_shapes, max_abs
from .accumulate import (
    AccumulatorStats,
    accumulator_range,
    check_policy,
    raise_overflow,
    running_sums,
    signed_bits_needed,
    wrap_signed,
)

__all__ = ["MatmulResult", "accumulate_product", "as_integer_array", "matmul"]


#: rows whose per-output bounds decide whether the full bound is worth computing
_SAMPLE_ROWS = 8


class MatmulResult(NamedTuple):
    """Accumulator values (int64) and the statistics of the call."""

    values: np.ndarray
    stats: AccumulatorStats


def as_integer_array(x: object, name: str, where: str) -> np.ndarray:
    """``x`` as a NumPy integer array, or :class:`InputError` naming the bad dtype."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{where}: {name} must be an integer array, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) >= 1 << 63:
        raise InputError(f"{where}: {name} holds {int(arr.max())}, above the int64 range")
    return arr


def matmul(
    a: object,
    b: object,
    bias: object | None = None,
    *,
    acc_bits: int = 32,
    overflow: str = "wrap",
    track_partials: bool = False,
) -> MatmulResult:
    """Integer ``bias + a @ b`` in a signed ``acc_bits`` accumulator under ``overflow``.

    Args:
        a: integer array (..., M, K) (or (K,)).
        b: integer array (..., K, N) (or (K,)).
        bias: optional integer array broadcastable to the output shape, loaded into the
            accumulator before the first product.
        acc_bits: accumulator width, 2..64 (default 32, as in onnxruntime/TFLite/XNNPACK).
        overflow: "wrap", "sat" or "error" (see :mod:`inwhale_hw.nn.accumulate`).
        track_partials: also measure the exact peak over every partial sum of every output
            (a K-step pass over all outputs; off by default because it costs far more than the
            product itself).

    Returns:
        ``MatmulResult(values, stats)``; ``values`` is int64 of the broadcast output shape.

    Raises:
        InputError: non-integer operands or mismatched shapes.
        WidthLimitError: the exact sums could exceed int64 (bound >= 2^63).
        FixedPointOverflowError: ``overflow="error"`` and some partial sum left the range.
    """
    where = "matmul"
    check_policy(acc_bits, overflow)
    a, b, out_shape, shape = matmul_shapes(as_integer_array(a, "a", where), as_integer_array(b, "b", where), where)
    if bias is not None:
        bias = as_integer_array(bias, "bias", where)
        try:
            np.broadcast_to(bias, out_shape)
        except ValueError:
            raise InputError(f"{where}: bias of shape {bias.shape} does not broadcast to {out_shape}") from None
    values, stats, overflowed = accumulate_product(a, b, bias, acc_bits, overflow, track_partials, where)
    if overflow == "error" and overflowed.size:
        raise_overflow(where, overflowed, acc_bits)
    return MatmulResult(values.reshape(shape) if shape != out_shape else values, stats)


def accumulate_product(
    a: np.ndarray,
    b: np.ndarray,
    bias: np.ndarray | None,
    acc_bits: int,
    overflow: str,
    track_partials: bool,
    where: str,
) -> tuple[np.ndarray, AccumulatorStats, np.ndarray]:
    """The accumulators of ``bias + a @ b`` for checked operands (the kernel of :func:`matmul`
    and :func:`~inwhale_hw.nn.conv2d`).

    ``a`` (..., M, K) and ``b`` (..., K, N) are integer arrays whose batch axes broadcast,
    ``bias`` an integer array broadcastable to the output (not materialized) or None, and the
    policy valid.  Returns ``(values, stats, overflowed)``: int64 register values of the
    broadcast shape (the exact sums under ``error``), the statistics, and the sorted flat
    indices of the outputs with a partial sum outside the range (exact; the caller raises
    under ``error``, so it can name the outputs in its own layout).
    """
    lo, hi = accumulator_range(int(acc_bits))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out_shape = batch + (a.shape[-2], b.shape[-1])
    k = a.shape[-1]
    n_out = math.prod(out_shape)
    if bias is not None:
        bias = bias.astype(np.int64, copy=False)
    c_max = max_abs(bias) if bias is not None else 0
    bias_max = c_max if n_out else 0
    a_max, b_max = max_abs(a), max_abs(b)
    bound = bias_max + k * a_max * b_max
    if bound >= 1 << 63:
        raise WidthLimitError(
            f"{where}: worst-case sum {bound} (K={k}, max|a|={a_max}, max|b|={b_max}) "
            f"does not fit int64; split K or narrow the operands"
        )
    exact = exact_product(a, b, bias, c_max, (a_max, b_max))
    final_out = 0 if bound <= hi else int(np.count_nonzero((exact < lo) | (exact > hi)))
    overflowed = np.empty(0, dtype=np.int64)
    peak = max_abs(exact)
    values = exact
    if track_partials or bound > hi:
        dtype = running.compute_dtype(bound, a_max * b_max, c_max, -lo, track_partials)
        compiled = running.ENABLED and dtype is not None
        if track_partials or (compiled and _all_rows_risky(a, b, bias, out_shape, hi, c_max, (a_max, b_max))):
            risky = np.ones(out_shape, dtype=bool)
        else:
            risky = np.broadcast_to(_output_bounds(a, b, bias, c_max, (a_max, b_max)) > hi, out_shape)
        a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, a.shape[-2], k)
        b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, k, b.shape[-1])
        if compiled:
            c3 = np.broadcast_to(np.zeros((), np.int64) if bias is None else bias, out_shape).reshape(-1, *out_shape[-2:])
            values = exact.copy() if overflow == "sat" else exact
            over, r_peak = running.running_products(
                a3, b3, c3, risky.reshape(c3.shape), values.reshape(c3.shape) if overflow == "sat" else None,
                lo, hi, "sat", track_partials, dtype)
            overflowed = np.flatnonzero(over)
            if track_partials:
                peak = r_peak
        elif (flat := np.flatnonzero(risky)).size:
            bi, i, j = np.unravel_index(flat, (a3.shape[0],) + out_shape[-2:])
            r_bias = np.broadcast_to(bias, out_shape)[np.unravel_index(flat, out_shape)] if bias is not None else None
            seq, over, r_peak = running_sums(
                a3[bi, i, :], b3[bi, :, j], r_bias, acc_bits, overflow, overflow == "sat"
            )
            overflowed = flat[over]
            if overflow == "sat":
                values = exact.copy()
                values.reshape(-1)[flat] = seq
            if track_partials:
                peak = int(r_peak.max(initial=0))
    if overflow == "wrap" and final_out:
        values = wrap_signed(exact, acc_bits)
    stats = AccumulatorStats(
        acc_bits=int(acc_bits),
        overflow=overflow,
        outputs=n_out,
        k=k,
        overflowed=int(overflowed.size),
        final_out_of_range=final_out,
        peak=peak,
        peak_is_partial=bool(track_partials),
        bits_needed=signed_bits_needed(peak),
        bound=bound,
        bound_bits=signed_bits_needed(bound),
    )
    return values, stats, overflowed


def _output_bounds(a, b, bias, c_max, abs_max) -> np.ndarray:
    """Per-output bound ``|bias| + |a| @ |b|`` on every partial sum (one more exact product)."""
    return exact_product(_abs(a, abs_max[0]), _abs(b, abs_max[1]), None if bias is None else np.abs(bias),
                         c_max, abs_max)


def _all_rows_risky(a, b, bias, out_shape, hi, c_max, abs_max) -> bool:
    """True when the per-output bound of :data:`_SAMPLE_ROWS` evenly spaced rows leaves a
    risky output in every sampled row.  The compiled kernel runs whole rows (or whole columns of
    a transposed product), so the full bound (a product as costly as the exact one) would then
    most likely select all of them anyway and is skipped; running a provably safe output
    changes no value and no statistic."""
    m, n = out_shape[-2:]
    if m < 4 * _SAMPLE_ROWS:
        return False
    rows = np.linspace(0, m - 1, _SAMPLE_ROWS).astype(np.intp)
    bias_rows = None if bias is None else np.broadcast_to(bias, out_shape)[..., rows, :]
    sample = np.broadcast_to(_output_bounds(a[..., rows, :], b, bias_rows, c_max, abs_max), out_shape[:-2] + (rows.size, n))
    return bool((sample > hi).any(axis=-1).all())


def _abs(x: np.ndarray, x_max: int) -> np.ndarray:
    """``|x|`` in the narrowest safe integer type (``x``'s own unless ``max|x|`` is its ``-min``)."""
    if x.dtype.kind == "u":
        return x
    return np.abs(x) if x_max <= np.iinfo(x.dtype).max else np.abs(x.astype(np.int64))
