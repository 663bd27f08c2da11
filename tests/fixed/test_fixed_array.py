"""FixedArray: exact operators checked against Fractions; no implicit rounding or float mixing."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw.fixed import FixedArray, QFormat


def _fractions(arr: FixedArray) -> list[Fraction]:
    return [Fraction(int(r)) * arr.fmt.resolution for r in arr.raw.reshape(-1).tolist()]


def test_operators_are_exact():
    rng = np.random.default_rng(4)
    fa, fb = QFormat(5, 7), QFormat(3, 9, signed=False)
    a = FixedArray(rng.integers(fa.raw_min, fa.raw_max + 1, 50), fa)
    b = FixedArray(rng.integers(fb.raw_min, fb.raw_max + 1, 50), fb)
    xa, xb = _fractions(a), _fractions(b)
    assert _fractions(a + b) == [x + y for x, y in zip(xa, xb)]
    assert _fractions(a - b) == [x - y for x, y in zip(xa, xb)]
    assert _fractions(b - a) == [y - x for x, y in zip(xa, xb)]
    assert _fractions(a * b) == [x * y for x, y in zip(xa, xb)]
    assert _fractions(-a) == [-x for x in xa]
    assert _fractions(a << 3) == [x * 8 for x in xa] and _fractions(a >> 2) == [x / 4 for x in xa]
    m = a.reshape(5, 10)
    n = b.reshape(10, 5)
    prod = m @ n
    rows = [xa[i * 10 : i * 10 + 10] for i in range(5)]
    cols = [[xb[k * 5 + j] for k in range(10)] for j in range(5)]
    assert _fractions(prod) == [sum(x * y for x, y in zip(r, c)) for r in rows for c in cols]
    assert np.array_equal(a.to_float(), [float(x) for x in xa])


def test_matmul_with_accumulator_and_requantize():
    f = QFormat(4, 0)
    m = FixedArray(np.full((2, 8), 7), f)
    result, count = m.matmul(m.T, QFormat(8, 0), "sat")
    assert result.raw.tolist() == [[127, 127], [127, 127]] and count == 4
    r = FixedArray.from_float([0.3, -1.7], QFormat(4, 8)).requantize(QFormat(4, 1), "half_even", "sat")
    assert r.fmt == QFormat(4, 1) and r.to_float().tolist() == [0.5, -1.5]


def test_no_mixing_with_plain_numbers_and_repr():
    a = FixedArray.from_float([0.5, 1.25], QFormat(4, 4))
    for bad in (lambda: a + 1.0, lambda: a * 2, lambda: np.ones(2) + a):
        with pytest.raises(TypeError):
            bad()
    assert repr(a) == "FixedArray([0.5 , 1.25], Q4.4, shape=(2,))"
    assert a[1].to_float().tolist() == 1.25 and len(a) == 2 and a.same_as(FixedArray(a.raw, a.fmt))
