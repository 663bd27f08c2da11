"""Exact integer matmul / conv2d and the accumulator policies, against plain Python integers.

The reference accumulators below are written independently as scalar Python loops in the
documented order (bias first, k = 0..K-1; conv k = (c*kH + i)*kW + j).  Every test runs on both
running-sum paths: NumPy and the compiled kernels of :mod:`inwhale_hw.fixed.running`.
"""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import FixedPointOverflowError, InputError, ParameterError, WidthLimitError
from inwhale_hw.fixed import running
from inwhale_hw.nn import conv2d, matmul

needs_numba = pytest.mark.skipif(not running.ENABLED, reason="numba (optional extra) not installed or disabled")


@pytest.fixture(autouse=True, params=["numpy", pytest.param("compiled", marks=needs_numba)])
def running_path(request, monkeypatch):
    monkeypatch.setattr(running, "ENABLED", request.param == "compiled")
    return request.param


def _reference_dot(a_row, b_col, bias, bits, policy):
    """Scalar accumulator in Python ints: returns (value, overflowed, peak |S|)."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    exact = int(bias)
    state = int(bias)
    over = not lo <= exact <= hi
    peak = abs(exact)
    if policy == "sat":
        state = min(max(state, lo), hi)
    for x, y in zip(a_row, b_col):
        exact += int(x) * int(y)
        peak = max(peak, abs(exact))
        over |= not lo <= exact <= hi
        state = min(max(state + int(x) * int(y), lo), hi) if policy == "sat" else state + int(x) * int(y)
    if policy != "sat":
        state = ((state - lo) % (1 << bits)) + lo
    return state, over, peak


def _reference_matmul(a, b, bias, bits, policy):
    m, n = a.shape[0], b.shape[1]
    values = np.zeros((m, n), dtype=object)
    over = np.zeros((m, n), dtype=bool)
    peak = 0
    for i in range(m):
        for j in range(n):
            bij = 0 if bias is None else bias[i, j] if np.ndim(bias) == 2 else bias[j]
            values[i, j], over[i, j], p = _reference_dot(a[i], b[:, j], bij, bits, policy)
            peak = max(peak, p)
    return values, over, peak


@pytest.mark.parametrize("dtype,k", [(np.int8, 256), (np.uint8, 1000), (np.int16, 300), (np.int32, 40), (np.int64, 7)])
def test_matmul_is_exact(dtype, k):
    rng = np.random.default_rng(k)
    info = np.iinfo(dtype)
    lo, hi = max(int(info.min), -(1 << 28)), min(int(info.max), (1 << 28))
    a = rng.integers(lo, hi, (9, k), endpoint=True).astype(dtype)
    b = rng.integers(lo, hi, (k, 5), endpoint=True).astype(dtype)
    result = matmul(a, b, acc_bits=64)
    expected = [[sum(int(x) * int(y) for x, y in zip(a[i], b[:, j])) for j in range(5)] for i in range(9)]
    assert result.values.dtype == np.int64
    assert result.values.tolist() == expected
    assert result.stats.peak == max(abs(v) for row in expected for v in row)


def test_matmul_broadcasts_like_numpy():
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (3, 1, 4, 6)).astype(np.int8)
    b = rng.integers(-128, 128, (2, 6, 5)).astype(np.int8)
    assert np.array_equal(matmul(a, b).values, np.matmul(a.astype(np.int64), b.astype(np.int64)))
    v = rng.integers(-128, 128, 6).astype(np.int8)
    assert np.array_equal(matmul(v, b).values, np.matmul(v.astype(np.int64), b.astype(np.int64)))
    assert matmul(v, v).values.shape == ()
    assert int(matmul(v, v).values) == int(np.dot(v.astype(np.int64), v))


@pytest.mark.parametrize("policy", ["wrap", "sat"])
@pytest.mark.parametrize("bits", [12, 16, 18])
def test_accumulator_policies_match_scalar_reference(policy, bits):
    rng = np.random.default_rng(bits)
    a = rng.integers(-128, 128, (12, 40)).astype(np.int8)
    b = rng.integers(-128, 128, (40, 7)).astype(np.int8)
    bias = rng.integers(-3000, 3000, (12, 7))
    values, over, peak = _reference_matmul(a, b, bias, bits, policy)
    for track in (False, True):
        result = matmul(a, b, bias, acc_bits=bits, overflow=policy, track_partials=track)
        assert result.values.tolist() == values.tolist()
        assert result.stats.overflowed == int(over.sum())
        if track:
            assert result.stats.peak == peak and result.stats.peak_is_partial
    exact = a.astype(np.int64) @ b + bias
    lim = 1 << (bits - 1)
    assert result.stats.final_out_of_range == int(np.count_nonzero((exact < -lim) | (exact >= lim)))
    assert result.stats.bound == int(np.abs(bias).max()) + 40 * int(np.abs(a.astype(int)).max()) * int(np.abs(b.astype(int)).max())
    assert result.stats.bits_needed == int(peak).bit_length() + 1


def test_saturation_order_matters_and_is_bias_first():
    # 8-bit accumulator, bias 100 then +100 (clips at 127) then -100 -> 27; exact would be 100
    a = np.array([[1, 1]], dtype=np.int64)
    b = np.array([[100], [-100]], dtype=np.int64)
    result = matmul(a, b, np.array([100]), acc_bits=8, overflow="sat")
    assert result.values.tolist() == [[27]]
    assert result.stats.overflowed == 1 and result.stats.final_out_of_range == 0
    assert matmul(a, b, np.array([100]), acc_bits=8, overflow="wrap").values.tolist() == [[100]]


def test_error_policy_reports_count_and_first_index():
    a = np.array([[1, 1], [0, 0], [1, 1]], dtype=np.int64)
    b = np.array([[100], [-100]], dtype=np.int64)
    with pytest.raises(FixedPointOverflowError) as info:
        matmul(a, b, np.array([100]), acc_bits=8, overflow="error")
    assert info.value.count == 2 and info.value.first_index == 0
    assert "8-bit" in str(info.value)
    ok = matmul(a[1:2], b, np.array([100]), acc_bits=8, overflow="error")
    assert ok.values.tolist() == [[100]] and ok.stats.overflowed == 0


def test_bad_inputs_raise_typed_errors():
    with pytest.raises(InputError, match="integer"):
        matmul(np.ones((2, 2)), np.ones((2, 2), dtype=np.int8))
    with pytest.raises(InputError, match="inner"):
        matmul(np.ones((2, 3), np.int8), np.ones((2, 2), np.int8))
    with pytest.raises(ParameterError, match="overflow"):
        matmul(np.ones((2, 2), np.int8), np.ones((2, 2), np.int8), overflow="clip")
    with pytest.raises(ParameterError, match="acc_bits"):
        matmul(np.ones((2, 2), np.int8), np.ones((2, 2), np.int8), acc_bits=65)
    big = np.full((1, 4), 1 << 31, dtype=np.int64)
    with pytest.raises(WidthLimitError):
        matmul(big, big.T)


def _reference_conv(x, w, bias, stride, pads, dilation, groups, bits, policy):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    pt, pl, pb, pr = pads
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo), dtype=object)
    overflowed = 0
    facts = {"final_peak": 0, "partial_peak": 0, "final_out": 0, "x_max": 0, "first_over": None}
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    for b_ in range(n):
        for oc in range(o):
            g = oc // (o // groups)
            for y in range(ho):
                for z in range(wo):
                    xs, ws = [], []
                    for ci in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                r, s = y * sh + i * dh - pt, z * sw + j * dw - pl
                                inside = 0 <= r < h and 0 <= s < wd
                                xs.append(int(x[b_, g * cg + ci, r, s]) if inside else 0)
                                ws.append(int(w[oc, ci, i, j]))
                    b0 = 0 if bias is None else int(bias[oc])
                    out[b_, oc, y, z], over, peak = _reference_dot(xs, ws, b0, bits, policy)
                    overflowed += over
                    final = b0 + sum(p * q for p, q in zip(xs, ws))
                    facts["final_peak"] = max(facts["final_peak"], abs(final))
                    facts["partial_peak"] = max(facts["partial_peak"], peak)
                    facts["final_out"] += not lo <= final <= hi
                    facts["x_max"] = max(facts["x_max"], *(abs(v) for v in xs))
                    if over and facts["first_over"] is None:  # loops run in NCHW order
                        facts["first_over"] = ((b_ * o + oc) * ho + y) * wo + z
    return out, overflowed, facts


@pytest.mark.parametrize(
    "x_shape,w_shape,stride,pads,dilation,groups",
    [
        ((1, 3, 7, 8), (4, 3, 3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1),
        ((2, 4, 9, 7), (6, 2, 3, 2), (2, 1), (1, 0, 2, 1), (1, 2), 2),
        ((1, 6, 8, 8), (6, 1, 3, 3), (1, 2), (1, 1, 1, 1), (2, 1), 6),
    ],
)
@pytest.mark.parametrize("policy,bits", [("wrap", 32), ("sat", 14), ("wrap", 13)])
def test_conv2d_matches_scalar_reference(x_shape, w_shape, stride, pads, dilation, groups, policy, bits):
    rng = np.random.default_rng(sum(x_shape) + bits)
    x = rng.integers(-128, 128, x_shape).astype(np.int8)
    w = rng.integers(-128, 128, w_shape).astype(np.int8)
    bias = rng.integers(-2000, 2000, w_shape[0]).astype(np.int32)
    expected, overflowed, facts = _reference_conv(x, w, bias, stride, pads, dilation, groups, bits, policy)
    result = conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation, groups=groups,
                    acc_bits=bits, overflow=policy)
    assert result.values.shape == expected.shape
    assert result.values.tolist() == expected.tolist()
    stats = result.stats
    assert stats.overflowed == overflowed
    assert (stats.outputs, stats.k) == (expected.size, w_shape[1] * w_shape[2] * w_shape[3])
    assert (stats.peak, stats.final_out_of_range) == (facts["final_peak"], facts["final_out"])
    w_max = int(np.abs(w.astype(np.int64)).max())
    assert stats.bound == int(np.abs(bias.astype(np.int64)).max()) + stats.k * facts["x_max"] * w_max
    tracked = conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation, groups=groups,
                     acc_bits=bits, overflow=policy, track_partials=True).stats
    assert tracked.peak == facts["partial_peak"] and tracked.overflowed == overflowed
    if bits < 16:
        assert overflowed > 0
        with pytest.raises(FixedPointOverflowError) as info:
            conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation, groups=groups,
                   acc_bits=bits, overflow="error")
        assert (info.value.count, info.value.first_index) == (overflowed, facts["first_over"])


def test_conv2d_error_index_is_nchw():
    x = np.zeros((2, 1, 3, 3), dtype=np.int64)
    x[1, 0, 2, 2] = 1000
    w = np.ones((2, 1, 1, 1), dtype=np.int64)
    with pytest.raises(FixedPointOverflowError) as info:
        conv2d(x, w, acc_bits=8, overflow="error")
    assert info.value.count == 2
    assert info.value.first_index == int(np.ravel_multi_index((1, 0, 2, 2), (2, 2, 3, 3)))


def test_conv2d_error_index_is_the_first_in_nchw_order():
    """Overflow at channel 0 / pixel 5 and at channel 1 / pixel 2: NCHW order puts channel 0's
    first (index 5), although pixel 2 comes first in the pixels-as-rows product."""
    x = np.zeros((1, 2, 3, 3), dtype=np.int64)
    x[0, 0, 1, 2] = 1000
    x[0, 1, 0, 2] = 1000
    w = np.array([[1, 0], [0, 1]], dtype=np.int64).reshape(2, 2, 1, 1)
    with pytest.raises(FixedPointOverflowError) as info:
        conv2d(x, w, acc_bits=8, overflow="error")
    assert (info.value.count, info.value.first_index) == (2, 5)
    assert "NCHW" in str(info.value)


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_im2col_matches_the_definition(dtype):
    """cols[g, n, h, w, (c*kH + i)*kW + j] = x[n, g*C_g + c, h*sh + i*dh - pt, w*sw + j*dw - pl]."""
    from inwhale_hw.nn.conv import im2col

    rng = np.random.default_rng(3)
    x = rng.integers(-300, 300, (2, 4, 7, 6)).astype(dtype)
    (sh, sw), (dh, dw), (pt, pl, pb, pr), groups, (kh, kw) = (2, 1), (1, 2), (1, 0, 2, 1), 2, (3, 2)
    cols = im2col(x, (kh, kw), stride=(sh, sw), padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=groups)
    ho, wo = (7 + pt + pb - dh * (kh - 1) - 1) // sh + 1, (6 + pl + pr - dw * (kw - 1) - 1) // sw + 1
    assert cols.shape == (groups, 2, ho, wo, 2 * kh * kw) and cols.dtype == dtype and cols.flags.c_contiguous
    for g, n, y, z, c, i, j in np.ndindex(groups, 2, ho, wo, 2, kh, kw):
        r, s = y * sh + i * dh - pt, z * sw + j * dw - pl
        want = x[n, g * 2 + c, r, s] if 0 <= r < 7 and 0 <= s < 6 else 0
        assert cols[g, n, y, z, (c * kh + i) * kw + j] == want
    with pytest.raises(InputError, match="divisible"):
        im2col(x, (3, 3), groups=3)


def test_conv2d_rejects_bad_geometry():
    x = np.zeros((1, 4, 5, 5), np.int8)
    with pytest.raises(InputError, match="channels"):
        conv2d(x, np.zeros((4, 3, 3, 3), np.int8))
    with pytest.raises(InputError, match="output would be"):
        conv2d(x, np.zeros((4, 4, 7, 7), np.int8))
    with pytest.raises(ParameterError, match="stride"):
        conv2d(x, np.zeros((4, 4, 3, 3), np.int8), stride=0)


@pytest.mark.parametrize("policy", ["wrap", "sat", "error"])
@pytest.mark.parametrize("shape", [((70, 30), (30, 3)), ((2, 40, 25), (25, 20)), ((3, 1, 5, 9), (2, 9, 4))])
def test_narrow_wide_and_batched_products_match_scalar_reference(policy, shape):
    # (70, 30) @ (30, 3): fewer than 16 columns, the compiled path runs the transposed product;
    # batched shapes broadcast; bits chosen so that some outputs overflow and some do not
    rng = np.random.default_rng(len(shape[0]))
    a = rng.integers(-128, 128, shape[0]).astype(np.int8)
    b = rng.integers(-128, 128, shape[1]).astype(np.int16)
    bits = 16
    a_full = np.broadcast_to(a, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + a.shape[-2:])
    b_full = np.broadcast_to(b, a_full.shape[:-2] + b.shape[-2:])
    values, overs, peak = [], [], 0
    for a2, b2 in zip(a_full.reshape(-1, *a.shape[-2:]), b_full.reshape(-1, *b.shape[-2:])):
        v, o, p = _reference_matmul(a2, b2, None, bits, "sat" if policy == "sat" else "wrap")
        values.append(v)
        overs.append(o)
        peak = max(peak, p)
    over = np.array(overs)
    assert 0 < over.sum() < over.size
    if policy == "error":
        with pytest.raises(FixedPointOverflowError) as info:
            matmul(a, b, acc_bits=bits, overflow=policy)
        assert info.value.count == int(over.sum()) and info.value.first_index == int(np.flatnonzero(over)[0])
        return
    for track in (False, True):
        result = matmul(a, b, acc_bits=bits, overflow=policy, track_partials=track)
        assert result.values.reshape(over.shape).tolist() == np.array(values).tolist()
        assert result.stats.overflowed == int(over.sum())
        if track:
            assert result.stats.peak == peak


def test_rows_sampled_as_risky_give_the_same_result_as_the_full_bound():
    # 64+ rows: the compiled path samples rows before computing the per-output bound; rows of
    # zeros are provably safe, the others are not, so the sample decides both ways
    rng = np.random.default_rng(3)
    for zero_rows in (slice(0, 0), slice(0, 80, 2)):
        a = rng.integers(-128, 128, (80, 50)).astype(np.int8)
        a[zero_rows] = 0
        b = rng.integers(-128, 128, (50, 20)).astype(np.int8)
        bias = rng.integers(-100, 100, 20)
        values, over, _ = _reference_matmul(a, b, bias, 17, "sat")
        result = matmul(a, b, bias, acc_bits=17, overflow="sat")
        assert result.values.tolist() == values.tolist()
        assert result.stats.overflowed == int(over.sum()) > 0
