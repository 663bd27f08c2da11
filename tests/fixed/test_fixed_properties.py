"""Hypothesis properties of the fixed-point core, with Fractions as the oracle."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from fraction_ref import ref_overflow, ref_round
from hypothesis import given, settings
from hypothesis import strategies as st

from inwhale_hw.fixed import Overflow, QFormat, Rounding, add, mul, quantize, requantize, shift_left, shift_right, to_float

DETERMINISTIC = [r for r in Rounding if r is not Rounding.STOCHASTIC]
NON_ERROR = [o for o in Overflow if o is not Overflow.ERROR]
SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def formats(draw, max_bits: int = 63, frac_range: tuple[int, int] = (-20, 70)):
    bits = draw(st.integers(1, max_bits))
    frac = draw(st.integers(*frac_range))
    return QFormat(bits - frac, frac, draw(st.booleans()))


def raws(fmt: QFormat, size: int = 20):
    return st.lists(st.integers(fmt.raw_min, fmt.raw_max), min_size=1, max_size=size).map(
        lambda v: np.array(v, dtype=np.int64)
    )


@SETTINGS
@given(data=st.data(), fmt=formats(max_bits=53), rounding=st.sampled_from(DETERMINISTIC),
       overflow=st.sampled_from(list(Overflow)))
def test_quantize_of_to_float_returns_the_raw_values(data, fmt, rounding, overflow):
    raw = data.draw(raws(fmt))
    if overflow is Overflow.SAT_SYM and fmt.signed:
        raw = np.maximum(raw, -fmt.raw_max)
    assert np.array_equal(quantize(to_float(raw, fmt), fmt, rounding, overflow), raw)


@SETTINGS
@given(x=st.floats(allow_nan=False, allow_infinity=False), fmt=formats(),
       rounding=st.sampled_from(DETERMINISTIC), overflow=st.sampled_from(NON_ERROR))
def test_quantize_any_finite_float_matches_fractions(x, fmt, rounding, overflow):
    q = ref_round(Fraction(x) * Fraction(2) ** fmt.frac_bits, rounding.name)
    expected = ref_overflow(q, fmt.bits, fmt.signed, overflow.name)
    assert quantize(np.array([x]), fmt, rounding, overflow).tolist() == [expected]


@SETTINGS
@given(xs=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30), fmt=formats(max_bits=40),
       rounding=st.sampled_from(DETERMINISTIC))
def test_quantize_is_monotone_under_saturation(xs, fmt, rounding):
    x = np.sort(np.array(xs))
    q = quantize(x, fmt, rounding, Overflow.SAT)
    assert np.all(np.diff(q) >= 0)


@SETTINGS
@given(data=st.data(), src=formats(max_bits=40), extra_int=st.integers(0, 10), extra_frac=st.integers(0, 12),
       rounding=st.sampled_from(DETERMINISTIC))
def test_requantize_to_a_wider_format_is_exact_and_reversible(data, src, extra_int, extra_frac, rounding):
    int_bits = src.int_bits + extra_int + (0 if src.signed else 1)
    dst = QFormat(int_bits, src.frac_bits + extra_frac, True)
    raw = data.draw(raws(src))
    wide = requantize(raw, src, dst, rounding, Overflow.ERROR)
    assert [Fraction(int(w)) * dst.resolution for w in wide] == [Fraction(int(r)) * src.resolution for r in raw]
    assert np.array_equal(requantize(wide, dst, src, rounding, Overflow.ERROR), raw)


@SETTINGS
@given(data=st.data(), fa=formats(24, (-5, 20)), fb=formats(24, (-5, 20)))  # results stay <= 63 bits
def test_add_and_mul_are_exact_and_commutative(data, fa, fb):
    a, b = data.draw(raws(fa, 10)), data.draw(raws(fb, 10))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    for fn, op in ((add, lambda x, y: x + y), (mul, lambda x, y: x * y)):
        r1, f1 = fn(a, fa, b, fb)
        r2, f2 = fn(b, fb, a, fa)
        assert f1 == f2 and np.array_equal(r1, r2)
        exact = [op(Fraction(int(x)) * fa.resolution, Fraction(int(y)) * fb.resolution) for x, y in zip(a, b)]
        assert [Fraction(int(r)) * f1.resolution for r in r1] == exact


@SETTINGS
@given(v=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=20), k=st.integers(0, 20),
       rounding=st.sampled_from(DETERMINISTIC))
def test_shift_left_then_right_is_identity(v, k, rounding):
    fmt = QFormat(62, 0)
    raw = np.array(v, dtype=np.int64)
    assert np.array_equal(shift_right(shift_left(raw, k, fmt, "error"), k, rounding), raw)
