"""Cross-check requantize/quantize/mul against APyTypes, a second independent implementation.

APyTypes is optional (not a dependency); without it these tests skip with that reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.fixed import Overflow, QFormat, Rounding, matmul, mul, quantize, requantize

apy = pytest.importorskip("apytypes", reason="apytypes not installed (optional cross-check)")

MODES = {
    Rounding.FLOOR: "TO_NEG",
    Rounding.CEIL: "TO_POS",
    Rounding.TOWARD_ZERO: "TO_ZERO",
    Rounding.AWAY_FROM_ZERO: "TO_AWAY",
    Rounding.HALF_UP: "TIES_POS",
    Rounding.HALF_DOWN: "TIES_NEG",
    Rounding.HALF_TOWARD_ZERO: "TIES_ZERO",
    Rounding.HALF_AWAY: "TIES_AWAY",
    Rounding.HALF_EVEN: "TIES_EVEN",
    Rounding.HALF_ODD: "TIES_ODD",
}


def _to_apy(raw: np.ndarray, fmt: QFormat):
    # int64 input is read as two's complement (a uint64 array is not sign-extended by apytypes 0.5)
    return apy.APyFixedArray(raw.astype(np.int64), int_bits=fmt.int_bits, frac_bits=fmt.frac_bits)


def _from_apy(arr, fmt: QFormat) -> np.ndarray:
    bits = np.asarray(arr.to_bits(), dtype=np.int64)
    return np.where(bits >= 1 << (fmt.bits - 1), bits - (1 << fmt.bits), bits)


@pytest.mark.parametrize("rounding", list(MODES), ids=lambda r: r.name)
@pytest.mark.parametrize("overflow", [Overflow.WRAP, Overflow.SAT])
def test_requantize_matches_apytypes_cast(rounding, overflow):
    rng = np.random.default_rng(1)
    src, dst = QFormat(8, 20), QFormat(4, 6)
    raw = rng.integers(src.raw_min, src.raw_max + 1, 5000)
    base = rng.integers(-600, 600, 500) << 14
    raw = np.concatenate([raw, base + (1 << 13), base - (1 << 13), base + 1, [src.raw_min, src.raw_max]])
    raw = raw[(raw >= src.raw_min) & (raw <= src.raw_max)]
    theirs = _to_apy(raw, src).cast(
        dst.int_bits, dst.frac_bits, getattr(apy.QuantizationMode, MODES[rounding]), getattr(apy.OverflowMode, overflow.name)
    )
    assert np.array_equal(requantize(raw, src, dst, rounding, overflow), _from_apy(theirs, dst))


def test_quantize_matches_apytypes_from_float():
    rng = np.random.default_rng(2)
    fmt = QFormat(4, 12)
    x = np.concatenate([rng.uniform(-20, 20, 20000), (rng.integers(-9000, 9000, 2000) + 0.5) / 4096])
    theirs = apy.APyFixedArray.from_float(x, int_bits=4, frac_bits=12)  # RND_INF + WRAP
    assert np.array_equal(quantize(x, fmt, "RND_INF", "WRAP"), _from_apy(theirs, fmt))


def test_mul_matches_apytypes():
    rng = np.random.default_rng(3)
    fa, fb = QFormat(5, 11), QFormat(3, 9)
    a = rng.integers(fa.raw_min, fa.raw_max + 1, 3000)
    b = rng.integers(fb.raw_min, fb.raw_max + 1, 3000)
    raw, fmt = mul(a, fa, b, fb)
    theirs = _to_apy(a, fa) * _to_apy(b, fb)
    assert (theirs.int_bits, theirs.frac_bits) == (fmt.int_bits, fmt.frac_bits)
    assert np.array_equal(raw, _from_apy(theirs, fmt))


def test_wrapping_accumulator_matches_apytypes_accumulator_context():
    # (apytypes 0.5.1 does not saturate under OverflowMode.SAT in this context, so only WRAP is compared)
    rng = np.random.default_rng(4)
    fa, fb, acc = QFormat(8, 0), QFormat(6, 2), QFormat(13, 2)
    a = rng.integers(fa.raw_min, fa.raw_max + 1, (40, 70))
    b = rng.integers(fb.raw_min, fb.raw_max + 1, (70, 30))
    with apy.APyFixedAccumulatorContext(int_bits=acc.int_bits, frac_bits=acc.frac_bits, overflow=apy.OverflowMode.WRAP):
        theirs = _to_apy(a, fa) @ _to_apy(b, fb)
    result = matmul(a, fa, b, fb, acc, "wrap")
    assert result.overflows > 0 and np.array_equal(result.raw, _from_apy(theirs, acc))
