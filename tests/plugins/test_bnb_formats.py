"""``bnb`` NF4/FP4 + double quantization against bitsandbytes itself (when it is installed) and
against its source, value by value, plus exact rational checks.

Source checked: github.com/bitsandbytes-foundation/bitsandbytes at commit
95f9af309d4d5793847169c39288dcd3fcbdf564 -- ``bitsandbytes/functional.py`` (``get_4bit_type``
NF4 list and FP4 list ``[0, 0.0625, 8, 12, 4, 6, 2, 3]`` normalized by its max;
``create_dynamic_map``), ``bitsandbytes/backends/default/ops.py`` (``quantize_4bit``: bucketize
on midpoints, high nibble first) and ``csrc/cpu_ops.cpp`` (``build_quantize_lut``,
``quantize_cpu_impl``).  The live comparison runs ``bnb_reference.py`` with the Python named
by ``INWHALE_HW_BNB_PYTHON`` (or this one, if it imports bitsandbytes); bitsandbytes 0.50.2
with torch 2.13 CPU matched every byte when this was written, given its double-quant offset
(torch's float32 mean, which differs from the correctly rounded mean by an ulp now and then).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from inwhale_hw.errors import InputError
from inwhale_hw.plugins.bnb.codebooks import FP4, NF4, dynamic_map
from inwhale_hw.plugins.bnb.model import BnB, quantize_nested
from inwhale_hw.testing import check_quantizer

# bitsandbytes get_4bit_type("nf4"), functional.py at the commit above, as printed there
NF4_SOURCE = (-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
              -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
              0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
              0.7229568362236023, 1.0)


def _bnb_python() -> str | None:
    env = os.environ.get("INWHALE_HW_BNB_PYTHON")
    if env:
        return env
    return sys.executable if importlib.util.find_spec("bitsandbytes") and importlib.util.find_spec("torch") else None


@pytest.fixture(scope="module")
def bnb_ref(tmp_path_factory):
    python = _bnb_python()
    if python is None:
        pytest.skip("bitsandbytes + torch are not installed (optional; set INWHALE_HW_BNB_PYTHON to a Python that has them)")
    out = tmp_path_factory.mktemp("bnb") / "ref.npz"
    script = Path(__file__).with_name("bnb_reference.py")
    subprocess.run([python, str(script), str(out), "3"], check=True, capture_output=True, timeout=600)
    return dict(np.load(out))


def test_nf4_values_match_source():
    assert NF4.dtype == np.float32 and NF4.tolist() == [float(np.float32(v)) for v in NF4_SOURCE]
    assert np.all(np.diff(NF4) > 0) and NF4[7] == 0 and NF4[0] == -1 and NF4[15] == 1


def test_fp4_values_exact():
    """get_4bit_type("fp4"): [0, 0.0625, 8, 12, 4, 6, 2, 3] and negatives, divided by their max 12, in float32."""
    source = [0, Fraction(1, 16), 8, 12, 4, 6, 2, 3]
    for code in range(16):
        exact = (-1) ** (code >> 3) * source[code & 7] / 12
        assert FP4[code] == np.float32(float(exact)), code
        assert abs(Fraction(float(FP4[code])) - exact) <= abs(exact) / 2**24  # one float32 rounding
    assert np.signbit(FP4[8])  # -0 as in the source list


def test_dynamic_map_exact_rational():
    """Each value is a float32 within rounding of 10^(i-6) * (b_k + b_(k+1)) / 2, b = linspace(0.1, 1, 2^i + 1)."""
    m = dynamic_map()
    assert m.dtype == np.float32 and m.size == 256 and np.all(np.diff(m) >= 0)
    assert m[-1] == 1 and 0.0 in m
    expected = [Fraction(0), Fraction(1)]
    for i in range(7):
        n = 2**i
        for k in range(n):
            mid = Fraction(1, 10) + Fraction(9, 10) * Fraction(2 * k + 1, 2 * n)
            expected += [Fraction(10) ** (i - 6) * mid, -Fraction(10) ** (i - 6) * mid]
    expected.sort()
    for got, exact in zip(m.tolist(), expected):
        assert abs(Fraction(got) - exact) <= abs(exact) * Fraction(4, 2**24), (got, float(exact))


def test_nf4_rounding_and_packing_by_hand():
    q = BnB(double_quant=False)
    x = np.zeros(64, np.float32)
    x[0], x[1], x[2] = 2.0, 2.0 * (NF4[8] + NF4[9]) / 2, -2.0
    mid = np.float32((NF4[8] + NF4[9]) / np.float32(2))
    x[1] = 2.0 * mid  # exactly the midpoint after scaling by 1/2: the lower code wins
    codes = q.encode(x)
    assert codes[0] == 15 and codes[1] == 8 and codes[2] == 0 and codes[3] == 7
    assert q.pack_codes(codes)[:2] == bytes([0xF8, 0x07])  # first element in the HIGH nibble
    assert np.array_equal(q.unpack_codes(q.pack_codes(codes), 64), codes)
    assert BnB(double_quant=False).bits_per_weight == 4.5


def test_double_quant_bits_and_conformance():
    x = np.random.default_rng(0).standard_normal((256, 256))
    q = BnB().fit(x)
    assert abs(q.bits_per_weight - (4 + 8 / 64 + 32 / (64 * 256) + 32 / x.size)) < 1e-12
    assert round(q.bits_per_weight, 3) == 4.127
    for params in ({}, {"code": "fp4"}, {"double_quant": False, "block_size": 32}, {"nested_rounding": "nearest"}):
        check_quantizer(BnB, params)
    with pytest.raises(InputError, match="code 16"):
        q.decode(np.array([16]))


def test_nested_nearest_is_nearest():
    rng = np.random.default_rng(4)
    absmax = rng.uniform(0, 3, 1000).astype(np.float32)
    codes, absmax2 = quantize_nested(absmax, np.float32(absmax.mean()), "nearest")
    m = dynamic_map().astype(np.float64)
    v = (absmax - np.float32(absmax.mean())).astype(np.float32) * (np.float32(1) / np.repeat(absmax2, 256)[:1000])
    dist = np.abs(v.astype(np.float64)[:, None] - m[None, :])
    assert np.all(dist[np.arange(1000), codes] == dist.min(axis=1))


@pytest.mark.parametrize("code", ["nf4", "fp4"])
def test_equals_bitsandbytes(bnb_ref, code):
    x = bnb_ref["x"]
    assert np.array_equal(dynamic_map(), bnb_ref["dynamic"])
    assert np.array_equal(NF4 if code == "nf4" else FP4, bnb_ref[code + "_code"])
    plain = BnB(code=code, double_quant=False).fit(x)
    assert np.array_equal(plain.absmax, bnb_ref[code + "_absmax"])
    offset = bnb_ref[code + "_offset"]
    ours = BnB(code=code).fit(x).nested["offset"]
    assert abs(int(ours.view(np.int32)) - int(offset.view(np.int32))) <= 2  # torch's float32 mean vs the rounded exact mean
    q = BnB(code=code).fit(x, offset=offset)
    codes = q.encode(x)
    assert np.array_equal(np.frombuffer(q.pack_codes(codes), np.uint8), bnb_ref[code + "_q"])
    assert np.array_equal(q.nested["codes"], bnb_ref[code + "_absmax_q"])
    assert np.array_equal(q.nested["absmax2"], bnb_ref[code + "_absmax2"])
    assert np.array_equal(q.decode(codes), bnb_ref[code + "_deq"].reshape(-1))
    bw = bnb_ref["bw_x"]
    got, absmax2 = quantize_nested(bw, np.float32(0))
    assert np.array_equal(got, bnb_ref["bw_q"]) and np.array_equal(absmax2, bnb_ref["bw_absmax"])
