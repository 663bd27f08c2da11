"""OCP MX blocks equal the spec's formula applied with ``ml_dtypes`` casts; the gguf flavor equals gguf."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.plugins.mx.model import MX, MX_FORMATS
from inwhale_hw.testing import check_quantizer

md = pytest.importorskip("ml_dtypes", reason="ml_dtypes (test extra) is the reference")

ELEM = {"mxfp8_e4m3": "float8_e4m3fn", "mxfp8_e5m2": "float8_e5m2", "mxfp6_e2m3": "float6_e2m3fn",
        "mxfp6_e3m2": "float6_e3m2fn", "mxfp4_e2m1": "float4_e2m1fn"}
EMAX = {"mxint8": 0, "mxfp8_e4m3": 8, "mxfp8_e5m2": 15, "mxfp6_e2m3": 2, "mxfp6_e3m2": 4, "mxfp4_e2m1": 2}


def _max_elem(fmt):
    return 127 / 64 if fmt == "mxint8" else float(md.finfo(getattr(md, ELEM[fmt])).max)


def _ref_exponent(block, fmt, rule):
    amax = max(abs(float(v)) for v in block)
    if amax == 0:
        return -127
    if rule == "floor":
        x = math.frexp(amax)[1] - 1 - EMAX[fmt]  # floor(log2 amax), exact
    else:
        r, x = Fraction(amax) / Fraction(_max_elem(fmt)), -300
        while Fraction(2) ** x < r:  # smallest x with amax / max_elem <= 2**x
            x += 1
    return min(max(x, -127), 127)


def _ref_block(block, fmt, rule):
    """(E8M0 byte, element codes) by the spec formula: ml_dtypes casts of the clamped V / X."""
    x = _ref_exponent(block, fmt, rule)
    scaled = np.array([float(Fraction(float(v)) / Fraction(2) ** x) for v in block])
    top = _max_elem(fmt)
    scaled = np.clip(scaled, -top, top)
    if fmt == "mxint8":
        codes = [round(v * 64) & 0xFF for v in scaled]  # Python round: nearest, ties to even
    else:
        codes = scaled.astype(getattr(md, ELEM[fmt])).view(np.uint8).tolist()
    return x + 127, codes


def _unpack(data, bits):
    """Element codes from one block's element bytes, read as a little-endian integer (independent of the model)."""
    stream = int.from_bytes(bytes(data), "little")
    return [(stream >> (bits * i)) & ((1 << bits) - 1) for i in range(32)]


def _blocks(rng, n):
    normal = rng.standard_normal((n, 32)) * 10.0 ** rng.integers(-6, 6, (n, 1))
    zeros = np.zeros((4, 32))
    sub = rng.standard_normal((4, 32)) * 1e-41  # float32 subnormals only
    ties = rng.integers(-12, 13, (n, 32)) * 0.25 * 2.0 ** rng.integers(-3, 4, (n, 1))  # halfway values
    pm = rng.standard_normal((8, 32))
    pm[:, 0], pm[:, 1] = np.finfo(np.float32).max, -np.finfo(np.float32).max
    return np.concatenate([normal, zeros, sub, ties, pm]).astype(np.float32)


@pytest.mark.parametrize("rule", ["floor", "rceil"])
@pytest.mark.parametrize("fmt", list(MX_FORMATS))
def test_blocks_equal_spec_formula(fmt, rule):
    rng = np.random.default_rng(len(fmt) + (rule == "rceil"))
    x = _blocks(rng, 60)
    q = MX(format=fmt, scale_rule=rule)
    data = q.encode(x.reshape(-1))
    bits = MX_FORMATS[fmt][1]
    assert data.size == x.shape[0] * (1 + 4 * bits)
    for i, block in enumerate(data.reshape(x.shape[0], -1)):
        e, codes = _ref_block(x[i], fmt, rule)
        assert int(block[0]) == e and _unpack(block[1:], bits) == codes, f"block {i}: {x[i][:4]}"
    scale = data.reshape(x.shape[0], -1)[:, :1].view(md.float8_e8m0fnu).astype(np.float64)
    elems = np.array([_unpack(b[1:], bits) for b in data.reshape(x.shape[0], -1)], dtype=np.uint8)
    vals = elems.view(np.int8) / 64 if fmt == "mxint8" else elems.view(getattr(md, ELEM[fmt])).astype(np.float64)
    with np.errstate(over="ignore"):  # 2**127 * 448 overflows float32 to inf, as decode does
        ref = (scale * vals).astype(np.float32)
    assert np.array_equal(q.decode(data).reshape(x.shape), ref)


def test_nonfinite_blocks_per_spec():
    x = np.ones((3, 32), np.float32)
    x[0, 5], x[1, 7] = np.nan, -np.inf
    with pytest.raises(InputError, match="not finite"):
        MX().encode(x)
    for fmt in MX_FORMATS:
        q = MX(format=fmt, nonfinite="nan-block")
        data = q.encode(x).reshape(3, -1)
        assert data[0, 0] == data[1, 0] == 0xFF and data[2, 0] == 127 - EMAX[fmt]
        assert not data[:2, 1:].any()
        out = q.decode(data)
        assert np.isnan(out[:2]).all() and np.array_equal(out[2], np.ones(32, np.float32))


def test_gguf_flavor_equals_gguf_and_ties_differ():
    gq = pytest.importorskip("gguf.quants", reason="gguf (test extra) is the reference")
    from gguf.constants import GGMLQuantizationType as T

    x = np.concatenate([_blocks(np.random.default_rng(5), 200), np.random.default_rng(6).standard_t(3, (50, 32))])
    x = x.astype(np.float32).reshape(-1, 64)
    g = MX(flavor="gguf")
    with np.errstate(over="ignore"):  # gguf's own |h*k - x| overflows near float32's max
        ref = gq.quantize(x, T.MXFP4)
    assert np.array_equal(g.encode(x), ref)
    assert np.array_equal(g.decode(g.encode(x)), gq.dequantize(ref, T.MXFP4))
    tie = np.zeros(32, np.float32)
    tie[0], tie[1] = 6.0, 1.75  # X = 1: 1.75 lies halfway between 1.5 and 2
    assert g.decode(g.encode(tie))[1] == 1.5 and MX().decode(MX().encode(tie))[1] == 2.0


def test_bits_per_weight_and_conformance():
    assert MX().bits_per_weight == 4.25 and MX(format="mxfp6_e2m3").bits_per_weight == 6.25
    assert MX(format="mxint8").bits_per_weight == 8.25
    sig = np.random.default_rng(0).standard_normal((10, 64))
    for fmt in MX_FORMATS:
        check_quantizer(MX, {"format": fmt, "scale_rule": "rceil"}, signal=sig)
    check_quantizer(MX, {"flavor": "gguf"}, signal=sig)
    with pytest.raises(ParameterError, match="mxfp8_e4m3"):
        MX(format="mxfp8_e4m3", flavor="gguf")
