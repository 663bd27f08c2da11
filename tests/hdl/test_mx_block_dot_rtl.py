# amaranth: UnusedElaboratable=no
"""MXFP4 block-dot PE: rtl == exact model in Amaranth, Icarus and Verilator; the model against
ml_dtypes' float4_e2m1fn values and the MX quantizer's own blocks in float64."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hdl.block_dot import MXFP4BlockDotPE, acc_bits
from inwhale_hw.hdlsim import verify
from inwhale_hw.plugins.mx.block_dot import E2M1_TWICE, block_dot
from inwhale_hw.plugins.mx.model import MX


@pytest.mark.parametrize("simulator", ["amaranth", "icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_mxfp4_block_dot_matches_model(simulator, require_tool):
    if simulator != "amaranth":
        require_tool("iverilog" if simulator == "icarus" else "verilator")
    report = verify(MX(), "block_dot", simulator=simulator, count=96, seed=2)
    assert report.vectors_checked == 96 and report.mismatches == 0, report
    assert report.coverage["rail_sums"] >= 3 and report.coverage["nan_scale"] >= 2
    assert report.coverage["extreme_exponent"] >= 2


def test_stalls_do_not_change_the_output():
    report = verify(MX(), "block_dot", simulator="amaranth", count=24, seed=5, stalls=True)
    assert report.mismatches == 0 and report.vectors_checked == 24


def test_model_against_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="needs ml_dtypes (test extra)")
    values = np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn).astype(np.float64)
    assert np.array_equal(E2M1_TWICE, 2 * values)
    rng = np.random.default_rng(1)
    codes, a = rng.integers(0, 16, (500, 32)), rng.integers(-128, 128, (500, 32))
    xw, xa = rng.integers(0, 255, 500), rng.integers(0, 255, 500)
    sumi, exponent, nan = block_dot(codes, a, xw, xa)
    w = values[codes] * np.ldexp(1.0, xw - 127)[:, None]
    flt = np.einsum("ij,ij->i", w, a * np.ldexp(1.0, xa - 127)[:, None])  # exact: at most 2**19 per block sum
    assert np.array_equal(np.ldexp(sumi.astype(np.float64), exponent), flt) and not nan.any()


def test_pe_on_the_quantizers_own_blocks():
    """MXFP4 weights as the MX model stores them, int8 activations with an E8M0 scale: the PE's
    (sumi, exponent) is the float64 dot product of the decoded values, exactly."""
    rng = np.random.default_rng(3)
    q = MX(format="mxfp4_e2m1")
    data = q.encode(rng.standard_normal((8, 64)).astype(np.float32)).reshape(-1, 17)
    xw = data[:, 0].astype(np.int64)
    codes = np.stack([data[:, 1:] & 15, data[:, 1:] >> 4], axis=2).reshape(-1, 32).astype(np.int64)
    a, xa = rng.integers(-128, 128, (16, 32)), rng.integers(100, 140, 16)
    sumi, exponent, _ = block_dot(codes, a, xw, xa)
    weights = q.decode(data.reshape(8, -1)).reshape(16, 32).astype(np.float64)
    expect = np.einsum("ij,ij->i", weights, a * np.ldexp(1.0, xa - 127)[:, None])
    assert np.array_equal(np.ldexp(sumi.astype(np.float64), exponent), expect)


def test_errors():
    assert acc_bits(32, 5, 8) == 18  # -12 * -128 * 32 = 49152 needs 17 bits + sign
    with pytest.raises(ParameterError, match="a_bits=1"):
        MXFP4BlockDotPE(a_bits=1)
    with pytest.raises(UnsupportedError, match="mxfp8_e4m3"):
        MX(format="mxfp8_e4m3").datapath("block_dot")
    with pytest.raises(ParameterError, match="'pipeline'"):
        MX().datapath("block_dot", pipeline=1)
