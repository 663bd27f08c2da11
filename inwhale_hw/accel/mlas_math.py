"""Float32 transcendental functions as onnxruntime's MLAS computes them on x86-64 with FMA3.

MLAS evaluates rational polynomial approximations (Eigen's coefficients) with fused
multiply-adds (``vfmadd`` in the FMA3 kernels ``LogisticKernelFma3`` / ``TanhKernelFma3``);
the same float32 sequence with :func:`inwhale_hw.accel.f32.fma_f32` gives the same bits.  The
lookup-table operators (QLinearSigmoid) and the float Sigmoid both use them, so a
quantized sigmoid equals onnxruntime's code for code.

Source: ``onnxruntime/core/mlas/lib/logistic.cpp`` (``MlasLogisticConstants``: ``x`` clamped
to [-18, 18], ``p = x * P(x^2)`` of degree 9, ``q = Q(x^2)`` of degree 10, result
``clamp(p / q + 0.5, 0, 1)``).
"""

from __future__ import annotations

import numpy as np

from .f32 import fma_f32

__all__ = ["logistic_f32"]

_ALPHA = tuple(np.float32(v) for v in (4.37031012579801e-11, 1.15627324459942e-07, 6.08574864600143e-05,
                                       8.51377133304701e-03, 2.48287947061529e-01))
_BETA = tuple(np.float32(v) for v in (6.10247389755681e-13, 5.76102136993427e-09, 6.29106785017040e-06,
                                      1.70198817374094e-03, 1.16817656904453e-01, 9.93151921023180e-01))


def logistic_f32(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` as ``MlasComputeLogistic``: clamp to [-18, 18], Horner with FMA
    (``p = fma(p, x^2, a_k)``), ``p * x / q + 0.5`` clamped to [0, 1]; NaN stays NaN."""
    v = np.asarray(x, dtype=np.float32)
    nan = np.isnan(v)
    v = np.clip(v, np.float32(-18.0), np.float32(18.0))
    v2 = v * v
    p = fma_f32(v2, _ALPHA[0], _ALPHA[1])
    for a in _ALPHA[2:]:
        p = fma_f32(p, v2, a)
    p = p * v
    q = fma_f32(v2, _BETA[0], _BETA[1])
    for b in _BETA[2:]:
        q = fma_f32(q, v2, b)
    y = np.clip(p / q + np.float32(0.5), np.float32(0.0), np.float32(1.0)).astype(np.float32)
    return np.where(nan, np.float32(np.nan), y) if nan.any() else y
