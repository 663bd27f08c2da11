"""``pow2``, ``inq``, ``apot`` and the shift / shift-add multiplies, against scalar references.

The level sets are rebuilt here from the papers' formulas in plain Python (no NumPy), the
encoder is checked against a brute-force nearest-level search in exact rationals, and the
multiplies against exact integer / Fraction products.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError, WidthLimitError
from inwhale_hw.nn.shiftadd import apot_multiply, pow2_multiply
from inwhale_hw.plugins.tensor.pow2 import INQ, APoT, Pow2
from inwhale_hw.testing import check_quantizer

# -- conformance ---------------------------------------------------------------------------

CONFORM = [(Pow2, {})] + [(Pow2, {"bits": b, "domain": d}) for b in (2, 5, 8) for d in ("linear", "log")] + [
    (Pow2, {"observer": "mse"}),
    (Pow2, {"fsr": -1}),
    (INQ, {}),
    (INQ, {"bits": 2}),
    (INQ, {"bits": 8}),
    *[(APoT, {"bits": b}) for b in range(3, 8)],
    (APoT, {"observer": "max"}),
    (APoT, {"alpha": 0.5}),
]


@pytest.mark.parametrize("cls, params", CONFORM, ids=[f"{c.name}-{p}" for c, p in CONFORM])
def test_conforms(cls, params):
    assert "bad input errors" in check_quantizer(cls, params).checks


# -- independent level sets -----------------------------------------------------------------

def pow2_levels_ref(bits: int, e_max: int) -> list[Fraction]:
    """{0} and ±2**e for the 2**(bits-1) - 1 exponents up to e_max (Miyashita et al.)."""
    m = 2 ** (bits - 1) - 1
    mags = [Fraction(2) ** e for e in range(e_max - m + 1, e_max + 1)]
    return sorted({Fraction(0)} | set(mags) | {-v for v in mags})


def inq_levels_ref(bits: int, max_abs: float) -> list[Fraction]:
    """INQ eq. (4): n1 = floor(log2(4 s / 3)), n2 = n1 + 1 - 2**(b-1)/2, P = {±2**n2..±2**n1, 0}."""
    n1 = math.floor(math.log2(4 * max_abs / 3))
    n2 = n1 + 1 - 2 ** (bits - 1) // 2
    mags = [Fraction(2) ** n for n in range(n2, n1 + 1)]
    return sorted({Fraction(0)} | set(mags) | {-v for v in mags})


def apot_levels_ref(bits: int) -> list[Fraction]:
    """The authors' build_power_value(B = bits - 1), rewritten: sums of one term per base set."""
    b = bits - 1
    if b == 2:
        bases = [[Fraction(1, 2 ** (i + 1)) for i in range(3)]]
    elif b == 3:
        bases = [[Fraction(1, 2), Fraction(1, 4), Fraction(1, 16)], [Fraction(1, 8)]]
    elif b == 4:
        bases = [[Fraction(1, 2 ** (2 * i + 1)) for i in range(3)], [Fraction(1, 2 ** (2 * i + 2)) for i in range(3)]]
    elif b == 5:
        bases = [[Fraction(1, 2), Fraction(1, 8), Fraction(1, 64)], [Fraction(1, 4), Fraction(1, 16), Fraction(1, 128)],
                 [Fraction(1, 32)]]
    else:
        bases = [[Fraction(1, 2 ** (3 * i + j)) for i in range(3)] for j in (1, 2, 3)]
    sums = {sum(c) for c in itertools.product(*[[Fraction(0)] + base for base in bases])}
    top = max(sums)
    return sorted({v / top for v in sums} | {-v / top for v in sums})


def test_pow2_level_set():
    for bits in range(2, 9):
        q = Pow2(bits=bits, fsr=3).fit(np.ones(3))
        assert [Fraction(v) for v in q.levels()] == pow2_levels_ref(bits, 3)
        assert q.max_exponent == 3 and q.min_exponent == 3 - (2 ** (bits - 1) - 1) + 1


@pytest.mark.parametrize("max_abs", [1.0, 0.7499999, 0.75, 1.4999, 1.5, 3.3e-3, 97.0])
def test_inq_level_set_and_n1_rule(max_abs):
    x = np.array([max_abs, -0.3 * max_abs, 0.0])
    for bits in (3, 4, 5):
        q = INQ(bits=bits).fit(x)
        assert [Fraction(v) for v in q.levels()] == inq_levels_ref(bits, max_abs)


def test_apot_level_sets():
    for bits in range(3, 8):
        q = APoT(bits=bits, alpha=1.0).fit(np.ones(2))
        ref = apot_levels_ref(bits)
        assert len(ref) == 2 ** bits - 1
        got = q.levels()
        assert np.allclose(got, [float(v) for v in ref], rtol=1e-15, atol=0)
    four = APoT(bits=4, alpha=1.0).fit(np.ones(2)).levels()
    assert np.allclose(four[7:], [0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0], rtol=1e-15, atol=1e-17)


# -- encoder: nearest level, ties up, exact thresholds -------------------------------------

def nearest_ref(x: float, levels: list[Fraction]) -> Fraction:
    """Nearest level to x exactly; a tie goes to the larger magnitude."""
    fx = Fraction(x)
    return min(levels, key=lambda v: (abs(fx - v), -abs(v)))


def log_ref(x: float, bits: int, e_max: int) -> Fraction:
    """LogQuant: sign(x) 2**round(log2|x|), exponents clipped to [e_min, e_max], below e_min -> 0.

    round(log2|x|) = k exactly when 2**(2k-1) <= x**2 < 2**(2k+1) (no float sits on a bound)."""
    fx = abs(Fraction(x))
    if fx == 0:
        return Fraction(0)
    e_min = e_max - (2 ** (bits - 1) - 1) + 1
    k = math.floor(math.log2(fx))
    for cand in (k - 1, k, k + 1):
        if Fraction(2) ** (2 * cand - 1) <= fx * fx < Fraction(2) ** (2 * cand + 1):
            k = cand
            break
    if k < e_min:
        return Fraction(0)
    mag = Fraction(2) ** min(k, e_max)
    return mag if x > 0 else -mag


def _probe_values(levels: list[Fraction], rng) -> np.ndarray:
    pts = sorted(set(abs(v) for v in levels))
    mids = [float((a + b) / 2) for a, b in zip(pts, pts[1:])]
    geo = [math.sqrt(2) * float(a) for a in pts[1:]] + [float(pts[1]) / math.sqrt(2)]
    base = np.array(mids + geo + [float(p) for p in pts] + [2 * float(pts[-1])])
    near = np.concatenate([base, np.nextafter(base, np.inf), np.nextafter(base, -np.inf)])
    spread = rng.uniform(-1.3, 1.3, 400) * float(pts[-1]) * 2.0 ** -rng.integers(0, 8, 400)
    return np.concatenate([near, -near, spread])


@pytest.mark.parametrize("bits", [2, 3, 4, 6])
def test_pow2_linear_encoder_is_nearest_level(bits):
    rng = np.random.default_rng(bits)
    q = Pow2(bits=bits, fsr=1).fit(np.ones(1))
    levels = pow2_levels_ref(bits, 1)
    x = _probe_values(levels, rng)
    assert [Fraction(v) for v in q.decode(q.encode(x))] == [nearest_ref(v, levels) for v in x]


@pytest.mark.parametrize("bits", [2, 3, 4, 6])
def test_pow2_log_encoder_is_logquant(bits):
    rng = np.random.default_rng(10 + bits)
    q = Pow2(bits=bits, domain="log", fsr=0).fit(np.ones(1))
    x = _probe_values(pow2_levels_ref(bits, 0), rng)
    assert [Fraction(v) for v in q.decode(q.encode(x))] == [log_ref(v, bits, 0) for v in x]


def test_apot_encoder_is_nearest_level():
    rng = np.random.default_rng(3)
    q = APoT(bits=4, alpha=1.25).fit(np.ones(1))  # gamma = 1.25 / 0.625 = 2: levels and midpoints exact
    levels = [Fraction(5, 4) * v for v in apot_levels_ref(4)]
    x = _probe_values(levels, rng)
    assert [Fraction(v) for v in q.decode(q.encode(x))] == [nearest_ref(v, levels) for v in x]


def test_observers():
    x = np.array([0.1, -2.9, 1.0])
    assert Pow2().fit(x).max_exponent == 1  # 2.9 < 3 = 1.5 * 2: rounds to 2 in the linear domain
    assert Pow2(domain="log").fit(x).max_exponent == 2  # log2 2.9 = 1.54 -> 2
    assert APoT(observer="max").fit(x).scale == 2.9
    rng = np.random.default_rng(0)
    w = rng.normal(0, 1, 20000)
    err = {}
    for e in range(-4, 5):
        q = Pow2(fsr=e).fit(w)
        err[e] = float(np.sum((q.decode(q.encode(w)) - w) ** 2))
    assert Pow2(observer="mse").fit(w).max_exponent == min(err, key=err.get)


def test_apot_mse_alpha_beats_every_grid_ratio():
    rng = np.random.default_rng(1)
    w = rng.normal(0, 1, 20000)
    best = APoT(bits=4).fit(w)
    best_err = float(np.sum((best.decode(best.encode(w)) - w) ** 2))
    amax = float(np.max(np.abs(w)))
    for k in range(1, 101):
        q = APoT(bits=4, alpha=amax * k / 100).fit(w)
        assert best_err <= float(np.sum((q.decode(q.encode(w)) - w) ** 2)) * (1 + 1e-12)


# -- code layout -------------------------------------------------------------------------------

def test_code_layout():
    q = Pow2(bits=4, fsr=0).fit(np.ones(1))
    assert q.decode(np.array([0b0111, 0b0001, 0b1111, 0b1001, 0b0000, 0b1000])).tolist() == [1, 2**-6, -1, -(2**-6), 0, 0]
    assert q.encode(np.array([1.0, -0.25, 0.0, -0.0])).tolist() == [0b0111, 0b1101, 0, 0]
    a = APoT(bits=4, alpha=1.0).fit(np.ones(1))
    # field = term0 selector (2 bits: 2^-1, 2^-2, 2^-4) | term1 selector (bit 2: 2^-3) << 2
    assert np.allclose(a.decode(np.array([0b0001, 0b0101, 0b0011, 0b0100, 0b1010])), [0.8, 1.0, 0.1, 0.2, -0.4])
    i = INQ(bits=4).fit(np.array([1.0]))
    assert i.decode(np.array([0b0100, 0b0001])).tolist() == [1.0, 0.125]
    with pytest.raises(InputError, match="code 5"):
        i.decode(np.array([5]))  # INQ 4-bit has 4 exponents: fields 5..7 are unused


def test_errors():
    with pytest.raises(ParameterError):
        Pow2(bits=9)
    with pytest.raises(ParameterError, match="alpha=-1.0"):
        APoT(alpha=-1.0)
    with pytest.raises(InputError, match="no scale yet"):
        APoT().decode(np.zeros(2, dtype=np.uint8))
    with pytest.raises(InputError, match="code 16"):
        Pow2().fit(np.ones(2)).decode(np.array([16]))
    with pytest.raises(InputError, match="not finite"):
        Pow2().encode(np.array([np.nan]))


def test_packing_round_trip():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (5, 7))
    for q in (Pow2(bits=3), APoT(bits=5), INQ(bits=5)):
        codes = q.encode(x).reshape(-1)
        data = q.pack_codes(codes)
        assert len(data) == math.ceil(35 * q.bits / 8)
        assert np.array_equal(q.unpack_codes(data, 35), codes)


# -- shift and shift-add multiplication --------------------------------------------------------

@pytest.mark.parametrize("cls, bits", [(Pow2, 4), (Pow2, 5), (INQ, 5), (Pow2, 2)])
def test_pow2_multiply_is_exact(cls, bits):
    rng = np.random.default_rng(bits)
    q = cls(bits=bits).fit(rng.normal(0, 0.3, 100))
    valid = [c for c in range(2**bits) if not np.isnan(q._table[c])]
    codes = np.array(valid * 40)
    x = rng.integers(-(2**15), 2**15, codes.size)
    x[:4] = [-(2**15), 2**15 - 1, 0, 1]
    p = pow2_multiply(x, codes, bits=bits)
    values = q.decode(codes)
    scale = Fraction(2) ** q.min_exponent
    assert all(Fraction(int(pi)) * scale == int(xi) * Fraction(float(v)) for pi, xi, v in zip(p, x, values))


def apot_integer_level(code: int, bits: int) -> int:
    """u * 2**K for one APoT code, from the documented selector layout (scalar, no NumPy)."""
    terms = {3: [[1, 2, 3]], 4: [[1, 2, 4], [3]], 5: [[1, 3, 5], [2, 4, 6]], 6: [[1, 3, 6], [2, 4, 7], [5]],
             7: [[1, 4, 7], [2, 5, 8], [3, 6, 9]]}[bits]
    big = max(max(t) for t in terms)
    field, total, shift = code & (2 ** (bits - 1) - 1), 0, 0
    for term in terms:
        width = len(term).bit_length()
        sel = (field >> shift) % 2**width
        if sel:
            total += 2 ** (big - term[sel - 1])
        shift += width
    return -total if code >> (bits - 1) else total


@pytest.mark.parametrize("bits", range(3, 8))
def test_apot_multiply_is_exact_shift_add(bits):
    rng = np.random.default_rng(bits)
    q = APoT(bits=bits).fit(rng.normal(0, 1, 500))
    codes = np.tile(np.arange(2**bits), 20)
    x = rng.integers(-(2**15), 2**15, codes.size)
    p = apot_multiply(x, codes, bits=bits)
    assert [int(v) for v in p] == [int(xi) * apot_integer_level(int(c), bits) for xi, c in zip(x, codes)]
    big = max(max(t) for t in {3: [[3]], 4: [[4]], 5: [[6]], 6: [[7]], 7: [[9]]}[bits])
    values = q.decode(codes)
    expect = np.array([q.gamma * apot_integer_level(int(c), bits) / 2**big for c in codes])
    assert np.allclose(values, expect, rtol=4e-16, atol=0)


def test_multiply_errors():
    with pytest.raises(WidthLimitError, match="does not fit int64"):
        pow2_multiply(np.array([2**40]), np.array([0b01111111]), bits=8)
    with pytest.raises(InputError, match="codes must lie"):
        apot_multiply(np.array([1]), np.array([16]), bits=4)
    with pytest.raises(InputError, match="integer arrays"):
        pow2_multiply(np.array([1.5]), np.array([1]))
    with pytest.raises(ParameterError, match="bits=9"):
        apot_multiply(np.array([1]), np.array([1]), bits=9)
