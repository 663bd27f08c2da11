# amaranth: UnusedElaboratable=no
"""Block-format element dequantizers: rtl == model in Amaranth and Icarus, and the model's
expected values checked against gguf, ml_dtypes and exact float64 products."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hdl.block_dequant import IntScaleDequantizer, MxDequantizer, Nf4Dequantizer
from inwhale_hw.hdlsim import Vectors, golden_vectors, describe, verify
from inwhale_hw.plugins.bnb.model import BnB
from inwhale_hw.plugins.gguf.model import GGUF
from inwhale_hw.plugins.mx.model import MX, MX_FORMATS

SIMULATORS = ("amaranth", "icarus", pytest.param("verilator", marks=pytest.mark.slow))  # ~20 s per Verilator build
ML = {"mxfp8_e4m3": "float8_e4m3fn", "mxfp8_e5m2": "float8_e5m2", "mxfp6_e2m3": "float6_e2m3fn",
      "mxfp6_e3m2": "float6_e3m2fn", "mxfp4_e2m1": "float4_e2m1fn"}


def _check(q, simulator, require_tool, **hw):
    if simulator != "amaranth":
        require_tool("iverilog" if simulator == "icarus" else "verilator")
    report = verify(q, "dequantizer", simulator=simulator, hw=hw)
    assert report.vectors_checked >= 4096 and report.mismatches == 0, report
    return report


def _bits_to_f32(v):
    return np.asarray(v, dtype=np.int64).astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("qtype", ["Q4_0", pytest.param("Q8_0", marks=pytest.mark.slow)])
def test_gguf_dequantizer(qtype, simulator, require_tool):
    _check(GGUF(type=qtype), simulator, require_tool)


def test_gguf_expected_values_equal_gguf_package():
    gq = pytest.importorskip("gguf.quants", reason="gguf (test extra) is the reference")
    from gguf.constants import GGMLQuantizationType as T

    for qtype in ("Q4_0", "Q8_0"):
        q = GGUF(type=qtype)
        vec = golden_vectors(q, "dequantizer", describe(IntScaleDequantizer(qtype.lower())), None)
        scale, code = vec.inputs["scale"], vec.inputs["code"]
        blocks = np.zeros((code.size, q.type_size), np.uint8)
        blocks[:, 0], blocks[:, 1] = scale & 0xFF, scale >> 8
        blocks[:, 2] = code if qtype == "Q8_0" else code | 0x80
        ref = gq.dequantize(blocks, T[qtype])[:, 0]
        assert np.array_equal(_bits_to_f32(vec.expected["value"]), ref)
        assert np.array_equal(np.signbit(_bits_to_f32(vec.expected["value"])), np.signbit(ref))


# 8-bit elements: 65536 vectors take ~12 s each in Amaranth's simulator, so those runs are slow
# (Verilator: one 4-bit and one 8-bit format, slow)
MX_RUNS = ([pytest.param(f, s, marks=pytest.mark.slow) if s == "amaranth" and MX_FORMATS[f][1] == 8 else (f, s)
            for f in MX_FORMATS for s in ("amaranth", "icarus")]
           + [pytest.param(f, "verilator", marks=pytest.mark.slow) for f in ("mxfp4_e2m1", "mxfp8_e4m3")])


@pytest.mark.parametrize(("fmt", "simulator"), MX_RUNS)
def test_mx_dequantizer_exhaustive(fmt, simulator, require_tool):
    _check(MX(format=fmt), simulator, require_tool)


@pytest.mark.parametrize("fmt", list(MX_FORMATS))
def test_mx_expected_values_equal_ml_dtypes(fmt):
    md = pytest.importorskip("ml_dtypes", reason="ml_dtypes (test extra) is the reference")
    q = MX(format=fmt)
    vec = golden_vectors(q, "dequantizer", describe(MxDequantizer(fmt)), None)
    code, scale = vec.inputs["code"], vec.inputs["scale"]
    assert code.size == (1 << MX_FORMATS[fmt][1]) * 256  # exhaustive
    if fmt == "mxint8":
        elem = code.astype(np.uint8).view(np.int8) / 64
    else:
        elem = code.astype(np.uint8).view(getattr(md, ML[fmt])).astype(np.float64)
    x = scale.astype(np.uint8).view(md.float8_e8m0fnu).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = (elem * x).astype(np.float32)  # exact in float64, one conversion
    got = _bits_to_f32(vec.expected["value"])
    assert np.array_equal(got, ref, equal_nan=True)
    assert np.array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(ref[~np.isnan(ref)]))
    assert np.all(vec.expected["value"][np.isnan(got)] == 0x7FC00000)


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("code", ["nf4", "fp4"])
def test_bnb_dequantizer(code, simulator, require_tool):
    q = BnB(code=code)
    _check(q, simulator, require_tool)
    vec = golden_vectors(q, "dequantizer", describe(Nf4Dequantizer(q.book.tolist())), None)
    absmax = _bits_to_f32(vec.inputs["absmax"]).astype(np.float64)
    exact = q.book[vec.inputs["code"]].astype(np.float64) * absmax  # 24 x 24 bits: exact in float64
    assert np.array_equal(_bits_to_f32(vec.expected["value"]), exact.astype(np.float32))


@pytest.mark.parametrize("depth", [2])
def test_pipelined_variants(depth, require_tool):
    _check(GGUF(type="Q4_0"), "icarus", require_tool, pipeline=depth)
    _check(MX(format="mxfp6_e3m2"), "icarus", require_tool, pipeline=depth)
    _check(BnB(), "icarus", require_tool, pipeline=depth)


def test_a_wrong_expected_value_is_caught():
    q = GGUF(type="Q4_0")
    vec = golden_vectors(q, "dequantizer", describe(IntScaleDequantizer("q4_0")), None)
    expected = dict(vec.expected)
    expected["value"] = expected["value"].copy()
    expected["value"][123] ^= 1
    report = verify(lambda: IntScaleDequantizer("q4_0"), vectors=Vectors(vec.inputs, expected))
    assert report.mismatches == 1 and report.first_mismatches[0].index == 123


def test_errors():
    with pytest.raises(UnsupportedError, match="Q4_K"):
        GGUF(type="Q4_K").datapath("dequantizer")
    with pytest.raises(UnsupportedError, match="ocp"):
        MX(flavor="gguf").datapath("dequantizer")
    with pytest.raises(ParameterError, match="'q5_0'"):
        IntScaleDequantizer("q5_0")
    with pytest.raises(ParameterError, match="'fp3'"):
        MxDequantizer("fp3")
