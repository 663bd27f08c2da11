"""Weight quantization in groups along the reduction axis: round-to-nearest and GPTQ.

A weight ``W`` of ``y = x W`` has shape ``(K, N)``; a group is ``g`` consecutive rows
(``k // g``) of one column ``n``: one scale (and zero point) per ``(k // g, n)``, the layout of
ONNX ``DequantizeLinear`` with ``axis = 0, block_size = g`` (opset 21).

Group parameters (``b`` bits): symmetric ``s = max|w| / (2^(b-1) - 1)``, ``z = 0``,
``q = clip(rint(w / s), -2^(b-1), 2^(b-1) - 1)``; asymmetric ``s = (max(w, 0) - min(w, 0)) /
(2^b - 1)``, ``z = clip(rint(-min(w, 0) / s), 0, 2^b - 1)``, ``q = clip(rint(w / s) + z, 0,
2^b - 1)``; an all-zero group gets ``s = 1``.  ``w_hat = s (q - z)``.

**RTN** quantizes every group of the original weight.

**GPTQ** (Frantar et al., "GPTQ", ICLR 2023, Algorithm 1) minimises ``||X W - X W_hat||^2``
column of ``W^T`` by column: with ``H = 2 X^T X + lambda I`` (``lambda = damp * mean diag H``;
rows of ``W`` whose input never varies, ``H_kk = 0``, are zeroed and get ``H_kk = 1``) and
``U = chol(H^-1)`` (upper), for ``k = 0..K-1``: quantize row ``k`` to ``q_k``, ``e = (w_k -
w_hat_k) / U_kk``, ``W[k+1:] -= U[k, k+1:]^T e``.  The *lazy batch* form applies the update
inside blocks of ``block_size`` rows and the accumulated ``E`` to the rest once per block:
the same arithmetic, regrouped (``block_size`` is rounded down to a multiple of the group
size, at least one group, so a group's rows are all up to date when it starts).  Group parameters are taken from the current (updated) rows
when a group starts.  ``act_order`` visits rows by decreasing ``H_kk``; group parameters are
then fixed beforehand from the original weight (GPTQ's "static groups"), so the groups stay
contiguous in ``k`` for ``DequantizeLinear``.  All arithmetic in float64.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["group_params", "quantize_groups", "rtn", "gptq", "hessian_update"]


def group_params(w: np.ndarray, bits: int, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, zero_point)`` of each column of ``w`` (rows = one group), float64 / int64."""
    if symmetric:
        s = np.max(np.abs(w), axis=0) / ((1 << (bits - 1)) - 1)
        z = np.zeros(s.shape, np.int64)
    else:
        lo, hi = np.minimum(w.min(axis=0), 0), np.maximum(w.max(axis=0), 0)
        s = (hi - lo) / ((1 << bits) - 1)
        z = None
    s = np.where(s > 0, s, 1.0)
    if z is None:
        z = np.clip(np.rint(-np.minimum(w.min(axis=0), 0) / s), 0, (1 << bits) - 1).astype(np.int64)
    return s, z


def _q(w: np.ndarray, s: np.ndarray, z: np.ndarray, bits: int, symmetric: bool) -> np.ndarray:
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if symmetric else (0, (1 << bits) - 1)
    return np.clip(np.rint(w / s) + z, lo, hi).astype(np.int64)


def quantize_groups(w: np.ndarray, group: int, bits: int, symmetric: bool):
    """RTN of ``w`` (K, N) in groups of ``group`` rows: ``(q, scales (G, N), zero_points (G, N))``."""
    k = w.shape[0]
    if k % group:
        raise ParameterError(f"group_size {group} must divide the weight's reduction length {k}")
    q = np.empty(w.shape, np.int64)
    scales, zps = [], []
    for g0 in range(0, k, group):
        s, z = group_params(w[g0 : g0 + group], bits, symmetric)
        q[g0 : g0 + group] = _q(w[g0 : g0 + group], s, z, bits, symmetric)
        scales.append(s)
        zps.append(z)
    return q, np.stack(scales), np.stack(zps)


def rtn(w: np.ndarray, group: int, bits: int = 4, symmetric: bool = True):
    """Round-to-nearest (module doc)."""
    return quantize_groups(np.asarray(w, np.float64), group, bits, symmetric)


def hessian_update(h: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """``H + 2 x^T x`` for a batch ``x`` (rows = samples, flattened to ``(-1, K)``), float64."""
    x = np.asarray(x, np.float64).reshape(-1, np.shape(x)[-1])
    upd = 2.0 * (x.T @ x)
    return upd if h is None else h + upd


def gptq(w: np.ndarray, h: np.ndarray, group: int, bits: int = 4, symmetric: bool = True, *,
         damp: float = 0.01, block_size: int = 128, act_order: bool = False):
    """GPTQ of ``w`` (K, N) with Hessian ``h`` (K, K): ``(q, scales, zero_points)`` as :func:`rtn`."""
    w = np.array(w, np.float64)
    h = np.array(h, np.float64)
    k = w.shape[0]
    if k % group:
        raise ParameterError(f"group_size {group} must divide the weight's reduction length {k}")
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    w[dead] = 0.0
    static = None
    if act_order:
        _, s_all, z_all = quantize_groups(w, group, bits, symmetric)
        static = (s_all, z_all)
    perm = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(k)
    w, h = w[perm], h[np.ix_(perm, perm)]
    h[np.diag_indices(k)] += damp * np.mean(np.diag(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper: H^-1 = U^T U
    block_size = group * max(1, block_size // group)  # groups never straddle a lazy block
    q = np.empty(w.shape, np.int64)
    scales = np.empty((k // group, w.shape[1]))
    zps = np.empty((k // group, w.shape[1]), np.int64)
    s = z = None
    for i1 in range(0, k, block_size):
        i2 = min(i1 + block_size, k)
        err = np.zeros((i2 - i1, w.shape[1]))
        for i in range(i1, i2):
            orig = perm[i]
            if static is not None:
                s, z = static[0][orig // group], static[1][orig // group]
            elif orig % group == 0:
                s, z = group_params(w[i : i + group], bits, symmetric)
            scales[orig // group], zps[orig // group] = s, z
            q[i] = _q(w[i], s, z, bits, symmetric)
            e = (w[i] - s * (q[i] - z)) / u[i, i]
            w[i + 1 : i2] -= np.outer(u[i, i + 1 : i2], e)
            err[i - i1] = e
        w[i2:] -= u[i1:i2, i2:].T @ err
    out = np.empty_like(q)
    out[perm] = q
    return out, scales, zps
