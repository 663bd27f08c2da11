"""The multiplier-free element (hdl/pow2_pe.py) against pow2_multiply / apot_multiply and the
accumulator model, and against exact rational arithmetic on the decoded weights."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from amaranth.hdl import Fragment

from inwhale_hw import get_quantizer
from inwhale_hw.plugins.accel_blocks.hardware import MacBlocks
from inwhale_hw.plugins.accel_blocks.golden import accumulator_trace, products
from inwhale_hw.plugins.accel_blocks.vectors import pe_vectors
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl.pow2_pe import BITS_RANGE, Pow2Element
from inwhale_hw.hdlsim import run_amaranth, run_icarus, verify
from inwhale_hw.nn.shiftadd import APOT_TERMS, apot_integer_levels

FORMATS = [("pow2", bits) for bits in range(BITS_RANGE["pow2"][0], BITS_RANGE["pow2"][1] + 1)] + \
          [("apot", bits) for bits in range(BITS_RANGE["apot"][0], BITS_RANGE["apot"][1] + 1)]


def python_product(x: int, code: int, weights: str, bits: int) -> int:
    """The integer product from the format's definition, in Python ints."""
    sign, field = code >> (bits - 1), code & ((1 << (bits - 1)) - 1)
    if weights == "pow2":
        p = x << (field - 1) if field else 0
    else:
        sets = APOT_TERMS[bits - 1]
        big = max(max(t) for t in sets)
        p, offset = 0, 0
        for exponents in sets:
            width = len(exponents).bit_length()
            select = (field >> offset) & ((1 << width) - 1)
            p += x << (big - exponents[select - 1]) if select else 0
            offset += width
    return -p if sign else p


@pytest.mark.parametrize("weights, bits", FORMATS)
def test_products_are_exact_multiples_of_the_weight_levels(weights, bits):
    """pow2: x * decode(code) == 2^e_min * P exactly; apot: P(x=1) == +-u * 2^K for the
    plugin's level u of the code (Fractions), and P is linear in x."""
    x = np.repeat(np.arange(-128, 128), 1 << bits)
    codes = np.tile(np.arange(1 << bits), 256)
    p = products(x, codes, weights, bits)
    assert [int(v) for v in p[::97]] == [python_product(int(a), int(c), weights, bits)
                                         for a, c in zip(x[::97], codes[::97])]
    per_code = p.reshape(256, 1 << bits)
    np.testing.assert_array_equal(per_code, np.arange(-128, 128)[:, None] * per_code[129])  # P(x) = x P(1)
    half = 1 << (bits - 1)
    if weights == "pow2":
        q = get_quantizer("pow2", bits=bits, fsr=3)
        q.fit(np.array([1.0]))
        unit = Fraction(2) ** q.min_exponent
        for c in range(1 << bits):
            assert Fraction(float(q.decode(np.array([c], dtype=np.uint8))[0])) * 5 == unit * python_product(5, c, weights, bits)
    else:
        u, fields = apot_integer_levels(bits)
        big = max(max(t) for t in APOT_TERMS[bits - 1])
        for level, field in zip(u.tolist(), fields.tolist()):
            assert Fraction(level) * 2 ** big == per_code[129, field]
            assert per_code[129, half + field] == -per_code[129, field]


@pytest.mark.parametrize("weights, bits", [("pow2", 4), ("apot", 4)])
def test_amaranth_every_operand_pair_plus_random(weights, bits):
    source = MacBlocks(weights=weights, bits=bits, acc_bits=16, overflow="sat")
    report = verify(source, "pe", count=5000, seed=2)
    assert report.ok, report
    assert report.vectors_checked > 256 * (1 << bits) + 5000


@pytest.mark.parametrize("weights, bits", FORMATS)
def test_icarus_every_format_and_width(weights, bits, require_tool):
    require_tool("iverilog")
    overflow = "sat" if bits % 2 else "wrap"
    source = MacBlocks(weights=weights, bits=bits, acc_bits=14 + bits, overflow=overflow)
    report = verify(source, "pe", simulator="icarus", hw={"pipeline": bits % 2}, count=2000, seed=bits)
    assert report.ok, report


def test_sweep_acc_is_the_exact_product_for_every_pair(require_tool):
    require_tool("iverilog")
    for weights, bits in (("pow2", 5), ("apot", 7)):
        v = pe_vectors(32, weights, bits, count=0)
        n = 256 << bits
        run = run_icarus(Pow2Element(weights, bits, 32, "wrap"), {k: x[:n] for k, x in v.items()})
        expected = [python_product(int(a), int(c), weights, bits) for a, c in zip(v["a"][:n], v["b"][:n])]
        assert run.outputs["acc"].tolist() == expected


def test_accumulated_shift_products_equal_python_ints():
    v = pe_vectors(12, "apot", 5, count=3000, sweep=False, seed=9)
    run = run_amaranth(Pow2Element("apot", 5, 12, "sat"), v)
    acc, state, lo, hi = [], 0, -2048, 2047
    for x, c, bias, clear, accumulate in zip(*(v[k].tolist() for k in ("a", "b", "bias", "clear", "accumulate"))):
        state = bias if clear else state
        if accumulate:
            state = min(max(state + python_product(x, c, "apot", 5), lo), hi)
        acc.append(state)
    assert run.outputs["acc"].tolist() == acc
    trace, _ = accumulator_trace(products(v["a"], v["b"], "apot", 5), v["clear"], v["accumulate"], v["bias"], 12, "sat")
    assert trace.tolist() == acc


@pytest.mark.parametrize("kwargs, quoted", [
    ({"weights": "int4"}, "weights='int4'"),
    ({"weights": "pow2", "bits": 7}, "bits=7"),
    ({"weights": "apot", "bits": 2}, "bits=2"),
    ({"acc_bits": 0}, "acc_bits=0"),
])
def test_bad_construction_quotes_the_value(kwargs, quoted):
    with pytest.raises(ParameterError, match=quoted):
        Pow2Element(**kwargs)


def test_weight_port_is_the_code():
    pe = Pow2Element("apot", 6, acc_bits=20)
    Fragment.get(pe, None)
    assert (len(pe.b), pe.b.shape().signed, len(pe.a), pe.a.shape().signed) == (6, False, 8, True)
    assert pe.latency == 1
