"""Compiled running sums of a matrix product under an accumulator policy (the ``numba`` extra).

For the outputs of chosen rows ``i`` of ``a @ b`` (``a`` M x K, ``b`` K x N) and a start value
``S_0 = c[i, j]``, the accumulator steps ``S_{k+1} = policy(S_k + a[i, k] * b[k, j])`` for
``k = 0..K-1`` in that order (``S_0`` itself passes through the policy first), and
:func:`running_rows` returns per output:

* ``state``: the final register under the policy: ``"sat"`` (clamp to ``[lo, hi] =
  [-2^(w-1), 2^(w-1) - 1]`` after every addition) or ``"zero"`` (a sum outside the range is
  replaced by 0);
* ``overflowed``: some partial sum left the range, i.e. some unclamped ``S_0`` or
  ``S_k + a b`` lies outside it (tracked as ``max |t - clamp(t)| > 0``).  This is the same
  test on the exact partial sums: up to its first excursion the policy has changed nothing (so
  a wrapping register's overflow statistic is computed by the saturating recurrence too, whose
  values stay small);
* ``peak`` (``track=True``): the largest ``|S_k|`` over the exact partial sums ``S_0..S_K``.

Exactness.  The compiled kernel runs in float32, float64 or int64, chosen by
:func:`compute_dtype` so that every value it forms is an integer the type represents exactly:
products ``|a b| <= P = max|a| max|b|``, start values ``|S_0| <= max|c|``, exact sums
``|S| <= L`` (with ``track``; the caller's bound ``max|c| + K P``) and clamped steps ``|S + a b| <= 2^(w-1) + P`` for a ``w``-bit register; a
float32 (float64) operation on integers whose exact result has magnitude ``<= 2^24``
(``2^53``) returns that result (IEEE 754-2019 §4.3), so the kernel gives the bits of the
Python-int recurrence, and the NumPy path (:func:`running_rows_numpy`) the same bits.

Speed.  One row of outputs at a time, the columns in tiles of :data:`TILE` (the state and flag
of a tile stay in the L1 cache while ``k`` runs), the inner loop over the columns of the
tile contiguous so that it compiles to SIMD instructions; rows are split over a thread pool
(the kernel releases the GIL).  numba is imported on first use and kernels are cached on disk
(``cache=True``); ``INWHALE_HW_NUMBA=0`` in the environment (read at import) forces NumPy.
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["ENABLED", "MODES", "ROW_BLOCK", "TILE", "compute_dtype", "running_rows", "running_rows_numpy"]

ENABLED = importlib.util.find_spec("numba") is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip().lower() not in (
    "0", "false", "no", "off")
MODES = ("sat", "zero")
#: columns per tile and rows per block: the state and flag of a block (2 x 8 x 256 x 8 bytes
#: = 32 KiB at most) stay in the L1/L2 cache while k runs, and each row of b's tile, loaded once
#: per k, serves the 8 rows of the block
TILE = 256
ROW_BLOCK = 8
#: multiply-adds below which the rows run on the calling thread only
_SERIAL_MACS = 1 << 22
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_EXACT_LIMITS = ((np.float32, 1 << 24), (np.float64, 1 << 53), (np.int64, (1 << 63) - 1))
_kernel = None
_pool: ThreadPoolExecutor | None = None


def compute_dtype(bound: int, per_term: int, c_max: int, acc_bits: int, track: bool):
    """The narrowest of float32/float64/int64 in which the kernel's arithmetic is exact, or None.

    ``bound`` bounds ``|S_0| + sum_k |a b|`` (every exact partial sum), ``per_term`` one product
    ``|a b|``, ``c_max`` the start values ``|S_0|``; ``acc_bits`` is the register width (its range
    bounds a clamped state, so a clamped step is at most ``2^(acc_bits-1) + per_term``).
    """
    need = max(bound if track else c_max, (1 << (acc_bits - 1)) + per_term)
    for dtype, limit in _EXACT_LIMITS:
        if need <= limit:
            return dtype
    return None


def _compile():
    """Build (once) the compiled row kernel; numba is imported here, on first use."""
    global _kernel
    if _kernel is not None:
        return _kernel
    import numba

    jit = numba.njit(cache=True, nogil=True)

    @jit
    def sat_step(s, q, bk, av, lo, hi):  # pragma: no cover - compiled; the hot loop
        for j in range(s.size):
            t = s[j] + av * bk[j]
            clamped = min(max(t, lo), hi)
            q[j] = max(q[j], abs(t - clamped))
            s[j] = clamped

    @jit
    def general_step(s, q, e, mn, mx, bk, av, lo, hi, zero, track):  # pragma: no cover - compiled
        for j in range(s.size):
            p = av * bk[j]
            t = s[j] + p
            clamped = min(max(t, lo), hi)
            q[j] = max(q[j], abs(t - clamped))
            s[j] = clamped if clamped == t or not zero else 0
            if track:
                u = e[j] + p
                e[j] = u
                mn[j] = min(mn[j], u)
                mx[j] = max(mx[j], u)

    @jit
    def rows_kernel(a, b, c, rows, lo, hi, zero, track, state, flag, low, high):  # pragma: no cover - compiled
        n = b.shape[1]
        k_count = a.shape[1]
        exact = np.empty((ROW_BLOCK, min(n, TILE)), dtype=state.dtype)
        for j0 in range(0, n, TILE):
            j1 = min(j0 + TILE, n)
            width = j1 - j0
            for r0 in range(0, rows.size, ROW_BLOCK):
                r1 = min(r0 + ROW_BLOCK, rows.size)
                for r in range(r0, r1):
                    s = state[r, j0:j1]
                    q = flag[r, j0:j1]
                    e = exact[r - r0, :width]
                    for j in range(width):
                        v = c[rows[r], j0 + j]
                        clamped = min(max(v, lo), hi)
                        q[j] = abs(v - clamped)
                        s[j] = clamped if clamped == v or not zero else 0
                        e[j] = v
                    if track:
                        low[r, j0:j1] = e
                        high[r, j0:j1] = e
                for kk in range(k_count):
                    bk = b[kk, j0:j1]
                    for r in range(r0, r1):
                        if zero or track:
                            general_step(state[r, j0:j1], flag[r, j0:j1], exact[r - r0, :width],
                                         low[r if track else 0, j0:j1], high[r if track else 0, j0:j1],
                                         bk, a[rows[r], kk], lo, hi, zero, track)
                        else:
                            sat_step(state[r, j0:j1], flag[r, j0:j1], bk, a[rows[r], kk], lo, hi)

    _kernel = rows_kernel
    return _kernel


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="inwhale-running")
    return _pool


def running_rows(a: np.ndarray, b: np.ndarray, c: np.ndarray, rows: np.ndarray, acc_bits: int, mode: str,
                 track: bool, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Compiled running sums of the outputs in ``rows`` of ``c + a @ b`` (module docstring).

    ``a`` (M, K), ``b`` (K, N), ``c`` (M, N) integer arrays (``c`` may be a broadcast view),
    ``rows`` int64 row indices, ``dtype`` from :func:`compute_dtype`.  Returns ``(state,
    overflowed, peak)``: (len(rows), N) int64 final registers, bool "a partial sum left the
    range", and with ``track`` the int64 largest ``|S_k|`` of the exact partial sums (else None).
    Requires numba.
    """
    kernel = _compile()
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    a_c = np.ascontiguousarray(a, dtype=dtype)
    b_c = np.ascontiguousarray(b, dtype=dtype)
    c_c = np.ascontiguousarray(c, dtype=dtype)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n = b.shape[1]
    state, flag = np.empty((rows.size, n), dtype=dtype), np.empty((rows.size, n), dtype=dtype)
    shape = (rows.size, n) if track else (1, n)
    low, high = np.empty(shape, dtype=dtype), np.empty(shape, dtype=dtype)
    args = (dtype(lo), dtype(hi), mode == "zero", bool(track))
    macs = rows.size * n * a.shape[1]
    parts = min(_WORKERS, rows.size) if macs > _SERIAL_MACS else 1
    if parts <= 1:
        kernel(a_c, b_c, c_c, rows, *args, state, flag, low, high)
    else:
        cuts = np.linspace(0, rows.size, parts + 1).astype(int)
        futures = [
            _get_pool().submit(kernel, a_c, b_c, c_c, rows[p:q], *args, state[p:q], flag[p:q],
                               low[p:q] if track else low, high[p:q] if track else high)
            for p, q in zip(cuts[:-1], cuts[1:])
        ]
        for f in futures:
            f.result()
    peak = np.maximum(np.abs(low.astype(np.int64)), np.abs(high.astype(np.int64))) if track else None
    return state.astype(np.int64), flag > 0, peak


def running_rows_numpy(a: np.ndarray, b: np.ndarray, c: np.ndarray, rows: np.ndarray, acc_bits: int, mode: str,
                       track: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The NumPy path of :func:`running_rows` (same arguments but ``dtype``, same results):
    int64, vectorized over the outputs of the rows, ``K`` steps.  Exact while every value fits
    int64 (``|S_k| + |a b| < 2^63``)."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
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
