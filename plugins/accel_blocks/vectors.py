"""Test vectors for the accelerator's hardware blocks: directed edge cases, then random.

Every generator takes a ``seed`` and returns a dict of int64 arrays keyed by port name (see
:mod:`inwhale_hw.hdlsim.ports`), ready for ``verify``.

Processing elements (:func:`pe_vectors`), per clock ``a``, ``b``, ``bias``, ``clear``,
``accumulate``:
    * every operand pair once with ``clear`` and ``accumulate`` and a zero bias, so ``acc``
      shows each product on its own (``sweep``; 65536 pairs for int8, ``256 * 2^bits`` for
      power-of-two codes);
    * the extreme products (``-128 * -128`` and the most negative one) landing exactly on
      each rail, one past it, far past it, and a long run of extreme products from near a
      rail so the register wraps or sticks there for many clocks; rails with a zero product;
      ``clear`` without ``accumulate``;
    * ``count`` random clocks: operands uniform with extra weight on the extremes, ``clear``
      with probability 1/16, ``accumulate`` 7/8, biases zero, uniform or within a few
      products of a rail.
MAC array (:func:`array_vectors`): tiles of random length ``K`` (1..24) started by ``clear``,
the same operand and bias mix per row and column, and a tile of extreme products from
near the rails.
Requantization (:func:`gemmlowp_vectors`, :func:`shift_vectors`): the cross product of
extreme accumulators, multipliers, shifts and zero points; exact ties of each rounding
step (``x q = 2^30 mod 2^31`` for SaturatingRoundingDoublingHighMul, ``h = 2^(r-1) mod
2^r`` of both signs for RoundingDivideByPOT, both at once; ``acc = 2^(k-1) mod 2^k`` for the
shift); then random multipliers from ``QuantizeMultiplier`` of log-uniform scales plus
arbitrary ``(q, shift)`` pairs.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw.nn.requant import integer_range, quantize_multiplier
from .golden import products

__all__ = ["pe_vectors", "array_vectors", "gemmlowp_vectors", "shift_vectors", "weight_space"]


def weight_space(weights: str, bits: int) -> np.ndarray:
    """Every weight operand: int8 values, or all ``bits``-bit codes."""
    return np.arange(-128, 128) if weights == "int8" else np.arange(1 << bits)


def _extremes(weights: str, bits: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Operand pairs giving the largest product, the most negative one, and +1."""
    a = np.repeat(np.arange(-128, 128), len(weight_space(weights, bits)))
    b = np.tile(weight_space(weights, bits), 256)
    p = products(a, b, weights, bits)
    one = np.flatnonzero(p == 1)
    return (int(a[p.argmax()]), int(b[p.argmax()])), (int(a[p.argmin()]), int(b[p.argmin()])), \
        (int(a[one[0]]), int(b[one[0]]))


def _rows(rows: list[tuple[int, int, int, int, int]]) -> dict[str, np.ndarray]:
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 5)
    return {key: arr[:, i] for i, key in enumerate(("a", "b", "bias", "clear", "accumulate"))}


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _pick(rng: np.random.Generator, values: np.ndarray, extremes: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws from ``values``, one in ten replaced by one of ``extremes``."""
    out = rng.choice(values, n)
    hit = rng.random(n) < 0.1
    out[hit] = rng.choice(extremes, int(hit.sum()))
    return out


def _biases(rng: np.random.Generator, n: int, acc_bits: int, near: int) -> np.ndarray:
    """Half zero, a quarter uniform, a quarter within ``near`` of a rail."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    kind = rng.integers(0, 4, n)
    uniform = rng.integers(lo, hi, n, endpoint=True)
    offset = rng.integers(0, near, n, endpoint=True)
    rail = np.where(rng.random(n) < 0.5, hi - offset, lo + offset)
    return np.clip(np.select([kind < 2, kind == 2], [0, uniform], rail), lo, hi)


def _directed(acc_bits: int, weights: str, bits: int) -> dict[str, np.ndarray]:
    """Rails: the extreme products onto each rail exactly, then one past and further; a bias
    one closer to the rail, so the extreme product passes it by one; long runs of the extreme products
    (from 0 when the rail is within 2048 of them, else from a few products below it); rails
    with zero products; ``clear`` without ``accumulate``; holding."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    (pa, pb), (na, nb), (oa, ob) = _extremes(weights, bits)
    big = int(products(pa, pb, weights, bits))
    low = int(products(na, nb, weights, bits))

    def bias(v: int) -> int:
        return min(max(v, lo), hi)

    rows: list[tuple[int, int, int, int, int]] = []
    for start, (a, b), step, back in (
        (hi - big, (pa, pb), (oa, ob), 1),          # exactly onto +rail, then one past
        (lo - low, (na, nb), (-oa, ob), -1),         # exactly onto -rail, then one past
    ):
        rows += [(a, b, bias(start), 1, 1), (step[0], step[1], 0, 0, 1), (a, b, 0, 0, 1), (a, b, 0, 0, 1)]
        rows += [(a, b, bias(start + back), 1, 1), (0, 0, 0, 0, 1)]
    for a, b, rail in ((pa, pb, hi), (na, nb, lo)):
        run = 8 if acc_bits > 24 else min(((1 << (acc_bits - 1)) // max(abs(big), abs(low), 1)) + 8, 2048)
        start = bias(rail - (run // 2) * (big if rail == hi else low)) if acc_bits > 24 else 0
        rows += [(a, b, start, 1, 1)] + [(a, b, 0, 0, 1)] * (run + 8)
    rows += [(0, 0, hi, 1, 1), (pa, pb, 0, 0, 0), (0, 0, lo, 1, 0), (na, nb, 0, 0, 0), (pa, pb, 0, 1, 0)]
    return _rows(rows)


def pe_vectors(acc_bits: int, weights: str = "int8", bits: int = 4, count: int = 20000, sweep: bool = True,
               seed: int = 0) -> dict[str, np.ndarray]:
    """Vectors for one processing element (see the module docstring)."""
    rng = np.random.default_rng(seed)
    parts = []
    space = weight_space(weights, bits)
    if sweep:
        a = np.repeat(np.arange(-128, 128), len(space))
        b = np.tile(space, 256)
        ones = np.ones(len(a), dtype=np.int64)
        parts.append({"a": a, "b": b, "bias": 0 * ones, "clear": ones, "accumulate": ones})
    parts.append(_directed(acc_bits, weights, bits))
    if count:
        (pa, pb), (na, nb), _ = _extremes(weights, bits)
        near = 4 * int(abs(products(pa, pb, weights, bits)))
        parts.append({
            "a": _pick(rng, np.arange(-128, 128), np.array([-128, 127, pa, na]), count),
            "b": _pick(rng, space, np.array([pb, nb, space[0], space[-1]]), count),
            "bias": _biases(rng, count, acc_bits, near),
            "clear": (rng.random(count) < 1 / 16).astype(np.int64),
            "accumulate": (rng.random(count) < 7 / 8).astype(np.int64),
        })
    return {key: np.asarray(value, dtype=np.int64) for key, value in _concat(parts).items()}


def array_vectors(rows: int, cols: int, acc_bits: int, weights: str = "int8", bits: int = 4, count: int = 4000,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Vectors for a ``rows x cols`` MAC array: tiles of random depth, then an extreme tile."""
    rng = np.random.default_rng(seed)
    space = weight_space(weights, bits)
    (pa, pb), (na, nb), _ = _extremes(weights, bits)
    big = int(abs(products(pa, pb, weights, bits)))
    clear = np.zeros(count, dtype=np.int64)
    starts = np.cumsum(rng.integers(1, 25, count))
    clear[starts[starts < count]] = 1
    clear[0] = 1
    accumulate = np.where(clear == 1, rng.random(count) < 0.95, rng.random(count) < 0.9).astype(np.int64)
    out = {"clear": clear, "accumulate": accumulate}
    for r in range(rows):
        out[f"a__{r}"] = _pick(rng, np.arange(-128, 128), np.array([-128, 127, pa, na]), count)
    for c in range(cols):
        out[f"b__{c}"] = _pick(rng, space, np.array([pb, nb]), count)
        out[f"bias__{c}"] = _biases(rng, count, acc_bits, 4 * big)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    depth = 12
    edge = {"clear": np.r_[1, np.zeros(depth - 1)], "accumulate": np.ones(depth)}
    for r in range(rows):
        edge[f"a__{r}"] = np.full(depth, pa if r % 2 == 0 else na)
    for c in range(cols):
        edge[f"b__{c}"] = np.full(depth, pb if c % 2 == 0 else nb)
        edge[f"bias__{c}"] = np.r_[np.clip(hi - 6 * big if c % 2 == 0 else lo + 6 * big, lo, hi), np.zeros(depth - 1)]
    return {key: np.concatenate([edge[key], out[key]]).astype(np.int64) for key in out}


def _zero_points(rng: np.random.Generator, dtype: str, n: int) -> np.ndarray:
    lo, hi = integer_range(np.dtype(dtype))
    return rng.integers(lo, hi, n, endpoint=True)


def _accumulators(rng: np.random.Generator, acc_bits: int, n: int) -> np.ndarray:
    """Uniform over the range, or scaled down by a random shift (small values are common)."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    acc = rng.integers(lo, hi, n, endpoint=True)
    return np.where(rng.random(n) < 0.6, acc >> rng.integers(0, acc_bits, n), acc)


def _tie_operands(rng: np.random.Generator, acc_bits: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, q)`` with ``x q = 2^30 (mod 2^31)``: ``q`` in ``[2^30, 2^31)`` with exactly ``t``
    trailing zeros and ``x`` an odd multiple of ``2^(30 - t)`` (then ``x q = 2^30 * odd``)."""
    t = rng.integers(max(0, 32 - acc_bits), 31, n)
    q = ((rng.integers(1 << 30, 1 << 31, n) >> t) | 1) << t
    odd_limit = np.int64(1) << (acc_bits - 31 + t)  # |x| < 2^(acc_bits - 1)
    x = (2 * rng.integers(0, np.maximum(odd_limit // 2, 1)) + 1) << (30 - t)
    return np.where(rng.random(n) < 0.5, -x, x), q


def _in_range(values: np.ndarray, bits: int) -> np.ndarray:
    return (values >= -(1 << (bits - 1))) & (values < (1 << (bits - 1)))


def gemmlowp_vectors(acc_bits: int = 32, dtype: str = "int8", count: int = 20000, seed: int = 0) -> dict[str, np.ndarray]:
    """Vectors for :class:`~inwhale_hw.hdl.requant.RequantGemmlowp`."""
    rng = np.random.default_rng(seed)
    lo, hi = integer_range(np.dtype(dtype))
    a_lo, a_hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    grid = np.array(np.meshgrid([a_lo, a_hi, 0, 1, -1], [0, 1 << 30, (1 << 31) - 1], [-32, -31, -1, 0, 1, 30, 31],
                                [lo, hi, (lo + hi) // 2], indexing="ij")).reshape(4, -1)
    parts = [grid]
    x, q = _tie_operands(rng, acc_bits, 512)
    parts.append(np.stack([x, q, -rng.integers(0, 33, 512), _zero_points(rng, dtype, 512)]))
    r = np.repeat(np.arange(1, acc_bits), 8)
    j = rng.integers(-(np.int64(1) << np.maximum(acc_bits - 2 - r, 0)), np.int64(1) << np.maximum(acc_bits - 2 - r, 0))
    h = (j << r) + (np.int64(1) << (r - 1))  # a RoundingDivideByPOT tie at r
    # q = 2^30: SRDHM(x) = floor((x + 1) / 2), so x = 2h gives h, and x = 2h - 1 gives h through a tie
    acc = np.where(rng.random(len(r)) < 0.5, 2 * h - 1, 2 * h)
    keep = _in_range(acc, acc_bits)
    m = int(keep.sum())
    parts.append(np.stack([acc[keep], np.full(m, 1 << 30), -r[keep], _zero_points(rng, dtype, m)]))
    mult = np.exp(rng.uniform(np.log(2.0 ** -40), np.log(2.0 ** 8), count))
    q, shift = quantize_multiplier(mult)
    arbitrary = rng.random(count) < 0.1
    q = np.where(arbitrary, rng.integers(1 << 30, 1 << 31, count), q)
    shift = np.where(arbitrary, rng.integers(-32, 32, count), shift)
    q = np.where(rng.random(count) < 0.03, 0, q)
    parts.append(np.stack([_accumulators(rng, acc_bits, count), q, np.clip(shift, -32, 31), _zero_points(rng, dtype, count)]))
    data = np.concatenate(parts, axis=1).astype(np.int64)
    return dict(zip(("acc", "multiplier", "shift", "zero_point"), data))


def shift_vectors(acc_bits: int = 32, dtype: str = "int8", count: int = 20000, seed: int = 0) -> dict[str, np.ndarray]:
    """Vectors for :class:`~inwhale_hw.hdl.requant.RequantShift`."""
    rng = np.random.default_rng(seed)
    lo, hi = integer_range(np.dtype(dtype))
    n_out = np.dtype(dtype).itemsize * 8
    a_lo, a_hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    shifts = sorted({-32, -n_out - 2, -n_out - 1, -n_out, -1, 0, 1, acc_bits - 1, acc_bits, 31} & set(range(-32, 32)))
    grid = np.array(np.meshgrid([a_lo, a_hi, 0, 1, -1, 2, -2], shifts, [lo, hi, (lo + hi) // 2],
                                indexing="ij")).reshape(3, -1)
    k = np.repeat(np.arange(1, acc_bits), 8)
    j = rng.integers(-(np.int64(1) << (acc_bits - 1 - k)), np.int64(1) << (acc_bits - 1 - k))
    acc = (j << k) + (np.int64(1) << (k - 1))  # a tie of round half up at k
    keep = _in_range(acc, acc_bits)
    ties = np.stack([acc[keep], k[keep], _zero_points(rng, dtype, int(keep.sum()))])
    shift = np.where(rng.random(count) < 0.7, rng.integers(0, 25, count), rng.integers(-32, 32, count))
    rand = np.stack([_accumulators(rng, acc_bits, count), shift, _zero_points(rng, dtype, count)])
    data = np.concatenate([grid, ties, rand], axis=1).astype(np.int64)
    return dict(zip(("acc", "shift", "zero_point"), data))
