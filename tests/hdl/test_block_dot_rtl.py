# amaranth: UnusedElaboratable=no
"""Block-dot PE: rtl == exact-integer model in Amaranth and Icarus; the fixed-point block scale's
error against the float computation of llama.cpp's Q4_0 x Q8_0 dot product."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hdl.block_dot import BlockDotPE, acc_bits
from inwhale_hw.hdlsim import verify
from inwhale_hw.plugins.gguf.block_dot import block_dot, fixed_scale
from inwhale_hw.plugins.gguf.model import GGUF


@pytest.mark.parametrize("simulator", ["amaranth", "icarus", pytest.param("verilator", marks=pytest.mark.slow)])
@pytest.mark.parametrize("qtype", ["Q4_0", "Q8_0"])
def test_block_dot_matches_model(qtype, simulator, require_tool):
    if simulator != "amaranth":
        require_tool("iverilog" if simulator == "icarus" else "verilator")
    report = verify(GGUF(type=qtype), "block_dot", simulator=simulator, count=96)
    assert report.vectors_checked == 96 and report.mismatches == 0, report
    assert report.coverage["rail_sums"] >= 3 and report.coverage["zero_scale"] >= 1


def test_accumulator_width_holds_the_extremes():
    assert acc_bits(32, 4, 8) == 17 and 32 * 8 * 128 == (1 << 15)  # -8 * -128 * 32 needs 17 signed bits
    assert block_dot(np.full((1, 32), -8), np.full((1, 32), -128), np.array([65535]))[0] == 32768 * 65535


def test_fixed_scale_error_against_float():
    """W (64 x 4096, N(0,1)) in Q4_0 times x in Q8_0: the PE (exact integer sums, scale
    d_w * d_a in 16-bit fixed point) against the same products summed in float64."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 4096)).astype(np.float32)
    x = rng.standard_normal(4096).astype(np.float32)
    bw = GGUF(type="Q4_0").encode(w).reshape(-1, 18)
    dw = bw[:, :2].copy().view(np.float16).astype(np.float64).ravel()
    codes = np.concatenate([bw[:, 2:] & 15, bw[:, 2:] >> 4], axis=1).astype(np.int64) - 8
    bx = GGUF(type="Q8_0").encode(np.tile(x, (64, 1))).reshape(-1, 34)
    da = bx[:, :2].copy().view(np.float16).astype(np.float64).ravel()
    a = bx[:, 2:].view(np.int8).astype(np.int64)
    s, frac = fixed_scale(dw * da)
    assert s.max() < 1 << 16 and s.max() >= 1 << 15
    pe = block_dot(codes, a, s).reshape(64, -1).sum(axis=1) * 2.0 ** -frac
    flt = (dw * da * np.einsum("ij,ij->i", codes, a)).reshape(64, -1).sum(axis=1)
    exact = w.astype(np.float64) @ x.astype(np.float64)
    rel = np.sqrt(np.mean((pe - flt) ** 2) / np.mean(flt ** 2))
    quant = np.sqrt(np.mean((flt - exact) ** 2) / np.mean(exact ** 2))
    assert 0 < rel < 5e-5  # measured 1.49e-5 (the 16-bit scale's rounding)
    assert 0.05 < quant < 0.2  # measured 0.102: the 4-bit weights dominate the error


def test_errors():
    with pytest.raises(ParameterError, match="w_bits=1"):
        BlockDotPE(w_bits=1)
    with pytest.raises(UnsupportedError, match="Q4_1"):
        GGUF(type="Q4_1").datapath("block_dot")
    with pytest.raises(ParameterError, match="'pipeline'"):
        GGUF(type="Q4_0").datapath("block_dot", pipeline=1)
