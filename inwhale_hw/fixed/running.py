"""Compiled running sums of a matrix product under an accumulator policy (the ``numba`` extra).

For the outputs of chosen rows ``i`` of ``a @ b`` (``a`` M x K, ``b`` K x N) and a start value
``S_0 = c[i, j]``, the accumulator steps ``S_{k+1} = policy(S_k + a[i, k] * b[k, j])`` for
``k = 0..K-1`` in that order (``S_0`` itself passes through the policy first) in a register
of range ``[lo, hi]`` (``[-2^(w-1), 2^(w-1) - 1]`` for a signed ``w``-bit one), and
:func:`running_rows` returns per output:

* ``state``: the final register under the policy: ``"sat"`` (clamp to ``[lo, hi]`` after every
  addition) or ``"zero"`` (a sum outside the range is replaced by 0);
* ``overflowed``: some partial sum left the range, i.e. the smallest or largest unclamped value
  ``S_0`` or ``S_k + a b`` lies outside it.  This is the same test on the exact partial sums:
  up to its first excursion the policy has changed nothing (so a wrapping register's overflow
  statistic is computed by the saturating recurrence too, whose values stay small);
* ``peak`` (``track=True``): the largest ``|S_k|`` over the exact partial sums ``S_0..S_K``.

Exactness.  The compiled kernel runs in float32, float64 or int64, chosen by
:func:`compute_dtype` so that every value it forms is an integer the type represents exactly:
products ``|a b| <= P = max|a| max|b|``, start values ``|S_0| <= max|c|``, exact sums
``|S| <= L`` (with ``track``; the caller's bound ``max|c| + K P``) and clamped steps
``|S + a b| <= max(-lo, hi) + P``; a float32 (float64) operation on integers whose exact
result has magnitude ``<= 2^24`` (``2^53``) returns that result (IEEE 754-2019 §4.3), so the
kernel gives the bits of the Python-int recurrence, and the NumPy path
(:func:`running_rows_numpy`) the same bits.

Speed.  Outputs in blocks of :data:`ROW_BLOCK` rows x :data:`TILE` columns whose state and
extremes stay in the L1/L2 cache while ``k`` runs; each row segment of ``b`` is loaded once per
``k`` for the whole block; the inner loop runs over the columns (contiguous, compiled to SIMD
instructions) and does four steps ``k..k+3`` per load and store of the state.  Rows are split
over a thread pool (the kernel releases the GIL; ``INWHALE_HW_THREADS`` caps it, see
:mod:`inwhale_hw.threads`).  Measured on 256 x 256 x 256 int8 into an 18-bit register: ~7 GMAC/s
of CPU time per thread in float32 (``benchmarks/bench_nn.py``).  numba is imported on first use
and kernels are cached on disk (``cache=True``); ``INWHALE_HW_NUMBA=0`` in the environment
(read at import) forces the NumPy path.
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..threads import thread_count

__all__ = ["ENABLED", "MODES", "ROW_BLOCK", "TILE", "compute_dtype", "running_products", "running_rows", "running_rows_numpy"]

ENABLED = importlib.util.find_spec("numba") is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip().lower() not in (
    "0", "false", "no", "off")
MODES = ("sat", "zero")
#: columns per tile and rows per block: the state and extremes of a block (3 x 8 x 256 x 8
#: bytes = 48 KiB at most) stay in the L1/L2 cache while k runs, and each row of b's tile,
#: loaded once per k, serves the 8 rows of the block
TILE = 256
ROW_BLOCK = 8
#: multiply-adds below which the rows run on the calling thread only
_SERIAL_MACS = 1 << 22
_WORKERS = thread_count(4)
_EXACT_LIMITS = ((np.float32, 1 << 24), (np.float64, 1 << 53), (np.int64, (1 << 63) - 1))
_kernel = None
_pool: ThreadPoolExecutor | None = None


def compute_dtype(bound: int, per_term: int, c_max: int, reach: int, track: bool):
    """The narrowest of float32/float64/int64 in which the kernel's arithmetic is exact, or None.

    ``bound`` bounds ``|S_0| + sum_k |a b|`` (every exact partial sum), ``per_term`` one product
    ``|a b|``, ``c_max`` the start values ``|S_0|``; ``reach = max(-lo, hi)`` bounds a clamped
    state, so a clamped step is at most ``reach + per_term``.
    """
    need = max(bound if track else c_max, reach + per_term)
    for dtype, limit in _EXACT_LIMITS:
        if need <= limit:
            return dtype
    return None


def _compile():
    """Build (once) the compiled row kernel and block transposer; numba is imported here, on
    first use."""
    global _kernel
    if _kernel is not None:
        return _kernel
    import numba

    jit = numba.njit(cache=True, nogil=True)
    # fused multiply-add is allowed ("contract"): a b and S + a b are exact integers in the
    # chosen type, so one rounding or two give the same (exact) value; measured ~8% faster
    jit_fma = numba.njit(cache=True, nogil=True, fastmath={"contract"})

    @jit_fma
    def sat_steps4(s, mn, mx, b0, b1, b2, b3, a0, a1, a2, a3, lo, hi):  # pragma: no cover - compiled
        """Four steps k..k+3 of saturating sums: the state and extremes are loaded and stored
        once per four products (the hot loop)."""
        for j in range(s.size):
            t0 = s[j] + a0 * b0[j]
            c0 = min(max(t0, lo), hi)
            t1 = c0 + a1 * b1[j]
            c1 = min(max(t1, lo), hi)
            t2 = c1 + a2 * b2[j]
            c2 = min(max(t2, lo), hi)
            t3 = c2 + a3 * b3[j]
            s[j] = min(max(t3, lo), hi)
            mn[j] = min(min(min(mn[j], t0), min(t1, t2)), t3)
            mx[j] = max(max(max(mx[j], t0), max(t1, t2)), t3)

    @jit_fma
    def step(s, mn, mx, e, bk, av, lo, hi, zero, track):  # pragma: no cover - compiled
        """One step k for any policy; with ``track`` the extremes are the exact sums' ``e``."""
        for j in range(s.size):
            p = av * bk[j]
            t = s[j] + p
            clamped = min(max(t, lo), hi)
            s[j] = clamped if clamped == t or not zero else 0
            u = t
            if track:
                u = e[j] + p
                e[j] = u
            mn[j] = min(mn[j], u)
            mx[j] = max(mx[j], u)

    @jit
    def rows_kernel(a, b, c, rows, lo, hi, zero, track, state, low, high):  # pragma: no cover - compiled
        n = b.shape[1]
        k_count = a.shape[1]
        fast = not (zero or track)
        k_fast = k_count - k_count % 4 if fast else 0
        exact = np.empty((ROW_BLOCK, min(n, TILE)), dtype=state.dtype)
        for j0 in range(0, n, TILE):
            j1 = min(j0 + TILE, n)
            for r0 in range(0, rows.size, ROW_BLOCK):
                r1 = min(r0 + ROW_BLOCK, rows.size)
                for r in range(r0, r1):
                    for j in range(j0, j1):
                        v = c[rows[r], j]
                        clamped = min(max(v, lo), hi)
                        state[r, j] = clamped if clamped == v or not zero else 0
                        low[r, j] = v
                        high[r, j] = v
                        exact[r - r0, j - j0] = v
                for kk in range(0, k_fast, 4):
                    b0, b1, b2, b3 = b[kk, j0:j1], b[kk + 1, j0:j1], b[kk + 2, j0:j1], b[kk + 3, j0:j1]
                    for r in range(r0, r1):
                        i = rows[r]
                        sat_steps4(state[r, j0:j1], low[r, j0:j1], high[r, j0:j1], b0, b1, b2, b3,
                                   a[i, kk], a[i, kk + 1], a[i, kk + 2], a[i, kk + 3], lo, hi)
                for kk in range(k_fast, k_count):
                    bk = b[kk, j0:j1]
                    for r in range(r0, r1):
                        step(state[r, j0:j1], low[r, j0:j1], high[r, j0:j1], exact[r - r0, : j1 - j0], bk,
                             a[rows[r], kk], lo, hi, zero, track)

    @jit
    def transpose_into(src, dst):  # pragma: no cover - compiled
        """``dst[:] = src.T`` in 64 x 64 blocks (both stay in the cache; NumPy's strided copy of
        a transposed view runs several times slower)."""
        rows, cols = src.shape
        for i0 in range(0, rows, 64):
            for j0 in range(0, cols, 64):
                for i in range(i0, min(i0 + 64, rows)):
                    for j in range(j0, min(j0 + 64, cols)):
                        dst[j, i] = src[i, j]

    _kernel = (rows_kernel, transpose_into)
    return _kernel


def _rows_of(x: np.ndarray, dtype, transpose_into) -> np.ndarray:
    """``x`` as a C-contiguous ``dtype`` array; a transposed view of a C-contiguous array (the
    transposed im2col matrix of a convolution with few output channels) is copied in blocks."""
    if x.ndim == 2 and not x.flags.c_contiguous and x.T.flags.c_contiguous and x.size >= 1 << 16:
        out = np.empty(x.shape, dtype=dtype)
        transpose_into(x.T, out)
        return out
    return np.ascontiguousarray(x, dtype=dtype)


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="inwhale-running")
    return _pool


def running_rows(a: np.ndarray, b: np.ndarray, c: np.ndarray, rows: np.ndarray, lo: int, hi: int, mode: str,
                 track: bool, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Compiled running sums of the outputs in ``rows`` of ``c + a @ b`` (module docstring).

    ``a`` (M, K), ``b`` (K, N), ``c`` (M, N) integer arrays (``c`` may be a broadcast view),
    ``rows`` int64 row indices, ``[lo, hi]`` the register's range (``lo <= 0 <= hi``),
    ``dtype`` from :func:`compute_dtype`.  Returns ``(state,
    overflowed, peak)``: (len(rows), N) int64 final registers, bool "a partial sum left the
    range", and with ``track`` the int64 largest ``|S_k|`` of the exact partial sums (else None).
    Requires numba.
    """
    kernel, transpose_into = _compile()
    a_c = _rows_of(a, dtype, transpose_into)
    b_c = _rows_of(b, dtype, transpose_into)
    c_c = np.ascontiguousarray(c, dtype=dtype)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    state, low, high = (np.empty((rows.size, b.shape[1]), dtype=dtype) for _ in range(3))
    args = (dtype(lo), dtype(hi), mode == "zero", bool(track))
    macs = rows.size * b.shape[1] * a.shape[1]
    parts = min(_WORKERS, rows.size) if macs > _SERIAL_MACS else 1
    if parts <= 1:
        kernel(a_c, b_c, c_c, rows, *args, state, low, high)
    else:
        cuts = np.linspace(0, rows.size, parts + 1).astype(int)
        futures = [_get_pool().submit(kernel, a_c, b_c, c_c, rows[p:q], *args, state[p:q], low[p:q], high[p:q])
                   for p, q in zip(cuts[:-1], cuts[1:])]
        for f in futures:
            f.result()
    over = (low < args[0]) | (high > args[1])
    peak = np.maximum(np.abs(low.astype(np.int64)), np.abs(high.astype(np.int64))) if track else None
    return state.astype(np.int64), over, peak


def running_products(a3: np.ndarray, b3: np.ndarray, c3: np.ndarray, risky3: np.ndarray | None,
                     values3: np.ndarray | None, lo: int, hi: int, mode: str, track: bool, dtype) -> tuple[np.ndarray, int]:
    """:func:`running_rows` over a batch of products ``c3[g] + a3[g] @ b3[g]``.

    ``a3`` (1 or B, M, K), ``b3`` (1 or B, K, N), ``c3`` (B, M, N) (a broadcast view is fine);
    ``risky3`` (B, M, N) bool marks the outputs that need running sums (None: all), and every
    row holding one is run.  ``values3`` (B, M, N) int64 or None receives the final registers of
    the rows run (the caller fills the others).  When a product has fewer than :data:`TILE`
    columns and more rows, its transpose ``b^T a^T`` is run instead, so that the SIMD lanes run
    along the longer axis (a convolution's output channels: 64 in a ResNet stage, 1 in a
    depthwise layer); each output's sum keeps its order in ``k``.  Returns ``(overflowed, peak)``:
    the (B, M, N) bool mask and, with ``track``, the largest exact ``|S_k|`` (else 0).
    """
    batches, m, n = c3.shape
    over = np.zeros((batches, m, n), dtype=bool)
    peak = 0
    for g in range(batches):
        a_g, b_g, c_g = a3[g if a3.shape[0] > 1 else 0], b3[g if b3.shape[0] > 1 else 0], c3[g]
        mask = None if risky3 is None else risky3[g]
        over_g = over[g]
        values_g = None if values3 is None else values3[g]
        if n < TILE and m > n:
            a_g, b_g, c_g, over_g = b_g.T, a_g.T, c_g.T, over_g.T
            mask = None if mask is None else mask.T
            values_g = None if values_g is None else values_g.T
        rows = np.arange(a_g.shape[0]) if mask is None else np.flatnonzero(mask.any(axis=1))
        if not rows.size:
            continue
        state, hit, row_peak = running_rows(a_g, b_g, c_g, rows, lo, hi, mode, track, dtype)
        over_g[rows] = hit
        if values_g is not None:
            values_g[rows] = state
        if track:
            peak = max(peak, int(row_peak.max(initial=0)))
    return over, peak


def running_rows_numpy(a: np.ndarray, b: np.ndarray, c: np.ndarray, rows: np.ndarray, lo: int, hi: int, mode: str,
                       track: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The NumPy path of :func:`running_rows` (same arguments but ``dtype``, same results):
    int64, vectorized over the outputs of the rows, ``K`` steps.  Exact while every value fits
    int64 (``|S_k| + |a b| < 2^63``)."""
    a_r = np.asarray(a)[rows].astype(np.int64)
    b_i = np.asarray(b).astype(np.int64)
    exact = np.asarray(c)[rows].astype(np.int64)
    over = (exact < lo) | (exact > hi)
    state = _policy(exact, lo, hi, mode)
    peak = np.abs(exact)
    for kk in range(a_r.shape[1]):
        p = a_r[:, kk, None] * b_i[kk]
        t = state + p
        over |= (t < lo) | (t > hi)
        state = _policy(t, lo, hi, mode)
        if track:
            exact = exact + p
            np.maximum(peak, np.abs(exact), out=peak)
    return state, over, (peak if track else None)


def _policy(t: np.ndarray, lo: int, hi: int, mode: str) -> np.ndarray:
    if mode == "sat":
        return np.clip(t, lo, hi)
    return np.where((t >= lo) & (t <= hi), t, 0)
