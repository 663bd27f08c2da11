"""The int8 processing element (hdl/pe.py) against the accumulator model and exact integers.

rtl(x) == ref(x) in Amaranth's simulator and in Icarus on the generated Verilog, where ref
is the model (nn.accumulate running sums, nn.matmul) and, independently, a plain
Python-int loop of the documented per-clock rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from inwhale_hw import nn
from inwhale_hw import get_hardware
from inwhale_hw.plugins.accel_blocks.hardware import MacBlocks
from inwhale_hw.plugins.accel_blocks.golden import accumulator_trace
from inwhale_hw.plugins.accel_blocks.vectors import pe_vectors
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl.pe import ProcessingElement
from inwhale_hw.hdlsim import run_amaranth, run_icarus, verify


def python_pe(a, b, bias, clear, accumulate, acc_bits, overflow):
    """The documented per-clock rule with Python ints (no NumPy, no model code)."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    acc, flag, out_acc, out_flag = 0, False, [], []
    for x, w, init, c, e in zip(a.tolist(), b.tolist(), bias.tolist(), clear.tolist(), accumulate.tolist()):
        base = init if c else acc
        flag = False if c else flag
        if e:
            s = base + x * w
            if not lo <= s <= hi:
                flag = True
                s = ((s - lo) % (1 << acc_bits)) + lo if overflow == "wrap" else min(max(s, lo), hi)
            acc = s
        else:
            acc = base
        out_acc.append(acc)
        out_flag.append(int(flag))
    return np.array(out_acc), np.array(out_flag)


def simulate(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
        return run_icarus
    return run_amaranth


CONFIGS = [(32, "wrap", 0), (24, "sat", 1), (16, "sat", 0), (12, "wrap", 1)]


@pytest.mark.parametrize("acc_bits, overflow, pipeline", CONFIGS)
def test_golden_trace_equals_python_ints(acc_bits, overflow, pipeline):
    v = pe_vectors(acc_bits, count=20000, sweep=False, seed=acc_bits)
    a, b = v["a"], v["b"]
    acc, flags = accumulator_trace(a * b, v["clear"], v["accumulate"], v["bias"], acc_bits, overflow)
    ref_acc, ref_flags = python_pe(a, b, v["bias"], v["clear"], v["accumulate"], acc_bits, overflow)
    np.testing.assert_array_equal(acc, ref_acc)
    np.testing.assert_array_equal(flags, ref_flags)


def test_vectors_reach_both_rails_and_the_extreme_product():
    for overflow in ("wrap", "sat"):
        v = pe_vectors(24, count=20000, sweep=False, seed=1)
        acc, flags = accumulator_trace(v["a"] * v["b"], v["clear"], v["accumulate"], v["bias"], 24, overflow)
        lo, hi = -(1 << 23), (1 << 23) - 1
        assert np.any((v["a"] == -128) & (v["b"] == -128) & (v["accumulate"] == 1))
        at_rails = min(np.count_nonzero(acc == hi), np.count_nonzero(acc == lo))
        assert at_rails >= (2 if overflow == "wrap" else 100)
        assert 0.01 < flags.mean() < 0.9
        if overflow == "wrap":  # wrapped from one rail to the other
            assert np.any((np.abs(np.diff(acc)) > 1 << 23) & (v["clear"][1:] == 0))


def test_amaranth_20000_random_plus_edges_saturating():
    report = verify(MacBlocks(acc_bits=24, overflow="sat"), "pe", count=20000, options={"sweep": False})
    assert report.ok, report
    assert report.vectors_checked > 20000


@pytest.mark.parametrize("acc_bits, overflow, pipeline", CONFIGS[::2] + CONFIGS[3:])
def test_amaranth_short_runs_other_configurations(acc_bits, overflow, pipeline):
    source = MacBlocks(acc_bits=acc_bits, overflow=overflow)
    report = verify(source, "pe", hw={"pipeline": pipeline}, count=1500, options={"sweep": False}, seed=7)
    assert report.ok, report


@pytest.mark.parametrize("acc_bits, overflow, pipeline", CONFIGS)
def test_icarus_random_plus_edges(acc_bits, overflow, pipeline, require_tool):
    require_tool("iverilog")
    source = get_hardware("mac", acc_bits=acc_bits, overflow=overflow)
    report = verify(source, "pe", simulator="icarus", hw={"pipeline": pipeline}, count=20000,
                    options={"sweep": False}, seed=3)
    assert report.ok, report
    assert report.vectors_checked > 20000


def test_icarus_every_operand_pair_alone(require_tool):
    """clear + accumulate with bias 0 on every clock: acc is a * b for all 65536 pairs."""
    require_tool("iverilog")
    v = pe_vectors(32, count=0, sweep=True)
    sweep = {k: x[:65536] for k, x in v.items()}
    run = run_icarus(ProcessingElement(32, "wrap", pipeline=1), sweep)
    exact = np.array([x * w for x, w in zip(sweep["a"].tolist(), sweep["b"].tolist())])
    np.testing.assert_array_equal(run.outputs["acc"], exact)
    assert run.outputs["overflowed"].max() == 0


@pytest.mark.parametrize("simulator", ["amaranth", "icarus"])
@pytest.mark.parametrize("overflow", ["wrap", "sat"])
def test_dot_products_equal_nn_matmul(simulator, overflow, require_tool):
    """Dot products of random length: acc at each one's last clock == nn.matmul (the model)."""
    runner = simulate(simulator, require_tool)
    rng = np.random.default_rng(11)
    acc_bits, lengths = 18, rng.integers(1, 60, 40)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    n = int(lengths.sum())
    a = rng.integers(-128, 128, n)
    b = np.where(rng.random(n) < 0.3, -128, rng.integers(-128, 128, n))
    bias = rng.integers(-(1 << 17), 1 << 17, len(lengths))
    clear = np.zeros(n, dtype=np.int64)
    clear[starts] = 1
    inputs = {"a": a, "b": b, "bias": np.repeat(bias, lengths), "clear": clear, "accumulate": np.ones(n, dtype=np.int64)}
    run = runner(ProcessingElement(acc_bits, overflow), inputs)
    ends = starts + lengths - 1
    for i, (s, e) in enumerate(zip(starts, ends)):
        result = nn.matmul(a[s:e + 1][None, :], b[s:e + 1][:, None], bias[i:i + 1, None],
                           acc_bits=acc_bits, overflow=overflow)
        assert run.outputs["acc"][e] == result.values[0, 0]
        assert run.outputs["overflowed"][e] == (result.stats.overflowed > 0)
    ref_acc, _ = python_pe(a, b, inputs["bias"], clear, inputs["accumulate"], acc_bits, overflow)
    np.testing.assert_array_equal(run.outputs["acc"], ref_acc)
    assert run.outputs["overflowed"][ends].any()


def test_controls_cycle_by_cycle():
    """A hand-written async testbench: clear, accumulate, hold, and both rails of a sat PE."""
    dut = ProcessingElement(acc_bits=16, overflow="sat")
    steps = [  # a, b, bias, clear, accumulate -> acc, overflowed
        (-128, -128, 0, 1, 1, 16384, 0),
        (-128, -128, 0, 0, 1, 32767, 1),
        (5, 5, 0, 0, 0, 32767, 1),
        (3, 4, -32768, 1, 0, -32768, 0),
        (-1, 1, 0, 0, 1, -32768, 1),
        (7, 7, 100, 1, 1, 149, 0),
        (0, 0, 0, 0, 1, 149, 0),
    ]
    seen = []
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def testbench(ctx):
        for a, b, bias, clear, accumulate, *_ in steps:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.bias, bias)
            ctx.set(dut.clear, clear)
            ctx.set(dut.accumulate, accumulate)
            await ctx.tick()
            seen.append((ctx.get(dut.acc), ctx.get(dut.overflowed)))

    sim.add_testbench(testbench)
    sim.run()
    assert seen == [(acc, flag) for *_, acc, flag in steps]


@pytest.mark.parametrize("kwargs, quoted", [
    ({"acc_bits": 64}, "acc_bits=64"),
    ({"acc_bits": 1}, "acc_bits=1"),
    ({"acc_bits": True}, "acc_bits=True"),
    ({"overflow": "error"}, "overflow='error'"),
    ({"pipeline": 2}, "pipeline=2"),
])
def test_bad_construction_quotes_the_value(kwargs, quoted):
    with pytest.raises(ParameterError, match=quoted.replace("(", r"\(")):
        ProcessingElement(**kwargs)


def test_ports_and_latency():
    pe, default = ProcessingElement(acc_bits=20, pipeline=1), ProcessingElement()
    Fragment.get(pe, None), Fragment.get(default, None)
    assert pe.latency == 2 and default.latency == 1
    shapes = {name: (len(port), port.shape().signed) for name, port in
              (("a", pe.a), ("b", pe.b), ("bias", pe.bias), ("acc", pe.acc), ("overflowed", pe.overflowed))}
    assert shapes == {"a": (8, True), "b": (8, True), "bias": (20, True), "acc": (20, True), "overflowed": (1, False)}
