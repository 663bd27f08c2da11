"""Fixed-point :func:`matmul` and :func:`dot` into an explicit accumulator format.

Each output is ``acc = 0; for k in 0..K-1: acc = overflow(acc + a[m,k] * b[k,n])``: the products
are exact (format ``mul_format(fa, fb)``), the accumulator has that many fractional bits and the
``int_bits`` you choose, and the overflow policy acts on every partial sum in the order
``k = 0, 1, ..., K-1``, as a MAC unit does:

* WRAP: modular arithmetic commutes with summation, so the result is the exact sum wrapped
  once.  ``overflows`` counts outputs whose exact sum lies outside the accumulator range
  (whose result differs from the true value); intermediate wraps that unwind are harmless.
* SAT, SAT_SYM, SAT_ZERO: a partial sum leaving the range is clamped (or zeroed) before the next
  product is added.  ``overflows`` counts outputs where that happened at least once.
* ERROR: raises :class:`~inwhale_hw.errors.FixedPointOverflowError` if any partial sum of any
  output leaves the range (``count`` = such outputs, ``first_index`` = the first, flat).

Speed: when the bound ``L`` of :mod:`.matmul` shows no partial sum can leave the range, the
exact product is the answer (one BLAS call).  Otherwise the saturating policies run the compiled
running sums of :mod:`.running` (numba; float32/float64/int64 arithmetic proved exact for the
values at hand) and, without numba or with ``INWHALE_HW_NUMBA=0``, the NumPy path, which gives
the same bits: K is processed in blocks of up to 64:
outputs whose block cannot reach a limit (checked exactly with ``|a| @ |b|``) take the block sum
in one step; the others get their exact prefix sums (``cumsum``), and only outputs whose prefix
really leaves the range are stepped through ``k`` one at a time (vectorized over those outputs,
a Python loop over ``k``).  Measured for 256x256x256 int8 into an 18-bit SAT accumulator with
a quarter of the outputs saturating: see ``benchmarks/bench_fixed.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError, ParameterError, WidthLimitError
from . import running
from .arith import mul_format
from .format import MAX_BITS, QFormat
from .matmul import matmul_bound, matmul_int, max_abs, wide_matmul
from .modes import Overflow, as_overflow
from .overflow import as_raw, overflow_error, wrap

__all__ = ["AccumResult", "matmul", "dot", "accumulator_format"]

_BLOCK = 64


class AccumResult(NamedTuple):
    """``(raw, fmt, overflows)``: raw int64 results, the accumulator format, overflow count."""

    raw: np.ndarray
    fmt: QFormat
    overflows: int


def accumulator_format(fa: QFormat, fb: QFormat, k: int) -> QFormat:
    """The narrowest accumulator that holds any sum of ``k`` products exactly (never overflows)."""
    prod = mul_format(fa, fb)
    int_bits = prod.int_bits + max(int(k) - 1, 0).bit_length()
    if int_bits + prod.frac_bits > MAX_BITS:
        raise WidthLimitError(
            f"an exact accumulator for {k} products of {prod} needs {int_bits + prod.frac_bits} bits, "
            f"more than {MAX_BITS}; pass a narrower acc format with an overflow policy"
        )
    return QFormat(int_bits, prod.frac_bits, prod.signed)


def _limits(fmt: QFormat, mode: Overflow) -> tuple[int, int]:
    if mode is Overflow.SAT_SYM and fmt.signed:
        return -fmt.raw_max, fmt.raw_max
    return fmt.raw_min, fmt.raw_max


def matmul(
    a: object, fa: QFormat, b: object, fb: QFormat, acc: QFormat | None = None, overflow: Overflow | str = Overflow.WRAP
) -> AccumResult:
    """``a @ b`` of raw values (NumPy matmul shapes) accumulated in ``acc`` under ``overflow``.

    ``acc`` must have ``fa.frac_bits + fb.frac_bits`` fractional bits; ``None`` picks
    :func:`accumulator_format` (exact, no overflow).  Default ``overflow=WRAP`` is a plain
    two's complement accumulator register.  Returns :class:`AccumResult`.
    """
    mode = as_overflow(overflow)
    prod = mul_format(fa, fb)
    ra, rb = as_raw(a, fa, "matmul"), as_raw(b, fb, "matmul")
    if ra.ndim == 0 or rb.ndim == 0:
        raise InputError("matmul: operands must have at least one dimension")
    a2 = ra[None, :] if ra.ndim == 1 else ra
    b2 = rb[:, None] if rb.ndim == 1 else rb
    if a2.shape[-1] != b2.shape[-2]:
        raise InputError(f"matmul: inner dimensions differ: {ra.shape} @ {rb.shape}")
    if acc is None:
        acc = accumulator_format(fa, fb, a2.shape[-1])
    elif not isinstance(acc, QFormat) or acc.frac_bits != prod.frac_bits:
        raise ParameterError(
            f"matmul: acc={acc!r} is not allowed; the accumulator needs frac_bits={prod.frac_bits} "
            f"(products of {fa} and {fb} are {prod}), e.g. QFormat.from_bits(32, {prod.frac_bits})"
        )
    out, count, first = _accumulate(a2, b2, acc, mode)
    if ra.ndim == 1:
        out = out[..., 0, :]
    if rb.ndim == 1:
        out = out[..., 0]
    if count and mode is Overflow.ERROR:
        raise overflow_error(acc, count, first, "a partial sum of that output", out.size)
    return AccumResult(out, acc, count)


def dot(
    a: object, fa: QFormat, b: object, fb: QFormat, acc: QFormat | None = None, overflow: Overflow | str = Overflow.WRAP
) -> AccumResult:
    """``sum_k a[..., k] * b[..., k]`` (shapes broadcast) accumulated like :func:`matmul`."""
    ra, rb = np.asarray(a), np.asarray(b)
    if ra.ndim == 0 or rb.ndim == 0:
        raise InputError("dot: operands must have at least one dimension")
    result = matmul(ra[..., None, :], fa, rb[..., :, None], fb, acc, overflow)
    return AccumResult(result.raw[..., 0, 0], result.fmt, result.overflows)


def _accumulate(a: np.ndarray, b: np.ndarray, acc: QFormat, mode: Overflow):
    lo, hi = _limits(acc, mode)
    nonneg = (a.size == 0 or a.min() >= 0) and (b.size == 0 or b.min() >= 0)
    # below this the global bound decides both the range check and float32 BLAS (matmul_int)
    sufficient = min(hi, 1 << 24) if nonneg else min(hi, -lo, 1 << 24)
    bound = matmul_bound(a, b, sufficient)
    if bound <= hi and (0 if nonneg else -bound) >= lo:
        return matmul_int(a, b, bound), 0, None
    if mode is Overflow.WRAP:
        return _wrapped(a, b, acc, bound)
    return _running(a, b, acc, mode, lo, hi)


def _wrapped(a, b, acc, bound):
    if bound <= (1 << 63) - 1:
        exact = matmul_int(a, b, bound)
        bad = (exact < acc.raw_min) | (exact > acc.raw_max)
    else:
        wide = wide_matmul(a, b)
        bad = (wide < acc.raw_min) | (wide > acc.raw_max)
        bad = bad.astype(bool)
        exact = ((wide - acc.raw_min) % (1 << acc.bits) + acc.raw_min).astype(np.int64)
    count = int(np.count_nonzero(bad))
    return wrap(exact, acc), count, (int(np.argmax(bad)) if count else None)


def _saturating_steps(run, hit, steps, product, mode, lo, hi):
    """For ``kk`` in ``range(steps)``: ``run += product(kk)`` with the policy applied each step.

    Works in place on preallocated buffers (large fresh temporaries cost page faults).
    """
    room = np.empty_like(run)
    up = np.empty(run.shape, dtype=bool)
    down = np.empty(run.shape, dtype=bool)
    for kk in range(steps):
        p = product(kk)
        np.subtract(hi, run, out=room)  # overflow-free tests: run is in [lo, hi]
        np.greater(p, room, out=up)
        np.subtract(lo, run, out=room)
        np.less(p, room, out=down)
        run += p  # wraps only in lanes replaced just below
        np.copyto(run, 0 if mode is Overflow.SAT_ZERO else hi, where=up)
        np.copyto(run, 0 if mode is Overflow.SAT_ZERO else lo, where=down)
        hit |= up
        hit |= down
    return run, hit


def _running(a, b, acc, mode, lo, hi):
    """Partial sums in order k = 0..K-1 with the overflow policy applied to each: compiled
    (:mod:`.running`) when numba is available and the values fit its exact arithmetic, else
    :func:`_running_numpy` (the same bits)."""
    if running.ENABLED:
        compiled = _running_compiled(a, b, mode, lo, hi)
        if compiled is not None:
            return compiled
    return _running_numpy(a, b, acc, mode, lo, hi)


def _running_compiled(a, b, mode, lo, hi):
    """:func:`.running.running_products` over every output, or None when its arithmetic could
    not hold the values exactly."""
    per_term = max_abs(a) * max_abs(b)
    dtype = running.compute_dtype(a.shape[-1] * per_term, per_term, 0, max(-lo, hi), False)
    if dtype is None:
        return None
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k = a.shape[-2:]
    n = b.shape[-1]
    a3 = np.broadcast_to(a, batch + (m, k)).reshape(-1, m, k)
    b3 = np.broadcast_to(b, batch + (k, n)).reshape(-1, k, n)
    c3 = np.broadcast_to(np.zeros((), np.int64), (max(a3.shape[0], b3.shape[0]), m, n))
    values = np.empty(c3.shape, dtype=np.int64)
    policy = "zero" if mode is Overflow.SAT_ZERO else "sat"
    over, _ = running.running_products(a3, b3, c3, None, values, lo, hi, policy, False, dtype)
    count = int(np.count_nonzero(over))
    return values.reshape(batch + (m, n)), count, (int(np.argmax(over)) if count else None)


def _running_numpy(a, b, acc, mode, lo, hi):
    """The NumPy path of :func:`_running`.

    Per block of K: when most outputs could reach a limit, every output is stepped through k on
    preallocated buffers; otherwise outputs whose block cannot reach a limit (exact ``|a| @ |b|``
    bound) add the block sum at once, the others get their exact prefix sums by ``cumsum`` and,
    only where a prefix actually leaves the range, are stepped through k one at a time.
    """
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k = a.shape[-2:]
    n = b.shape[-1]
    a3 = np.broadcast_to(a, batch + (m, k)).reshape(-1, m, k)
    b3 = np.broadcast_to(b, batch + (k, n)).reshape(-1, k, n)
    bt = np.ascontiguousarray(b3.transpose(0, 2, 1))  # rows of b^T: contiguous gathers below
    total = np.zeros((a3.shape[0], m, n), dtype=np.int64)
    flagged = np.zeros(total.shape, dtype=bool)
    per_term = max(int(np.abs(a3).max(initial=0)) * int(np.abs(b3).max(initial=0)), 1)
    headroom = (1 << 63) - 1 - max(abs(lo), abs(hi))  # |running total| + |prefix| must fit int64
    step = max(1, min(_BLOCK, ((1 << 62) - 1) // per_term))
    prefix_ok = headroom // per_term >= step
    buffer = np.empty(total.shape, dtype=np.int64)

    def dense(kk: int) -> np.ndarray:  # products of step kk for every output, into one buffer
        return np.multiply(a3[:, :, kk, None], b3[:, None, kk, :], out=buffer)

    for k0 in range(0, k, step):
        ab, bb = a3[:, :, k0 : k0 + step], b3[:, k0 : k0 + step, :]
        bound = per_term * ab.shape[-1]
        reach = matmul_int(np.abs(ab), np.abs(bb), bound)
        safe = (reach <= hi - total) & (reach <= total - lo)
        if np.count_nonzero(~safe) * 4 > safe.size:  # most outputs: step them all, densely
            span = ab.shape[-1]
            total, flagged = _saturating_steps(total, flagged, span, lambda kk: dense(k0 + kk), mode, lo, hi)
            continue
        if safe.any():
            total[safe] += matmul_int(ab, bb, bound)[safe]
        if safe.all():
            continue
        bi, mi, ni = np.nonzero(~safe)
        prods = a3[bi, mi, k0 : k0 + step]
        prods *= bt[bi, ni, k0 : k0 + step]
        run, hit = total[bi, mi, ni], flagged[bi, mi, ni]
        if prefix_ok:
            sums = np.cumsum(prods, axis=1)
            sums += run[:, None]
            leaves = (sums.min(axis=1) < lo) | (sums.max(axis=1) > hi)
            run = np.where(leaves, run, sums[:, -1])
            if leaves.any():
                sub = prods[leaves]
                run[leaves], hit[leaves] = _saturating_steps(
                    run[leaves], hit[leaves], sub.shape[1], lambda kk: sub[:, kk], mode, lo, hi
                )
        else:
            run, hit = _saturating_steps(run, hit, prods.shape[1], lambda kk: prods[:, kk], mode, lo, hi)
        total[bi, mi, ni], flagged[bi, mi, ni] = run, hit
    count = int(np.count_nonzero(flagged))
    first = int(np.argmax(flagged)) if count else None
    return total.reshape(batch + (m, n)), count, first
