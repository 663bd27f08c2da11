"""Multiplying integers by power-of-two (``pow2``/``inq``) and APoT weight codes: shifts and adds.

The codes are those of :mod:`inwhale_hw.plugins.tensor.pow2`: bit ``bits-1`` is the sign, the
low ``bits-1`` bits the magnitude field ``E``.

* :func:`pow2_multiply`: ``P = ±(x << (E - 1))``, 0 for ``E = 0`` (Miyashita et al. 2016,
  arXiv:1603.01025; Zhou et al. 2017 for INQ's level set).
* :func:`apot_multiply`: ``P = ±sum_i (x << (K - k_i))`` over one term per set of
  :data:`APOT_TERMS` (Li, Dong & Wang, ICLR 2020, arXiv:1909.13144, §3.1 eq. 5, the authors'
  ``build_power_value`` term sets), ``K`` the largest exponent of any set.
* :func:`apot_integer_levels`: every APoT magnitude ``u = sum 2**-k`` and its field code.

Products are exact int64; :class:`~inwhale_hw.errors.WidthLimitError` when they cannot be.
The tensor quantizers, the accelerator simulator (:mod:`inwhale_hw.accel.weights`), the
hardware golden model and the shift-add element :mod:`inwhale_hw.hdl.pow2_pe` share them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, ParameterError, WidthLimitError

__all__ = ["APOT_TERMS", "apot_integer_levels", "pow2_multiply", "apot_multiply"]

#: APoT term sets per magnitude width B: exponents k of the terms 2**-k (authors' code)
APOT_TERMS: dict[int, tuple[tuple[int, ...], ...]] = {
    2: ((1, 2, 3),),
    3: ((1, 2, 4), (3,)),
    4: ((1, 3, 5), (2, 4, 6)),
    5: ((1, 3, 6), (2, 4, 7), (5,)),
    6: ((1, 4, 7), (2, 5, 8), (3, 6, 9)),
}

def apot_integer_levels(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(u, fields)``: every APoT magnitude ``u = sum 2**-k`` of one term per set (float64,
    exact) and its magnitude-field code, for ``bits`` = 1 + B."""
    terms = APOT_TERMS[bits - 1]
    widths = [len(t).bit_length() for t in terms]
    sums, fields = np.zeros(1), np.zeros(1, dtype=np.int64)
    shift = 0
    for term, width in zip(terms, widths):
        choices = np.array([0.0] + [2.0**-k for k in term])
        sums = (sums[:, None] + choices[None, :]).reshape(-1)
        fields = (fields[:, None] | (np.arange(len(choices)) << shift)[None, :]).reshape(-1)
        shift += width
    return sums, fields


def _split(x_int: Any, codes: Any, bits: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x_int)
    c = np.asarray(codes)
    if x.dtype.kind not in "iu" or c.dtype.kind not in "iu":
        raise InputError(f"{where}: expected integer arrays, got dtypes {x.dtype} and {c.dtype}")
    c = c.astype(np.int64)
    if c.size and (c.min() < 0 or c.max() >= 1 << bits):
        raise InputError(f"{where}: codes must lie in [0, {(1 << bits) - 1}] for bits={bits}; got [{c.min()}, {c.max()}]")
    x, c = np.broadcast_arrays(x.astype(np.int64), c)
    return x, c >> (bits - 1), c & ((1 << (bits - 1)) - 1)


def _check_width(x: np.ndarray, shift: int, where: str) -> None:
    top = int(np.abs(x).max()) if x.size else 0
    if top.bit_length() + shift > 62:
        raise WidthLimitError(f"{where}: |x| up to {top} shifted left by {shift} does not fit int64")


def pow2_multiply(x_int: Any, codes: Any, bits: int = 4) -> np.ndarray:
    """Integer products with ``pow2`` weights by shifts only: ``P = ±(x << (E - 1))``, 0 for ``E = 0``.

    ``x * decode(code) == P * 2**min_exponent`` exactly (``min_exponent`` of the quantizer that
    made the codes).  int64 result; :class:`~inwhale_hw.errors.WidthLimitError` if it cannot hold it.
    """
    if not 2 <= bits <= 8:
        raise ParameterError(f"pow2_multiply: bits={bits!r} is not allowed; expected an int in [2, 8]")
    x, sign, e = _split(x_int, codes, bits, "pow2_multiply")
    _check_width(x, max(int(e.max()) - 1, 0) if e.size else 0, "pow2_multiply")
    p = np.where(e > 0, np.left_shift(x, np.maximum(e - 1, 0)), 0)
    return np.where(sign == 1, -p, p)


def apot_multiply(x_int: Any, codes: Any, bits: int = 4) -> np.ndarray:
    """Integer products with ``apot`` weights by shift-add: ``P = ±sum_i (x << (K - k_i))``.

    ``k_i`` is the exponent the code selects from term set ``i`` and ``K`` the largest exponent
    of any set (4 for 4-bit APoT), so ``P = x * u * 2**K`` exactly and
    ``x * decode(code) = gamma * 2**-K * P`` (``gamma`` of the quantizer, up to decode's rounding).
    """
    if bits - 1 not in APOT_TERMS:
        raise ParameterError(f"apot_multiply: bits={bits!r} is not allowed; expected an int in [3, 7]")
    x, sign, field = _split(x_int, codes, bits, "apot_multiply")
    terms = APOT_TERMS[bits - 1]
    big = max(max(t) for t in terms)
    _check_width(x, big - 1, "apot_multiply")
    p = np.zeros(x.shape, dtype=np.int64)
    shift = 0
    for term in terms:
        width = len(term).bit_length()
        sel = (field >> shift) & ((1 << width) - 1)
        for j, k in enumerate(term, start=1):
            p += np.where(sel == j, np.left_shift(x, big - k), 0)
        shift += width
    return np.where(sign == 1, -p, p)
