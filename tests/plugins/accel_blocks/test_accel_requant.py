"""Requantization units (hdl/requant.py) against the gemmlowp and shift-only profiles of
inwhale_hw.nn, and against a scalar Python-int transcription of gemmlowp's fixedpoint.h."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment

from inwhale_hw.plugins.accel_blocks.hardware import RequantBlocks
from inwhale_hw.plugins.accel_blocks.golden import gemmlowp_reference, shift_only_reference
from inwhale_hw.plugins.accel_blocks.vectors import gemmlowp_vectors, shift_vectors
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl.requant import RequantGemmlowp, RequantShift
from inwhale_hw.hdlsim import run_amaranth, run_icarus, verify
from inwhale_hw.nn import PROFILES
from inwhale_hw.nn.requant import quantize_multiplier

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535)}


def wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul, transcribed with C truncating division."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    n = ab + nudge
    return n // (1 << 31) if n >= 0 else -((-n) // (1 << 31))


def rdbp(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: mask, remainder, threshold (+1 for negatives)."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def python_gemmlowp(acc: int, q: int, shift: int, zp: int, dtype: str) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    lo, hi = RANGES[dtype]
    return min(max(rdbp(srdhm(wrap32(acc << left), q), right) + zp, lo), hi)


def python_shift(acc: int, k: int, zp: int, dtype: str) -> int:
    v = (acc + (1 << (k - 1))) >> k if k > 0 else acc << -k
    lo, hi = RANGES[dtype]
    return min(max(v + zp, lo), hi)


@pytest.mark.parametrize("acc_bits", [32, 20])
def test_gemmlowp_vectors_hold_ties_of_both_roundings(acc_bits):
    v = gemmlowp_vectors(acc_bits, "int8", count=1000, seed=1)
    acc, q, shift = v["acc"], v["multiplier"], v["shift"]
    assert acc.min() == -(1 << (acc_bits - 1)) and acc.max() == (1 << (acc_bits - 1)) - 1
    assert {-32, 31} <= set(shift.tolist()) and {0, (1 << 31) - 1} <= set(q.tolist())
    x = np.array([wrap32(int(a) << max(int(s), 0)) for a, s in zip(acc, shift)])
    first_ties = np.count_nonzero([(int(a) * int(b)) % (1 << 31) == 1 << 30 for a, b in zip(x, q)])
    h = np.array([srdhm(int(a), int(b)) for a, b in zip(x, q)])
    r = np.maximum(-shift, 0)
    second = (r > 0) & (h % (np.int64(1) << r) == (np.int64(1) << np.maximum(r - 1, 0)))
    assert first_ties >= 500
    assert np.count_nonzero(second & (h < 0)) >= 50 and np.count_nonzero(second & (h > 0)) >= 50


def test_shift_vectors_hold_ties_and_extremes():
    v = shift_vectors(32, "uint8", count=1000, seed=1)
    k = v["shift"]
    tie = (k > 0) & (v["acc"] % (np.int64(1) << np.maximum(k, 1)) == (np.int64(1) << np.maximum(k - 1, 0)))
    assert np.count_nonzero(tie & (v["acc"] < 0)) >= 100 and np.count_nonzero(tie & (v["acc"] > 0)) >= 100
    assert {-32, -10, -9, -8, 0, 31} <= set(k.tolist())


@pytest.mark.parametrize("dtype", list(RANGES))
def test_golden_models_equal_the_scalar_transcription(dtype):
    v = gemmlowp_vectors(32, dtype, count=2000, seed=4)
    ref = gemmlowp_reference(v["acc"], v["multiplier"], v["shift"], v["zero_point"], dtype)
    assert ref.tolist() == [python_gemmlowp(*map(int, t), dtype) for t in
                            zip(v["acc"], v["multiplier"], v["shift"], v["zero_point"])]
    s = shift_vectors(32, dtype, count=2000, seed=4)
    ref = shift_only_reference(s["acc"], s["shift"], s["zero_point"], dtype)
    assert ref.tolist() == [python_shift(*map(int, t), dtype) for t in zip(s["acc"], s["shift"], s["zero_point"])]


@pytest.mark.parametrize("block, count", [("gemmlowp", 2000), ("shift", 3000)])
def test_amaranth_edges_ties_and_random(block, count):
    report = verify(RequantBlocks(dtype="int8"), block, count=count, seed=5)
    assert report.ok, report
    assert report.vectors_checked > count + 300


@pytest.mark.parametrize("block", ["gemmlowp", "shift"])
@pytest.mark.parametrize("dtype, acc_bits, pipeline", [("int8", 32, 0), ("uint8", 24, 1), ("int16", 32, 2),
                                                       ("uint16", 17, 0)])
def test_icarus_every_output_type(block, dtype, acc_bits, pipeline, require_tool):
    require_tool("iverilog")
    report = verify(RequantBlocks(acc_bits=acc_bits, dtype=dtype), block, count=10000, seed=acc_bits,
                    simulator="icarus", hw={"pipeline": pipeline})
    assert report.ok, report


def test_rtl_equals_the_gemmlowp_profile_from_float_scales(require_tool):
    """Scales -> QuantizeMultiplier -> the unit, against nn.PROFILES['gemmlowp'] on the scales."""
    require_tool("iverilog")
    rng = np.random.default_rng(8)
    n = 6000
    s_in = (rng.uniform(0.001, 0.1, n)).astype(np.float32)
    s_w = (rng.uniform(1e-4, 0.05, n)).astype(np.float32)
    s_out = (rng.uniform(0.005, 0.5, n)).astype(np.float32)
    acc = rng.integers(-(1 << 31), 1 << 31, n) >> rng.integers(0, 32, n)
    zp = rng.integers(-128, 128, n)
    q, shift = quantize_multiplier(s_in.astype(np.float64) * s_w.astype(np.float64) / s_out.astype(np.float64))
    run = run_icarus(RequantGemmlowp(32, "int8"), {"acc": acc, "multiplier": q, "shift": shift, "zero_point": zp})
    expected = PROFILES["gemmlowp"](acc, s_in, s_w, s_out, zp, np.int8)
    np.testing.assert_array_equal(run.outputs["y"], expected)
    assert len(np.unique(expected)) > 200


@pytest.mark.parametrize("simulator", ["amaranth", "icarus"])
def test_rtl_equals_the_shift_only_profile_from_power_of_two_scales(simulator, require_tool):
    runner = run_amaranth
    if simulator == "icarus":
        require_tool("iverilog")
        runner = run_icarus
    rng = np.random.default_rng(9)
    n = 3000
    s_in = np.ldexp(1.0, rng.integers(-12, 0, n)).astype(np.float32)
    s_w = np.ldexp(1.0, rng.integers(-10, 0, n)).astype(np.float32)
    s_out = np.ldexp(1.0, rng.integers(-20, 4, n)).astype(np.float32)
    acc = rng.integers(-(1 << 31), 1 << 31, n) >> rng.integers(0, 32, n)
    zp = rng.integers(0, 256, n)
    k = 1 - np.frexp(s_in.astype(np.float64) * s_w / s_out)[1]
    run = runner(RequantShift(32, "uint8"), {"acc": acc, "shift": k, "zero_point": zp})
    np.testing.assert_array_equal(run.outputs["y"], PROFILES["shift-only"](acc, s_in, s_w, s_out, zp, np.uint8))


@pytest.mark.parametrize("cls, kwargs, quoted", [
    (RequantGemmlowp, {"acc_bits": 33}, "acc_bits=33"),
    (RequantShift, {"dtype": "int32"}, "dtype='int32'"),
    (RequantShift, {"pipeline": -1}, "pipeline=-1"),
])
def test_bad_construction_quotes_the_value(cls, kwargs, quoted):
    with pytest.raises(ParameterError, match=quoted):
        cls(**kwargs)


def test_ports():
    unit = RequantGemmlowp(acc_bits=24, dtype="uint16", pipeline=2)
    Fragment.get(unit, None)
    assert unit.latency == 2
    assert [(len(p), p.shape().signed) for p in (unit.acc, unit.multiplier, unit.shift, unit.zero_point, unit.y)] == \
        [(24, True), (31, False), (6, True), (16, False), (16, False)]
