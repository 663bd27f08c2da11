"""The MAC array's accumulators: :func:`inwhale_hw.nn.matmul` semantics with a proven fast path.

:func:`accumulate` returns exactly what ``nn.matmul(a, b, bias, acc_bits=, overflow=)`` returns
(values and :class:`~inwhale_hw.nn.AccumulatorStats`).  When the static bound
``B = max|bias| + K * max|a| * max|b|`` satisfies ``B <= 2^(acc_bits-1) - 1`` and ``B <= 2^24``,
no partial sum can leave the accumulator, so the overflow policy cannot act, and every partial
sum of a float32 dot product is an integer of magnitude ``<= 2^24``, hence exact (IEEE 754-2019
§4.3; the argument of :mod:`inwhale_hw.fixed.matmul`).  The product is then one float32 BLAS
call (on one BLAS thread when small, like :func:`~inwhale_hw.fixed.exact_matmul`) and the
statistics follow directly (no overflow, peak over the final sums); everything
else (narrow accumulators, ``track_partials``, wide operands) goes through ``nn.matmul``.  The
bound's ``max|a|`` may be passed in when the caller knows it from a smaller array (im2col
repeats the input's elements).
"""

from __future__ import annotations

import numpy as np

from ..errors import FixedPointOverflowError
from ..fixed.matmul import blas_threads
from ..nn import AccumulatorStats, matmul
from ..nn.accumulate import accumulator_range, signed_bits_needed

__all__ = ["accumulate", "merge_stats"]

_F32_EXACT = 1 << 24


def _max_abs(x: np.ndarray) -> int:
    return max(abs(int(x.min())), abs(int(x.max()))) if x.size else 0


def accumulate(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None, acc_bits: int, overflow: str,
               track_partials: bool, where: str, a_max: int | None = None):
    """``(values, AccumulatorStats)`` of ``bias + a @ b`` (``nn.matmul`` semantics; int32 values
    on the fast path, int64 from ``nn.matmul``).

    ``a`` may be float32 holding integers below 2^24 (im2col builds it in the type the
    product needs); ``b`` and ``bias`` are integer arrays.
    """
    k = a.shape[-1]
    bias_max = _max_abs(bias) if bias is not None else 0
    bound = bias_max + k * (_max_abs(a) if a_max is None else a_max) * _max_abs(b)
    if track_partials or bound > min(accumulator_range(acc_bits)[1], _F32_EXACT):
        a_int = a.astype(np.int32) if a.dtype.kind == "f" else a
        try:
            return matmul(a_int, b, bias, acc_bits=acc_bits, overflow=overflow, track_partials=track_partials)
        except FixedPointOverflowError as exc:
            raise FixedPointOverflowError(f"{where}: {exc}", count=exc.count, first_index=exc.first_index) from None
    with blas_threads(int(np.prod(np.broadcast_shapes(a.shape[:-1], b.shape[:-2] + (1,)))) * k * b.shape[-1]):
        product = np.matmul(a.astype(np.float32, copy=False), b.astype(np.float32))
    if bias is not None:
        product += bias.astype(np.float32)  # |bias + a @ b| <= B <= 2^24: still exact
    peak = _max_abs(product)
    values = product.astype(np.int32)  # |values| <= 2^24; int32 converts several times faster than int64
    stats = AccumulatorStats(
        acc_bits=int(acc_bits), overflow=overflow, outputs=int(values.size), k=int(k), overflowed=0,
        final_out_of_range=0, peak=peak, peak_is_partial=False, bits_needed=signed_bits_needed(peak),
        bound=bound, bound_bits=signed_bits_needed(bound),
    )
    return values, stats


def merge_stats(parts: list[AccumulatorStats]) -> AccumulatorStats:
    """Statistics of one layer computed in several batch chunks: counts add, peaks and bounds
    take the maximum."""
    first = parts[0]
    peak = max(p.peak for p in parts)
    bound = max(p.bound for p in parts)
    return AccumulatorStats(
        acc_bits=first.acc_bits, overflow=first.overflow, outputs=sum(p.outputs for p in parts), k=first.k,
        overflowed=sum(p.overflowed for p in parts), final_out_of_range=sum(p.final_out_of_range for p in parts),
        peak=peak, peak_is_partial=first.peak_is_partial, bits_needed=signed_bits_needed(peak),
        bound=bound, bound_bits=signed_bits_needed(bound),
    )
