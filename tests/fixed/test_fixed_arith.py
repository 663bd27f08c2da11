"""Exact add/sub/mul/neg, shifts, exact_matmul and accumulator matmul/dot against Python ints."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from fraction_ref import ref_overflow, ref_round

from inwhale_hw.errors import FixedPointOverflowError, InputError, ParameterError, WidthLimitError
from inwhale_hw.fixed import (
    Overflow, QFormat, Rounding, accumulator_format, add, dot, exact_matmul, matmul, mul, neg,
    shift_left, shift_right, sub,
)
from inwhale_hw.fixed import running
from inwhale_hw.fixed.matmul import blas_threads, matmul_bound

PAIRS = [
    (QFormat(4, 12), QFormat(4, 12)),
    (QFormat(4, 12), QFormat(8, 2)),
    (QFormat(8, 0, False), QFormat(4, 4)),
    (QFormat(8, 0, False), QFormat(3, 5, False)),
    (QFormat(3, -2), QFormat(-2, 10)),
    (QFormat(20, 11), QFormat(1, 31)),
]


def _raw(fmt: QFormat, n: int, rng) -> np.ndarray:
    body = rng.integers(fmt.raw_min, fmt.raw_max, n, endpoint=True)
    return np.concatenate([body, [fmt.raw_min, fmt.raw_max, 0]]).astype(np.int64)


def _value(raw: int, fmt: QFormat) -> Fraction:
    return Fraction(int(raw)) * fmt.resolution


@pytest.mark.parametrize("fa,fb", PAIRS, ids=str)
def test_add_sub_mul_are_exact_and_formats_hold_every_result(fa, fb):
    rng = np.random.default_rng(fa.bits * 64 + fb.bits)
    a, b = _raw(fa, 300, rng), _raw(fb, 300, rng)
    for fn, op in ((add, lambda x, y: x + y), (sub, lambda x, y: x - y), (mul, lambda x, y: x * y)):
        raw, fmt = fn(a, fa, b, fb)
        assert raw.dtype == np.int64
        for r, x, y in zip(raw.tolist(), a.tolist(), b.tolist()):
            exact = op(_value(x, fa), _value(y, fb))
            assert _value(r, fmt) == exact and fmt.contains(exact)
        # the extremes of the operand ranges are representable too (format large enough)
        for x in (fa.min, fa.max):
            for y in (fb.min, fb.max):
                assert fmt.contains(op(x, y)), (fn.__name__, fmt, x, y)
    raw, fmt = neg(a, fa)
    assert [_value(r, fmt) for r in raw.tolist()] == [-_value(x, fa) for x in a.tolist()]
    assert fmt.contains(-fa.min)


def test_formats_follow_apytypes_rules():
    assert add(0, QFormat(4, 12), 0, QFormat(4, 12))[1] == QFormat(5, 12)
    assert add(0, QFormat(4, 2), 0, QFormat(2, 6))[1] == QFormat(5, 6)
    assert mul(0, QFormat(4, 12), 0, QFormat(4, 12))[1] == QFormat(8, 24)
    assert mul(0, QFormat(8, 0, False), 0, QFormat(8, 0, False))[1] == QFormat(16, 0, False)
    assert sub(0, QFormat(8, 0, False), 0, QFormat(8, 0, False))[1] == QFormat(9, 0, True)
    assert add(0, QFormat(8, 0, False), 0, QFormat(8, 0))[1] == QFormat(10, 0, True)


def test_width_limit_is_an_error_not_a_wrap():
    with pytest.raises(WidthLimitError, match="64 bits"):
        mul(1, QFormat(2, 30), 1, QFormat(2, 30))
    with pytest.raises(WidthLimitError):
        add(1, QFormat(63, 0), 1, QFormat(63, 0))
    with pytest.raises(InputError, match="flat index 1"):
        add([1, 300], QFormat(8, 0), [0, 0], QFormat(8, 0))


def test_large_arrays_broadcast_and_chunked_agree():
    rng = np.random.default_rng(3)
    fa, fb = QFormat(12, 4), QFormat(10, 6)
    a, b = _raw(fa, 600_000, rng), _raw(fb, 600_000, rng)
    raw, fmt = mul(a, fa, b, fb)
    assert np.array_equal(raw, a * b)
    raw, fmt = add(a, fa, b, fb)
    assert np.array_equal(raw, (a << 2) + b)
    col = b[:7].reshape(7, 1)
    raw, _ = sub(a[:5], fa, col, fb)
    assert raw.shape == (7, 5) and raw[3, 2] == (a[2] << 2) - col[3, 0]


@pytest.mark.parametrize("k", [0, 1, 3, 17, 40, 61, 62, 63, 64, 100])
def test_shift_right_every_mode_matches_fractions(k):
    rng = np.random.default_rng(k)
    raw = np.concatenate([rng.integers(-(2**62), 2**62, 200), [2**62, -(2**62), 0, 1, -1, 2**63 - 1, -(2**63)]])
    if 0 < k < 40:
        base = rng.integers(-1000, 1000, 40) << k
        raw = np.concatenate([raw, base + (1 << (k - 1)), base - (1 << (k - 1)), base + 1])
    raw = raw.astype(np.int64)
    for rounding in Rounding:
        if rounding is Rounding.STOCHASTIC:
            continue
        expected = [ref_round(Fraction(int(r), 2**k), rounding.name) for r in raw]
        assert shift_right(raw, k, rounding).tolist() == expected, rounding


def test_shift_right_per_channel_array():
    raw = np.array([[100, -100, 7], [5, 6, -7]], dtype=np.int64)
    k = np.array([0, 2, 70])
    got = shift_right(raw, k, "HALF_EVEN")
    expected = [[ref_round(Fraction(int(v), 2 ** int(s)), "HALF_EVEN") for v, s in zip(row, k)] for row in raw]
    assert got.tolist() == expected
    with pytest.raises(ParameterError, match="-1"):
        shift_right(raw, -1)


@pytest.mark.parametrize("overflow", list(Overflow))
def test_shift_left_matches_python_ints(overflow):
    fmt = QFormat(10, 2)
    raw = np.array([0, 1, -1, 100, -300, fmt.raw_max, fmt.raw_min], dtype=np.int64)
    for k in (0, 1, 5, 12, 63, 70):
        expected = [ref_overflow(int(r) << k, fmt.bits, True, overflow.name) for r in raw]
        if overflow is Overflow.ERROR and None in expected:
            with pytest.raises(FixedPointOverflowError) as info:
                shift_left(raw, k, fmt, overflow)
            assert info.value.count == expected.count(None)
        else:
            assert shift_left(raw, k, fmt, overflow).tolist() == expected


def _py_matmul(a, b):
    return [[sum(int(x) * int(y) for x, y in zip(row, col)) for col in zip(*b.tolist())] for row in a.tolist()]


@pytest.mark.parametrize(
    "lo,hi,k",
    # float32 BLAS, float64 BLAS, K-chunked float64, int64 matmul
    [(-128, 128, 64), (-(2**15), 2**15, 40), (-(2**24), 2**24, 64), (-(2**30), 2**30, 7)],
)
def test_exact_matmul_matches_python_ints(lo, hi, k):
    rng = np.random.default_rng(k)
    a = rng.integers(lo, hi, (7, k))
    b = rng.integers(lo, hi, (k, 5))
    a[0, :] = lo
    b[:, 0] = lo  # the most negative values everywhere in one output
    assert exact_matmul(a, b).tolist() == _py_matmul(a, b)


@pytest.mark.parametrize("dtype", [np.int16, np.int8, np.int64])
def test_exact_matmul_k_chunked_float32_matches_python_ints(dtype):
    """Bounds above 2**24 with small terms: float32 BLAS over exact K chunks summed in int32
    (int8 / int16 operands also take the integer |a| row sums of the finer bound)."""
    rng = np.random.default_rng(11)
    top = np.iinfo(dtype).max if dtype != np.int64 else 255
    a = rng.integers(-top - 1, top + 1, (9, 3000)).astype(dtype)
    b = rng.integers(-top - 1, top + 1, (3000, 4)).astype(dtype)
    a[0, :] = -top - 1
    b[:, 0] = -top - 1  # one output reaches the bound K max|a| max|b| exactly
    assert exact_matmul(a, b).tolist() == _py_matmul(a, b)
    c = rng.integers(-1000, 1000, 4)
    assert exact_matmul(a, b, c).tolist() == [[v + int(w) for v, w in zip(row, c)] for row in _py_matmul(a, b)]


def test_matmul_bound_global_first_then_finer():
    """The global bound K max|a| max|b| is returned when it suffices; otherwise the finer
    row/column bound, which must still cover every output's sum of |a||b| (Python ints), and
    exact_matmul must be exact on the float32 path that only the finer bound allows."""
    rng = np.random.default_rng(7)
    a = rng.integers(-128, 128, (9, 64)).astype(np.int64)
    b = rng.integers(-128, 128, (64, 6)).astype(np.int64)
    a[3, 5] = 1 << 14  # one large entry: G = 64 * 2^14 * 128 = 2^27, F about 2^22
    b[5, :] = -128
    reach = max(sum(abs(int(x)) * abs(int(y)) for x, y in zip(row, col))
                for row in a.tolist() for col in zip(*b.tolist()))
    g = 64 * (1 << 14) * 128
    finer = matmul_bound(a, b)
    assert reach <= finer <= 1 << 24 < g
    assert matmul_bound(a, b, sufficient=g) == g
    assert matmul_bound(a, b, sufficient=g - 1) == finer
    assert exact_matmul(a, b).tolist() == _py_matmul(a, b)
    # caller-known bounds on |a|, |b| (looser than the maxima still prove exactness)
    assert exact_matmul(a, b, abs_max=(1 << 15, 128)).tolist() == _py_matmul(a, b)
    with pytest.raises(ParameterError, match="abs_max"):
        exact_matmul(a, b, abs_max=(-1, 128))


# c added in float32 (L + max|c| <= 2^24), in int64 after float32 BLAS, or with Python-int limbs
# (L + max|c| > 2^63 - 1 although every result fits int64)
@pytest.mark.parametrize("c_hi", [2000, 1 << 24, (1 << 63) - (1 << 20)])
def test_exact_matmul_with_addend_matches_python_ints(c_hi):
    rng = np.random.default_rng(c_hi % 1000)
    a = rng.integers(-128, 128, (6, 40))
    b = rng.integers(-128, 128, (40, 5))
    for c in (rng.integers(-c_hi, c_hi, 5), rng.integers(-c_hi, c_hi, (6, 1)), rng.integers(-c_hi, c_hi, (6, 5))):
        want = [[v + int(np.broadcast_to(c, (6, 5))[i, j]) for j, v in enumerate(row)]
                for i, row in enumerate(_py_matmul(a, b))]
        assert exact_matmul(a, b, c).tolist() == want
    c1 = rng.integers(-c_hi, c_hi, 5)
    assert exact_matmul(a[0], b, c1).tolist() == [v + int(w) for v, w in zip(_py_matmul(a[:1], b)[0], c1)]
    with pytest.raises(InputError, match="does not broadcast"):
        exact_matmul(a, b, np.zeros((2, 6, 5), np.int64))


def test_blas_threads_limits_small_products_to_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_counts():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]

    outside = blas_counts()
    with blas_threads(256**3):
        assert blas_counts() == [1] * len(outside)
    assert blas_counts() == outside
    with blas_threads(1 << 30):
        assert blas_counts() == outside


def test_exact_matmul_shapes_and_limits():
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (3, 4, 6)).astype(np.int8)
    b = rng.integers(-128, 128, (6, 2)).astype(np.int8)
    got = exact_matmul(a, b)
    assert got.dtype == np.int64 and got.shape == (3, 4, 2)
    assert got[2].tolist() == _py_matmul(a[2], b)
    assert exact_matmul(a[0, 0], b).tolist() == _py_matmul(a[0, :1], b)[0]
    big = np.full((2, 3), 2**62, dtype=np.int64)
    with pytest.raises(WidthLimitError, match="exceed int64"):
        exact_matmul(big, big.T)
    fits = np.array([[2**62, -(2**62)]], dtype=np.int64)
    assert exact_matmul(fits, np.array([[3], [3]])).tolist() == [[0]]
    with pytest.raises(InputError, match="inner dimensions"):
        exact_matmul(a, b.T)


def _ref_accumulate(a, b, acc: QFormat, mode: str):
    """Partial sums in order k = 0..K-1 with the policy applied to each (WRAP: wrap the end)."""
    lo, hi = acc.raw_min, acc.raw_max
    if mode == "SAT_SYM" and acc.signed:
        lo = -hi
    out, flags = [], []
    for row in a.tolist():
        orow, frow = [], []
        for col in zip(*b.tolist()):
            s, hit = 0, False
            if mode == "WRAP":
                s = sum(x * y for x, y in zip(row, col))
                hit = not acc.raw_min <= s <= acc.raw_max
                s = ref_overflow(s, acc.bits, acc.signed, "WRAP")
            else:
                for x, y in zip(row, col):
                    s += x * y
                    if not lo <= s <= hi:
                        hit = True
                        s = 0 if mode == "SAT_ZERO" else min(max(s, lo), hi)
            orow.append(s)
            frow.append(hit)
        out.append(orow)
        flags.append(frow)
    return out, flags


@pytest.fixture(params=["numpy", "compiled"])
def running_path(request, monkeypatch):
    """Run a test on the NumPy path and on the compiled running sums (inwhale_hw.fixed.running)."""
    if request.param == "compiled" and not running.ENABLED:
        pytest.skip("numba (optional extra) not installed or disabled")
    monkeypatch.setattr(running, "ENABLED", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("acc_bits", [12, 16, 20, 23])  # dense stepping, gathered lanes, no overflow
def test_matmul_accumulator_policies_match_reference(overflow, acc_bits, running_path):
    rng = np.random.default_rng(acc_bits)
    fa, fb = QFormat(4, 4), QFormat(8, 0)
    a = rng.integers(fa.raw_min, fa.raw_max + 1, (9, 150))
    b = rng.integers(fb.raw_min, fb.raw_max + 1, (150, 11))
    a[0, :] = fa.raw_max
    b[:, 0] = fb.raw_max  # a saturating run early on
    acc = QFormat.from_bits(acc_bits, 4)
    expected, flags = _ref_accumulate(a, b, acc, overflow.name)
    count = sum(map(sum, flags))
    if overflow is Overflow.ERROR and count:
        with pytest.raises(FixedPointOverflowError) as info:
            matmul(a, fa, b, fb, acc, overflow)
        first = [f for row in flags for f in row].index(True)
        assert (info.value.count, info.value.first_index) == (count, first)
        return
    result = matmul(a, fa, b, fb, acc, overflow)
    assert result.raw.tolist() == expected
    assert result.overflows == count and result.fmt == acc


def test_wide_accumulator_wraps_exactly_beyond_int64():
    rng = np.random.default_rng(11)
    fa, fb, acc = QFormat(32, 0), QFormat(31, 0), QFormat(63, 0)
    a = rng.integers(fa.raw_min, fa.raw_max + 1, (3, 40))
    b = rng.integers(fb.raw_min, fb.raw_max + 1, (40, 4))
    a[0], b[:, 0] = fa.raw_min, fb.raw_min  # sum = 40 * 2**61: far beyond int64
    expected, flags = _ref_accumulate(a, b, acc, "WRAP")
    result = matmul(a, fa, b, fb, acc, "wrap")
    assert result.raw.tolist() == expected and result.overflows == sum(map(sum, flags)) >= 1


@pytest.mark.parametrize("overflow", [Overflow.SAT, Overflow.SAT_ZERO, Overflow.WRAP])
def test_unsigned_63_bit_accumulator_saturates_without_int64_wrap(overflow, running_path):
    rng = np.random.default_rng(12)
    fa, fb, acc = QFormat(32, 0, False), QFormat(31, 0, False), QFormat(63, 0, False)
    a = rng.integers(0, 2**32, (4, 6))
    b = rng.integers(0, 2**31, (6, 3))
    a[1] = 1  # a row whose sums stay small
    expected, flags = _ref_accumulate(a, b, acc, overflow.name)
    result = matmul(a, fa, b, fb, acc, overflow)
    assert result.raw.tolist() == expected and result.overflows == sum(map(sum, flags)) > 0


@pytest.mark.parametrize("overflow", [Overflow.SAT, Overflow.SAT_SYM, Overflow.SAT_ZERO])
def test_batched_saturating_matmul_matches_reference(overflow, running_path):
    # batches broadcast; 5 columns < 9 rows: the compiled path runs the transposed products
    rng = np.random.default_rng(13)
    fa, fb, acc = QFormat(6, 2), QFormat(8, 0), QFormat(14, 2)
    a = rng.integers(fa.raw_min, fa.raw_max + 1, (2, 1, 9, 60))
    b = rng.integers(fb.raw_min, fb.raw_max + 1, (3, 60, 5))
    result = matmul(a, fa, b, fb, acc, overflow)
    count = 0
    for i in range(2):
        for j in range(3):
            expected, flags = _ref_accumulate(a[i, 0], b[j], acc, overflow.name)
            assert result.raw[i, j].tolist() == expected
            count += sum(map(sum, flags))
    assert result.overflows == count > 0


def test_matmul_default_accumulator_is_exact_and_dot_works():
    rng = np.random.default_rng(9)
    fa = QFormat(8, 0)
    a = rng.integers(-128, 128, (4, 1000))
    b = rng.integers(-128, 128, (1000, 3))
    r = matmul(a, fa, b, fa)
    assert r.fmt == accumulator_format(fa, fa, 1000) == QFormat(26, 0) and r.overflows == 0
    assert r.raw.tolist() == _py_matmul(a, b)
    d = dot(a, fa, b.T[:1], fa)
    assert d.raw.tolist() == [row[0] for row in _py_matmul(a, b)]
    with pytest.raises(ParameterError, match="frac_bits=0"):
        matmul(a, fa, b, fa, QFormat(16, 4))
    with pytest.raises(WidthLimitError):
        accumulator_format(QFormat(30, 0), QFormat(30, 0), 100)
