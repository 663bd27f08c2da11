"""quantize / to_float / requantize against exact rational arithmetic (fractions.Fraction)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from fraction_ref import ref_overflow, ref_round

from inwhale_hw.errors import FixedPointOverflowError, InputError, ParameterError
from inwhale_hw.fixed import Overflow, QFormat, Rounding, quantize, requantize, to_float

DETERMINISTIC = [r for r in Rounding if r is not Rounding.STOCHASTIC]
FORMATS = [
    QFormat(4, 12),
    QFormat(8, 0, signed=False),
    QFormat(3, -2),  # LSB weighs 4
    QFormat(-2, 10),  # 8 bits, all values below 1/4
    QFormat(1, 0),  # {-1, 0}
    QFormat(1, 0, signed=False),  # {0, 1}
    QFormat(2, 30, signed=False),
    QFormat(53, 0),
    QFormat(40, 23),  # 63 bits signed
    QFormat(63, 0, signed=False),  # raw_max = 2**63 - 1
]


def _values(fmt: QFormat, rng: np.random.Generator) -> np.ndarray:
    """Random, exact-tie, near-tie, out-of-range and extreme float64 values for ``fmt``."""
    lsb = 2.0**-fmt.frac_bits
    lo, hi = float(fmt.raw_min), float(fmt.raw_max)
    k = rng.integers(-40, 40, 60).astype(np.float64)
    ties = (k + 0.5) * lsb
    near = np.concatenate([np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    inside = rng.uniform(lo - 2, hi + 2, 80) * lsb
    edges = np.array([lo - 0.5, lo - 0.5000001, lo, hi, hi + 0.5, hi + 0.49999, hi + 1, lo - 1]) * lsb
    wide = rng.uniform(-1, 1, 40) * lsb * 2.0 ** rng.integers(0, 70, 40)
    tiny = rng.uniform(-1, 1, 20) * lsb * 2.0 ** -rng.integers(1, 60, 20)
    extreme = np.array([0.0, -0.0, 5e-324, -5e-324, 1e300, -1e300, 1.7e308, -1.7e308,
                        0.49999999999999994 * lsb, -0.49999999999999994 * lsb, 0.5 * lsb, -0.5 * lsb])
    return np.concatenate([ties, near, inside, edges, wide, tiny, extreme])


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_quantize_every_mode_pair_matches_fractions(fmt):
    rng = np.random.default_rng(fmt.bits * 1000 + fmt.frac_bits)
    x = _values(fmt, rng)
    scale = Fraction(2) ** fmt.frac_bits
    exact = [Fraction(float(v)) * scale for v in x]
    checked = 0
    for rounding in DETERMINISTIC:
        rounded = [ref_round(v, rounding.name) for v in exact]
        for overflow in Overflow:
            expected = [ref_overflow(q, fmt.bits, fmt.signed, overflow.name) for q in rounded]
            if overflow is Overflow.ERROR and None in expected:
                with pytest.raises(FixedPointOverflowError) as info:
                    quantize(x, fmt, rounding, overflow)
                assert info.value.count == expected.count(None)
                assert info.value.first_index == expected.index(None)
                expected_ok = [e for e in expected if e is not None]
                got = quantize(x[[e is not None for e in expected]], fmt, rounding, overflow)
                assert got.tolist() == expected_ok
            else:
                got = quantize(x, fmt, rounding, overflow)
                assert got.dtype == np.int64 and got.shape == x.shape
                mismatches = [(float(x[i]), g, e) for i, (g, e) in enumerate(zip(got.tolist(), expected)) if g != e]
                assert not mismatches, f"{fmt} {rounding.name} {overflow.name}: {mismatches[:5]}"
            checked += 1
    assert checked == len(DETERMINISTIC) * len(Overflow)


def test_no_double_rounding_at_the_classic_case():
    fmt = QFormat(8, 0)
    assert quantize([0.49999999999999994], fmt, "HALF_UP").tolist() == [0]
    assert quantize([0.5, 1.5, 2.5, -0.5, -1.5], fmt, "HALF_EVEN").tolist() == [0, 2, 2, 0, -2]
    assert quantize([0.5, 1.5, -0.5, -1.5], fmt, "HALF_ODD").tolist() == [1, 1, -1, -1]


def test_ap_fixed_aliases_and_strings():
    fmt = QFormat(8, 4)
    x = np.array([0.03125, -0.03125, 0.09375, 1.0 / 3])
    pairs = [("TRN", "FLOOR"), ("TRN_ZERO", "TOWARD_ZERO"), ("RND", "HALF_UP"), ("RND_ZERO", "HALF_TOWARD_ZERO"),
             ("RND_INF", "HALF_AWAY"), ("RND_MIN_INF", "HALF_DOWN"), ("RND_CONV", "HALF_EVEN")]
    for alias, name in pairs:
        assert Rounding[alias] is Rounding[name]
        assert np.array_equal(quantize(x, fmt, alias.lower()), quantize(x, fmt, Rounding[name]))
    assert quantize([1000.0], fmt, "half-even", "sat").tolist() == [2047]


def test_shapes_are_kept():
    fmt = QFormat(8, 4)
    assert quantize(1.5, fmt).shape == () and quantize(np.float32(1.3), fmt).tolist() == 21
    assert quantize(np.zeros((2, 0, 3)), fmt).shape == (2, 0, 3)
    assert quantize(np.array([[1.0], [2.0]])[::-1], fmt).tolist() == [[32], [16]]
    assert to_float(np.int64(5), fmt).shape == () and requantize(np.zeros(0, np.int64), fmt, fmt).shape == (0,)


def test_bad_modes_raise_parameter_error_quoting_value():
    with pytest.raises(ParameterError, match="'Q8.4'"):
        quantize([0.0], "Q8.4")
    with pytest.raises(ParameterError, match="'nearest'"):
        quantize([0.0], QFormat(8, 0), "nearest")
    with pytest.raises(ParameterError, match="'clip'"):
        quantize([0.0], QFormat(8, 0), overflow="clip")
    with pytest.raises(ParameterError, match="rng"):
        quantize([0.0], QFormat(8, 0), Rounding.STOCHASTIC)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_names_first_index(bad):
    x = np.zeros(300_000)
    x[123_457] = bad
    x[200_000] = np.nan
    with pytest.raises(InputError, match="flat index 123457"):
        quantize(x, QFormat(8, 4), overflow="sat")


def test_large_arrays_use_the_chunked_path_consistently():
    rng = np.random.default_rng(5)
    fmt = QFormat(6, 10)
    x = rng.normal(0, 20, 700_001)
    got = quantize(x, fmt, "HALF_AWAY", "SAT")
    small = np.concatenate([quantize(part, fmt, "HALF_AWAY", "SAT") for part in np.array_split(x, 7)])
    assert np.array_equal(got, small)
    sample = rng.integers(0, x.size, 500)
    for i in sample:
        q = ref_round(Fraction(float(x[i])) * 1024, "HALF_AWAY")
        assert got[i] == ref_overflow(q, 16, True, "SAT")
    with pytest.raises(FixedPointOverflowError) as info:
        quantize(x, fmt)
    over = np.flatnonzero(np.abs(x) >= 31.99)
    assert info.value.first_index <= over[0] + 1 and info.value.count >= 1


def test_integer_input_is_exact():
    fmt = QFormat(20, -3)
    x = np.array([2**62, -(2**62), 12, 13, -12, 4, -4, 2**40 + 4], dtype=np.int64)
    for rounding in DETERMINISTIC:
        for overflow in (Overflow.WRAP, Overflow.SAT, Overflow.SAT_ZERO):
            expected = [ref_overflow(ref_round(Fraction(int(v), 8), rounding.name), 17, True, overflow.name) for v in x]
            assert quantize(x, fmt, rounding, overflow).tolist() == expected
    wide = QFormat(63, 0)
    assert quantize(np.array([5, -7], dtype=np.int8), QFormat(8, 3)).tolist() == [40, -56]
    assert quantize(np.array([2**62], dtype=np.int64), wide, overflow="sat").tolist() == [2**62 - 1]


def test_to_float_is_exact_and_checks_range():
    fmt = QFormat(3, 50)
    raw = np.array([fmt.raw_min, fmt.raw_max, 1, -1, 0, 123456789012345])
    got = to_float(raw, fmt)
    assert [Fraction(v) for v in got] == [Fraction(int(r)) * fmt.resolution for r in raw]
    with pytest.raises(InputError, match="flat index 1"):
        to_float(np.array([0, 128]), QFormat(8, 0))
    with pytest.raises(InputError, match="dtype float64"):
        to_float(np.array([0.5]), QFormat(8, 0))


REQUANT_PAIRS = [
    (QFormat(4, 12), QFormat(4, 4)),
    (QFormat(4, 12), QFormat(2, 4)),
    (QFormat(8, 8, signed=False), QFormat(4, 2)),
    (QFormat(4, 2), QFormat(8, 8, signed=False)),
    (QFormat(16, 0), QFormat(10, -6)),
    (QFormat(3, -2), QFormat(6, 3)),
    (QFormat(2, 61), QFormat(2, 0)),  # shift by 61
    (QFormat(-40, 100), QFormat(4, 2)),  # shift by 98 (jammed)
    (QFormat(1, 62), QFormat(3, -1)),  # shift by 63: raw_min is an exact tie
    (QFormat(63, 0, signed=False), QFormat(60, -50)),
    (QFormat(10, 0), QFormat(10, 50)),  # left shift by 50, huge overflow
    (QFormat(5, 0), QFormat(5, 0, signed=False)),
]


@pytest.mark.parametrize("src,dst", REQUANT_PAIRS, ids=str)
def test_requantize_every_mode_pair_matches_fractions(src, dst):
    rng = np.random.default_rng(src.bits + 7 * dst.bits)
    raw = np.concatenate([
        rng.integers(src.raw_min, src.raw_max, 150, endpoint=True),
        [src.raw_min, src.raw_max, 0, 1, -1 if src.signed else 2],
    ])
    raw = raw[(raw >= src.raw_min) & (raw <= src.raw_max)]
    shift = src.frac_bits - dst.frac_bits
    if 0 < shift <= 56:  # add exact ties and near ties
        base = rng.integers(-50, 50, 30) << shift
        half = 1 << (shift - 1)
        extra = np.concatenate([base + half, base + half + 1, base + half - 1, base - half])
        raw = np.concatenate([raw, extra[(extra >= src.raw_min) & (extra <= src.raw_max)]])
    raw = raw.astype(np.int64)
    for rounding in DETERMINISTIC:
        rounded = [ref_round(Fraction(int(r)) / Fraction(2) ** shift, rounding.name) for r in raw]
        for overflow in Overflow:
            expected = [ref_overflow(q, dst.bits, dst.signed, overflow.name) for q in rounded]
            if overflow is Overflow.ERROR and None in expected:
                with pytest.raises(FixedPointOverflowError) as info:
                    requantize(raw, src, dst, rounding, overflow)
                assert (info.value.count, info.value.first_index) == (expected.count(None), expected.index(None))
            else:
                got = requantize(raw, src, dst, rounding, overflow)
                assert got.tolist() == expected, f"{rounding.name} {overflow.name}"


def test_requantize_defaults_are_trn_wrap():
    src, dst = QFormat(8, 4), QFormat(4, 0)
    raw = np.array([-128, -1, 23, 127])
    assert requantize(raw, src, dst).tolist() == requantize(raw, src, dst, "TRN", "WRAP").tolist() == [-8, -1, 1, 7]


def test_stochastic_rounding_is_seeded_unbiased_and_brackets_the_value():
    fmt = QFormat(8, 2)
    n = 200_000
    value = 1.0 + 0.3 * 0.25  # 4.3 LSB
    x = np.full(n, value)
    a = quantize(x, fmt, Rounding.STOCHASTIC, rng=42)
    b = quantize(x, fmt, Rounding.STOCHASTIC, rng=np.random.default_rng(42))
    assert np.array_equal(a, b)
    assert set(np.unique(a).tolist()) == {4, 5}
    # mean of n Bernoulli(0.3) draws: std = sqrt(0.3*0.7/n) = 0.00102; 5 sigma -> false-failure odds ~6e-7
    assert abs(a.mean() - 4.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    assert not np.array_equal(a, quantize(x, fmt, Rounding.STOCHASTIC, rng=43))
    exact = np.array([1.25, -3.0, 0.0])  # representable values never move
    assert quantize(exact, fmt, Rounding.STOCHASTIC, rng=1).tolist() == [5, -12, 0]
    raw = np.full(n, 11, dtype=np.int64)  # 11/4 = 2.75 -> 3 with probability 3/4
    r = requantize(raw, QFormat(8, 2), QFormat(8, 0), Rounding.STOCHASTIC, rng=7)
    assert set(np.unique(r).tolist()) == {2, 3}
    assert abs(r.mean() - 2.75) < 5 * np.sqrt(0.25 * 0.75 / n)
