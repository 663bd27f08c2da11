"""Integer-only nonlinearities of I-BERT (Kim, Gholami, Yao, Mahoney, Keutzer, ICML 2021,
arXiv:2101.01321): GELU, exp, softmax, square root and LayerNorm.

A real tensor is ``x = S * q`` with int64 codes ``q`` and a float scale ``S``.  Each function
takes ``(q, S)`` and returns ``(q_out, S_out)``.  Only the constants derived from ``S`` (as in
the paper, computed once per layer "at compile time" in float64) use floating point; every
operation on the data is integer: add, multiply, floor division, shift, compare.

Error bounds below are absolute errors of ``S_out * q_out`` against the float function, the
maximum measured over a dense grid of every representable input for the stated scales (the
tests re-measure them); they include the approximation error of the polynomials and the
flooring of the constants.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, ParameterError

__all__ = ["i_poly", "i_erf", "i_gelu", "i_exp", "i_softmax", "isqrt", "i_layernorm"]

# §3.4, eq. (8)-(9): erf(x) ~ L(x) = sgn(x) [a (clip(|x|, max=-b) + b)^2 + 1]
GELU_A, GELU_B, GELU_C = -0.2888, -1.769, 1.0
# §3.5, eq. (12): exp(p) ~ 0.3585 (p + 1.353)^2 + 0.344 on p in (-ln 2, 0]
EXP_A, EXP_B, EXP_C = 0.3585, 1.353, 0.344


def _codes(q: object, where: str) -> np.ndarray:
    arr = np.asarray(q)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{where}: codes must be an integer array, got dtype {arr.dtype}")
    if arr.size and max(abs(int(arr.min())), abs(int(arr.max()))) >= 1 << 31:
        raise InputError(f"{where}: codes must fit int32 (|q| < 2^31), got {int(np.abs(arr).max())}")
    return arr.astype(np.int64)


def _scale(s: object, where: str) -> float:
    value = float(s)
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{where}: scale must be a finite float > 0, got {s!r}")
    return value


def i_poly(q: np.ndarray, scale: float, a: float, b: float, c: float) -> tuple[np.ndarray, float]:
    """Algorithm 1: ``a (x + b)^2 + c`` for ``x = scale * q``.

    ``q_b = floor(b / S)``, ``q_c = floor(c / (a S^2))``, ``q_out = (q + q_b)^2 + q_c``,
    ``S_out = a S^2``.
    """
    q_b = math.floor(b / scale)
    q_c = math.floor(c / (a * scale * scale))
    return (q + q_b) ** 2 + q_c, a * scale * scale


def i_erf(q: object, scale: float) -> tuple[np.ndarray, float]:
    """Algorithm 2, I-ERF: ``erf(S q)`` as ``sgn(q) * L(min(|q|, -q_b))`` with the GELU
    polynomial (a = -0.2888, b = -1.769, c = 1); the output scale ``a S^2`` is negative."""
    where = "i_erf"
    q = _codes(q, where)
    s = _scale(scale, where)
    q_b = math.floor(GELU_B / s)
    clipped = np.minimum(np.abs(q), -q_b)
    q_l, s_l = i_poly(clipped, s, GELU_A, GELU_B, GELU_C)
    return np.sign(q) * q_l, s_l


def i_gelu(q: object, scale: float) -> tuple[np.ndarray, float]:
    """Algorithm 2, I-GELU: ``GELU(x) = x/2 (1 + erf(x / sqrt 2))`` in integers.

    ``(q_erf, S_erf) = I-ERF(q, S / sqrt 2)``, ``q_1 = floor(1 / S_erf)``,
    ``q_out = q (q_erf + q_1)``, ``S_out = S S_erf / 2`` (returned with the sign folded into
    ``q_out`` so that ``S_out > 0``).

    Error (max over every code): ``|S_out q_out - GELU(x)| <= 0.0185`` for int16 inputs with
    ``S = 2^-10`` or ``2^-12`` and int8 inputs with ``S = 2^-5``; ``<= 0.025`` for int8 with
    ``S = 2^-4`` (x in [-8, 8)), where flooring ``b / S`` adds to the polynomial's own 0.018
    (the paper's erf approximation error, §3.4).
    """
    where = "i_gelu"
    q = _codes(q, where)
    s = _scale(scale, where)
    q_erf, s_erf = i_erf(q, s / math.sqrt(2.0))
    q_one = math.floor(1.0 / s_erf)
    q_out = q * (q_erf + q_one)
    s_out = s * s_erf / 2.0
    return -q_out, -s_out


def i_exp(q: object, scale: float) -> tuple[np.ndarray, float]:
    """Algorithm 3, I-EXP for ``x = S q <= 0``.

    ``q_ln2 = floor(ln 2 / S)``, ``z = floor(-q / q_ln2)``, ``q_p = q + z q_ln2`` (so
    ``p = S q_p`` in (-ln 2, 0]), ``(q_l, S_l) = I-POLY(q_p, S; 0.3585, 1.353, 0.344)``,
    ``q_out = q_l >> z``, ``S_out = S_l``.

    Error (max over every code): ``|S_out q_out - exp(x)| <= 0.0022`` for int16 inputs with
    ``S = 2^-10`` or ``2^-12`` (about the paper's polynomial error, §3.5); coarse scales add the
    flooring of ``ln 2 / S`` and ``b / S``: ``<= 0.04`` for int8 inputs with ``S = 2^-4``.
    """
    where = "i_exp"
    q = _codes(q, where)
    s = _scale(scale, where)
    if q.size and int(q.max()) > 0:
        raise InputError(f"i_exp: inputs must be <= 0 (subtract the maximum first), got code {int(q.max())}")
    q_ln2 = math.floor(math.log(2.0) / s)
    if q_ln2 < 1:
        raise ParameterError(f"i_exp: scale {s} must be below ln 2 so that q_ln2 >= 1")
    z = (-q) // q_ln2
    q_p = q + z * q_ln2
    q_l, s_l = i_poly(q_p, s, EXP_A, EXP_B, EXP_C)
    return q_l >> np.minimum(z, 62), s_l


def i_softmax(q: object, scale: float, axis: int = -1, out_bits: int = 16) -> tuple[np.ndarray, float]:
    """Integer softmax (§3.5): subtract the row maximum, I-EXP, then
    ``q_out = floor(q_exp * 2^out_bits / sum(q_exp))`` with ``S_out = 2^-out_bits``.

    Error: ``max |S_out q_out - softmax(x)| <= 0.0012`` for int16 logits with ``S = 2^-10``
    and ``<= 0.017`` for int8 logits with ``S = 2^-4`` (rows of 8..512, ``out_bits = 16``):
    I-EXP's error relative to the row sum, plus ``2^-out_bits``.
    """
    where = "i_softmax"
    q = _codes(q, where)
    s = _scale(scale, where)
    if not 1 <= out_bits <= 30:
        raise ParameterError(f"{where}: out_bits must be in [1, 30], got {out_bits}")
    shifted = q - q.max(axis=axis, keepdims=True)
    q_exp, _ = i_exp(shifted, s)
    total = q_exp.sum(axis=axis, keepdims=True)
    return (q_exp << out_bits) // np.maximum(total, 1), 2.0**-out_bits


def isqrt(n: object) -> np.ndarray:
    """Algorithm 4, integer square root ``floor(sqrt(n))`` by Newton's iteration, vectorized.

    ``x_0 = 2^ceil(bits(n) / 2)``, ``x_{i+1} = floor((x_i + floor(n / x_i)) / 2)`` until it
    stops decreasing; exact for every int64 ``n >= 0`` (at most ~6 iterations for 63 bits).
    """
    n = np.asarray(n)
    if n.dtype.kind not in "iu":
        raise InputError(f"isqrt: expected integers, got dtype {n.dtype}")
    n = n.astype(np.int64)
    if n.size and int(n.min()) < 0:
        raise InputError(f"isqrt: inputs must be >= 0, got {int(n.min())}")
    bits = np.zeros(n.shape, dtype=np.int64)
    rest = n.copy()
    for step in (32, 16, 8, 4, 2, 1):
        big = rest >= (np.int64(1) << step)
        bits += np.where(big, step, 0)
        rest = np.where(big, rest >> step, rest)
    bits += rest > 0  # bit length of n
    x = np.int64(1) << ((bits + 1) // 2)
    while True:
        nxt = (x + n // np.maximum(x, 1)) // 2
        done = nxt >= x
        if np.all(done):
            return np.where(n == 0, 0, x)
        x = np.where(done, x, nxt)


def i_layernorm(q: object, scale: float, gamma: object, beta: object, axis: int = -1,
                frac_bits: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Integer LayerNorm (§3.6): ``gamma (x - mean) / std + beta`` over ``axis``.

    With n elements: ``d = n q - sum(q)`` (exact, no rounded mean), ``r = isqrt(sum(d^2))``
    (``= n sqrt(n) std_q`` up to flooring), ``y = floor(d 2^F / r)`` so that
    ``(x - mean)/std ~ y sqrt(n) / 2^F``; the affine part keeps gamma in the per-channel scale
    ``S_out = gamma sqrt(n) / 2^F`` and adds ``round(beta / S_out)`` (I-BERT's IntLayerNorm).
    The input scale cancels.  ``gamma`` must be nonzero.

    Error: ``|S_out q_out - LayerNorm(x)| <= 1e-4 * (|gamma| + |beta|)`` per element for rows
    of 64..1024 int8 codes (F = 20); the dominant terms are the floors of the square root and
    of the division.
    """
    where = "i_layernorm"
    q = _codes(q, where)
    _scale(scale, where)
    if not 4 <= frac_bits <= 30:
        raise ParameterError(f"{where}: frac_bits must be in [4, 30], got {frac_bits}")
    gamma = np.asarray(gamma, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if np.any(gamma == 0):
        raise ParameterError(f"{where}: gamma must be nonzero (it becomes part of the output scale)")
    q = np.moveaxis(q, axis, -1)
    n = q.shape[-1]
    d = n * q - q.sum(axis=-1, keepdims=True)
    if d.size and int(np.abs(d).max()) ** 2 * n >= 1 << 62:
        raise InputError(f"{where}: sum of squares of {n} deviations would overflow int64; use narrower codes")
    r = isqrt((d * d).sum(axis=-1, keepdims=True))
    y = np.moveaxis((d << frac_bits) // np.maximum(r, 1), -1, axis)
    s_out = gamma * math.sqrt(n) / 2.0**frac_bits
    return y + np.rint(beta / s_out).astype(np.int64), s_out
