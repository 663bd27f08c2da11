"""Golden outputs of the accelerator's hardware blocks, from the NumPy models.

The blocks in :mod:`inwhale_hw.hdl` (processing elements, MAC array, requantization units)
are checked against these functions, which only arrange vectors and call the models:

* accumulators: :func:`accumulator_trace` runs the accumulator of
  :mod:`inwhale_hw.nn.accumulate` (``running_sums``: ``S_0 = bias``,
  ``S_{k+1} = policy(S_k + p_k)``, wrap or saturate, and the per-output ``overflowed``
  flag) and reports it after every clock, the way a PE's register shows it;
* products: ``a * b`` for int8 weights, :func:`~inwhale_hw.nn.shiftadd.pow2_multiply` and
  :func:`~inwhale_hw.nn.shiftadd.apot_multiply` for power-of-two codes;
* requantization: :func:`gemmlowp_reference` is TFLite's ``MultiplyByQuantizedMultiplier``
  (:func:`~inwhale_hw.nn.requant.multiply_by_quantized_multiplier_double`) plus the zero
  point and the output clamp, i.e. the ``gemmlowp`` profile once its float scales became
  ``(q, shift)``; :func:`shift_only_reference` is the ``shift-only`` profile's
  :func:`~inwhale_hw.nn.requant.shift_round_half_up` with the same clamp.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw.nn.accumulate import running_sums
from inwhale_hw.nn.requant import integer_range, multiply_by_quantized_multiplier_double, shift_round_half_up
from inwhale_hw.nn.shiftadd import apot_multiply, pow2_multiply

__all__ = [
    "accumulator_trace",
    "products",
    "array_trace",
    "gemmlowp_reference",
    "shift_only_reference",
]

#: longest run of products one row of ``running_sums`` holds (see :func:`accumulator_trace`)
BLOCK = 64


def products(a: np.ndarray, b: np.ndarray, weights: str = "int8", bits: int = 4) -> np.ndarray:
    """The integer products a processing element accumulates (int64)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if weights == "int8":
        return a * b
    if weights == "pow2":
        return pow2_multiply(a, b, bits)
    return apot_multiply(a, b, bits)


def accumulator_trace(
    prods: np.ndarray,
    clear: np.ndarray,
    accumulate: np.ndarray,
    bias: np.ndarray,
    acc_bits: int,
    overflow: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The accumulator register and its ``overflowed`` flag after every clock.

    Clock ``j`` with ``clear`` starts a dot product with ``S_0 = bias[j]`` (the register
    starts at 0 after reset); every clock with ``accumulate`` adds ``prods[j]``.  Value ``j``
    of the result is the model's accumulator over the products of the current dot product
    up to clock ``j``: one row of ``running_sums`` per clock holds those products.  Long
    dot products are cut into chunks of ``BLOCK`` clocks; chunk ``c`` of every dot product
    is handled in one call, starting from the state chunk ``c - 1`` ended in (the register
    value, in range, and the sticky flag), so the calls number ``1 + longest / BLOCK``
    and the work is at most ``n * BLOCK`` products.
    """
    prods = np.where(np.asarray(accumulate) != 0, np.asarray(prods, dtype=np.int64), 0)
    clear = np.asarray(clear) != 0
    bias = np.asarray(bias, dtype=np.int64)
    n = len(prods)
    clock = np.arange(n)
    start = np.maximum.accumulate(np.where(clear, clock, 0))  # first clock of each clock's dot product
    level = (clock - start) // BLOCK
    chunk = start + level * BLOCK
    first = np.where(clear[start], bias[start], 0)
    acc = np.empty(n, dtype=np.int64)
    flags = np.empty(n, dtype=bool)
    for lev in range(int(level.max(initial=-1)) + 1):
        sel = np.flatnonzero(level == lev)
        cs = chunk[sel]
        s0, f0 = (first[sel], False) if lev == 0 else (acc[cs - 1], flags[cs - 1])
        steps = sel - cs
        t = np.arange(int(steps.max()) + 1)
        rows = np.where(t <= steps[:, None], prods[np.minimum(cs[:, None] + t, n - 1)], 0)
        values, over, _ = running_sums(rows, np.ones_like(rows), s0, acc_bits, overflow, True)
        acc[sel] = values
        flags[sel] = over | f0
    return acc, flags


def array_trace(
    inputs: dict[str, np.ndarray], rows: int, cols: int, acc_bits: int, overflow: str,
    weights: str = "int8", bits: int = 4,
) -> dict[str, np.ndarray]:
    """Per-clock ``acc__r__c`` and ``overflowed__r__c`` of a MAC array (see :mod:`inwhale_hw.hdl.mac_array`)."""
    out: dict[str, np.ndarray] = {}
    for r in range(rows):
        for c in range(cols):
            prods = products(inputs[f"a__{r}"], inputs[f"b__{c}"], weights, bits)
            acc, flags = accumulator_trace(
                prods, inputs["clear"], inputs["accumulate"], inputs[f"bias__{c}"], acc_bits, overflow
            )
            out[f"acc__{r}__{c}"] = acc
            out[f"overflowed__{r}__{c}"] = flags.astype(np.int64)
    return out


def _clamp_zero_point(v: np.ndarray, zero_point: np.ndarray, dtype: str) -> np.ndarray:
    lo, hi = integer_range(np.dtype(dtype))
    return np.clip(v + np.asarray(zero_point, dtype=np.int64), lo, hi)


def gemmlowp_reference(acc, multiplier, shift, zero_point, dtype: str = "int8") -> np.ndarray:
    """``sat(MultiplyByQuantizedMultiplier(acc, q, shift) + zp)`` (the ``gemmlowp`` profile)."""
    v = multiply_by_quantized_multiplier_double(
        np.asarray(acc, dtype=np.int64), np.asarray(multiplier, dtype=np.int64), np.asarray(shift, dtype=np.int64)
    )
    return _clamp_zero_point(v, zero_point, dtype)


def shift_only_reference(acc, shift, zero_point, dtype: str = "int8") -> np.ndarray:
    """``sat(((acc + 2^(k-1)) >> k) + zp)``, exact ``acc << -k`` for ``k <= 0`` (``shift-only``).

    ``acc << 32`` of ``acc = -2^31`` is ``-2^63``, the bottom of int64, where adding a
    negative zero point would wrap; ``v`` is clamped to ``+-2^62`` first (no output changes:
    anything beyond ``+-2^16`` saturates).
    """
    v = shift_round_half_up(np.asarray(acc, dtype=np.int64), np.asarray(shift, dtype=np.int64))
    return _clamp_zero_point(np.clip(v, -(1 << 62), 1 << 62), zero_point, dtype)
