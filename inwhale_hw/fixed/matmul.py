"""Exact integer matrix products: :func:`exact_matmul` (the kernel behind :func:`~inwhale_hw.fixed.matmul`).

Why floating-point BLAS is exact here.  Let ``a`` be ``M x K`` and ``b`` be ``K x N`` integer
matrices and ``L`` a bound with ``sum_k |a[m,k]| * |b[k,n]| <= L`` for every output.  Two such
bounds are used (:func:`matmul_bound`): the global ``G = K max|a| max|b|`` (two scans for the
maxima), and the finer ``F = min(max_m sum_k |a[m,k]| * max|b|,  max_n sum_k |b[k,n]| * max|a|)
<= G`` (one more float64 pass over both operands).  ``F`` is computed only when ``G`` does not
already prove what the caller needs (for :func:`exact_matmul`: ``G + max|c| <= 2**24``, float32
BLAS with the addend ``c`` fused, below).
Every product and every partial sum a BLAS kernel forms - in any order, blocking or with fused
multiply-add - is a sum of a subset of the terms ``a[m,k] * b[k,n]``, hence an integer of
magnitude ``<= L``.  A binary floating-point format with a ``p``-bit significand represents every
integer of magnitude ``<= 2**p`` exactly, and an operation whose exact result is representable
returns it unrounded (IEEE 754-2019 §4.3).  By induction over the operations, float64 (``p = 53``)
matrix products are exact while ``L <= 2**53``, float32 (``p = 24``) while ``L <= 2**24``; the
inputs themselves are exact because ``|a|, |b| <= L``.  int8 x int8 with ``K <= 1024`` gives
``G <= 2**24``: single-precision BLAS, decided from the maxima alone.  An integer addend ``c``
(a bias) is added in the same format when ``L + max|c| <= 2**p``: ``c``, the exact product and
their sum are then all representable, so the one addition is exact too.

Otherwise: while ``max|a| max|b| <= 2**53`` and ``L < 2**63`` the sum is split along ``K`` into
chunks with ``L <= 2**53`` each (exact float64 BLAS), summed in int64; beyond that, operands are
split into 21-bit limbs whose products are exact in float64 and recombined in Python integers.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ..errors import InputError, ParameterError, WidthLimitError

try:  # optional: a well-kept helper (scikit-learn's) to run small BLAS calls on one thread
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - then BLAS keeps its own thread count
    ThreadpoolController = None

__all__ = ["blas_threads", "exact_matmul", "exact_product", "matmul_bound", "matmul_shapes", "max_abs", "wide_matmul"]

_F32, _F64, _I63 = 1 << 24, 1 << 53, (1 << 63) - 1
_LIMB = 21
#: Products up to this many multiply-adds run single-threaded: on this 2-core machine OpenBLAS
#: sgemm 256^3 measured 36 GMAC/s on one thread and 11-22 GMAC/s on two (and far less when
#: another process holds a core); from 512^3 both are about equal.
_SINGLE_THREAD_MACS = 1 << 27
#: Below this OpenBLAS runs gemm on one thread by itself (``interface/gemm.c``: one thread while
#: ``M*N*K <= SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD = 65536 * 4``; measured here: equal
#: times with one or two threads up to 2**19), so limiting would only cost its ~10 us.
_BLAS_SINGLE_ANYWAY = 1 << 18
_controller = None
#: Products whose bound exceeds 2**24 run as float32 BLAS over K chunks (each exact) when there
#: are at most this many chunks of at least ``_MIN_F32_CHUNK`` terms: measured on this machine,
#: ResNet50's K = 2304..4608 layers (5-9 chunks of 518) ran faster than one float64 product.
_MAX_F32_CHUNKS, _MIN_F32_CHUNK = 12, 256


def blas_threads(macs: int):
    """Context manager for a BLAS call of ``macs`` multiply-adds: one BLAS thread when the
    product is small (``2**18 < macs <= 2**27``, where one thread is faster here, see
    ``_SINGLE_THREAD_MACS``), BLAS's own thread count otherwise or without threadpoolctl."""
    global _controller
    if ThreadpoolController is None or not _BLAS_SINGLE_ANYWAY < macs <= _SINGLE_THREAD_MACS:
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _as_int(x: object, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind == "b":
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iu" or (arr.dtype == np.uint64 and arr.size and int(arr.max()) >> 63):
        raise InputError(f"{where}: expected int64-range integer arrays, got dtype {arr.dtype}")
    return arr


def max_abs(x: np.ndarray) -> int:
    """``max|x|`` of an integer array as a Python int (0 when empty; no int64 ``abs`` overflow)."""
    return max(abs(int(x.min())), abs(int(x.max()))) if x.size else 0


def matmul_bound(a: np.ndarray, b: np.ndarray, sufficient: int = 0, abs_max: tuple[int, int] | None = None) -> int:
    """``L``: an upper bound on ``|partial sum|`` over every output of ``a @ b`` (module docstring).

    Returns the global bound ``G = K max|a| max|b|`` when ``G <= sufficient`` (the caller's
    threshold below which a finer bound changes nothing), else the finer ``F <= G``.  ``F``
    needs float64 row and column sums, exact while ``G <= 2**53`` (each sum is at most ``G``);
    beyond that ``G`` is returned.  ``abs_max``: upper bounds on ``max|a|`` and ``max|b|`` the
    caller already has (skips two scans).
    """
    ma, mb = (max_abs(a), max_abs(b)) if abs_max is None else abs_max
    k = a.shape[-1]
    bound = k * ma * mb
    if bound <= sufficient or bound > _F64:
        return bound
    return min(_max_abs_sum(a, -1, ma) * mb, _max_abs_sum(b, -2, mb) * ma)


def _max_abs_sum(x: np.ndarray, axis: int, x_max: int) -> int:
    """``max sum |x|`` along ``axis`` (exact; ``x_max >= max|x|``, ``x.shape[axis] * x_max
    <= 2**53``): 8/16-bit integers in integer arithmetic (``int32`` sums while they stay below
    ``2**31``, several times faster than float64), wider ones in float64."""
    if x.size == 0:
        return 0
    if x.dtype.itemsize > 2:
        return int(np.abs(x, dtype=np.float64).sum(axis=axis).max())
    magnitude = np.abs(x) if x_max < 1 << (8 * x.dtype.itemsize - 1) else np.abs(x, dtype=np.int32)
    total = np.int32 if x.shape[axis] * x_max < 1 << 31 else np.int64
    return int(magnitude.sum(axis=axis, dtype=total).max())


def _float_matmul(a: np.ndarray, b: np.ndarray, dtype, c: np.ndarray | None = None, fuse: bool = False) -> np.ndarray:
    """``a @ b (+ c)`` by BLAS in ``dtype`` (the caller proved the product exact), as int64;
    ``fuse``: ``c`` is added in ``dtype`` too (proved: ``|a @ b + c| <= L + max|c| <= 2**p``)."""
    fa, fb = a.astype(dtype), b.astype(dtype)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    macs = math.prod(batch) * a.shape[-2] * a.shape[-1] * b.shape[-1]
    with blas_threads(macs):
        out = np.matmul(fa, fb)
    if c is not None and fuse:
        out += c.astype(dtype)
    if dtype is np.float32:  # |out| <= 2**24: via int32, which NumPy converts to ~3x faster than to int64
        result = out.astype(np.int32).astype(np.int64)
    else:
        result = out.astype(np.int64)
    if c is not None and not fuse:
        result += c
    return result


def _chunked_f32(a: np.ndarray, b: np.ndarray, chunk: int, c: np.ndarray | None) -> np.ndarray:
    """``a @ b (+ c)`` as float32 BLAS products over ``K`` chunks of ``chunk`` terms (each with
    ``chunk * max|a| max|b| <= 2**24``, hence exact), summed in int32 (the caller proved
    ``|a @ b| < 2**31``, so every partial sum fits) and returned as int64.  Faster than one
    float64 product while there are few chunks (``_MAX_F32_CHUNKS``)."""
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    k = a.shape[-1]
    out = None
    with blas_threads(math.prod(batch) * a.shape[-2] * k * b.shape[-1]):
        for k0 in range(0, k, chunk):
            part = np.matmul(fa[..., k0 : k0 + chunk], fb[..., k0 : k0 + chunk, :]).astype(np.int32)
            out = part if out is None else np.add(out, part, out=out)
    result = out.astype(np.int64)
    if c is not None:
        result += c
    return result


def _limbs(x: np.ndarray) -> list[np.ndarray]:
    """``x = l0 + l1 * 2**21 + l2 * 2**42`` with ``l0, l1`` in ``[0, 2**21)``, ``l2`` signed."""
    x = x.astype(np.int64)
    mask = (1 << _LIMB) - 1
    return [x & mask, (x >> _LIMB) & mask, x >> (2 * _LIMB)]


def wide_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` as an object array of Python ints (any int64 inputs, any K)."""
    k = a.shape[-1]
    step = 1 << 9  # 2**9 terms of |limb product| < 2**42 stay below 2**51: exact float64 chunks
    total = None
    for i, ai in enumerate(_limbs(a)):
        for j, bj in enumerate(_limbs(b)):
            part = None
            for k0 in range(0, k, step):
                block = _float_matmul(ai[..., k0 : k0 + step], bj[..., k0 : k0 + step, :], np.float64)
                part = block.astype(object) if part is None else part + block.astype(object)
            term = part * (1 << (_LIMB * (i + j)))
            total = term if total is None else total + term
    return total


def matmul_int(a: np.ndarray, b: np.ndarray, bound: int, c: np.ndarray | None = None, c_max: int = 0,
               abs_max: tuple[int, int] | None = None) -> np.ndarray:
    """Exact int64 ``a @ b (+ c)`` given ``bound`` (``L``) and ``c_max >= max|c|`` with
    ``bound + c_max < 2**63`` (see module docstring); ``c`` int64, broadcast to the product;
    ``abs_max`` as in :func:`exact_matmul`."""
    if bound <= _F32:
        return _float_matmul(a, b, np.float32, c, bound + c_max <= _F32)
    ma, mb = (max_abs(a), max_abs(b)) if abs_max is None else abs_max
    per_term = ma * mb
    chunk = _F32 // per_term if per_term else a.shape[-1]
    if bound <= _F64 and chunk >= _MIN_F32_CHUNK and a.shape[-1] <= _MAX_F32_CHUNKS * chunk and bound < 1 << 31:
        return _chunked_f32(a, b, chunk, c)
    if bound <= _F64:
        return _float_matmul(a, b, np.float64, c, bound + c_max <= _F64)
    chunk = _F64 // per_term if per_term else a.shape[-1]
    if chunk >= 16:
        out = None
        for k0 in range(0, a.shape[-1], chunk):
            part = _float_matmul(a[..., k0 : k0 + chunk], b[..., k0 : k0 + chunk, :], np.float64)
            out = part if out is None else out + part
    else:
        out = np.matmul(a.astype(np.int64), b.astype(np.int64))
    if c is not None:
        out += c
    return out


def matmul_shapes(a: np.ndarray, b: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:
    """NumPy matmul's shape rules for ``a @ b``: ``(a2, b2, full, shape)`` with 1-D operands
    promoted (``a`` to (1, K), ``b`` to (K, 1)), ``full`` the shape of ``a2 @ b2`` (batch axes
    broadcast) and ``shape`` the result's (promoted axes removed).  :class:`InputError` naming
    ``where`` when the shapes do not multiply."""
    if a.ndim == 0 or b.ndim == 0:
        raise InputError(f"{where}: operands must have at least 1 dimension, got {a.shape} @ {b.shape}")
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise InputError(
            f"{where}: inner dimensions differ: a is {a.shape}, b is {b.shape} (need a[..., K] and b[..., K, N])"
        )
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise InputError(f"{where}: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    full = batch + (a2.shape[-2], b2.shape[-1])
    shape = batch + (() if a.ndim == 1 else full[-2:-1]) + (() if b.ndim == 1 else full[-1:])
    return a2, b2, full, shape


def exact_matmul(a: object, b: object, c: object | None = None, *, abs_max: tuple[int, int] | None = None) -> np.ndarray:
    """Exact ``a @ b + c`` of integer arrays (NumPy matmul semantics, batches broadcast) as int64.

    Uses float32 or float64 BLAS when the bound ``L`` allows (module docstring proves this exact),
    K-chunked float64 with int64 sums, or 21-bit limbs recombined in Python ints.  The optional
    addend ``c`` (integers broadcastable to the product's shape, e.g. a bias row) is added in
    the same float format when ``L + max|c|`` is within its exact range (the sum of two exact
    integers is then exact, IEEE 754-2019 §4.3), else in int64 afterwards.  ``abs_max``:
    upper bounds ``(A, B)`` with ``|a| <= A`` and ``|b| <= B`` when the caller has them (they
    enter the bound, so they must hold; the scans for ``max|a|``, ``max|b|`` are skipped).  Raises
    :class:`~inwhale_hw.errors.WidthLimitError` when an exact result does not fit int64.
    """
    if abs_max is not None and (
        len(abs_max) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in abs_max)
    ):
        raise ParameterError(f"exact_matmul: abs_max must be two ints >= 0 (bounds on |a| and |b|), got {abs_max!r}")
    a2, b2, full, shape = matmul_shapes(_as_int(a, "exact_matmul"), _as_int(b, "exact_matmul"), "exact_matmul")
    c_max = 0
    if c is not None:
        c = _as_int(c, "exact_matmul").astype(np.int64, copy=False)
        try:
            np.broadcast_to(c, shape)
        except ValueError:
            raise InputError(f"exact_matmul: c of shape {c.shape} does not broadcast to the product's shape {shape}") from None
        c_max = max_abs(c)
        if shape != full:  # a 1-D operand: c in the shape of the 2-D product
            c = np.broadcast_to(c, shape).reshape(full)
    out = exact_product(a2, b2, c, c_max, abs_max)
    return out.reshape(shape) if shape != full else out


def exact_product(a: np.ndarray, b: np.ndarray, c: np.ndarray | None = None, c_max: int = 0,
                  abs_max: tuple[int, int] | None = None) -> np.ndarray:
    """The kernel of :func:`exact_matmul` for operands the caller has checked: integer arrays
    ``a`` (..., M, K) and ``b`` (..., K, N) whose batch axes broadcast, ``c`` int64 broadcastable
    to the product (not beyond it) or None, ``c_max >= max|c|``, ``abs_max`` as there."""
    bound = matmul_bound(a, b, _F32 - c_max, abs_max)
    if bound + c_max <= _I63:
        return matmul_int(a, b, bound, c, c_max, abs_max)
    wide = wide_matmul(a, b)
    if c is not None:
        wide = wide + c.astype(object)
    flat = wide.reshape(-1)
    bad = [i for i, v in enumerate(flat) if not -_I63 - 1 <= v <= _I63]
    if bad:
        raise WidthLimitError(
            f"exact_matmul: {len(bad)} exact results exceed int64, the first {flat[bad[0]]} at flat index "
            f"{bad[0]}; requantize the operands to fewer bits"
        )
    return wide.astype(np.int64)
