# amaranth: UnusedElaboratable=no
"""Verilator as a third simulator, and long random runs with in-testbench vectors.

Verilator compiles each design first (tens of seconds), so its tests are ``slow``.  The
random-run checksums are also exercised in Icarus on short runs (fast), including a golden
model that is wrong on one vector: exactly that vector's chunk must be reported.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment

import inwhale_hw
from inwhale_hw.hdlsim import run_icarus
from inwhale_hw.hdlsim.ports import describe
from inwhale_hw.hdlsim.protocol import reference_outputs
from inwhale_hw.hdlsim.random_run import random_inputs, random_run
from inwhale_hw.hdlsim.verilator_runner import run_verilator


def _reference(model, block, component):
    harness = describe(component)
    return lambda inputs: reference_outputs(model, block, harness, inputs)


@pytest.mark.slow
def test_verilator_gives_the_same_bits_as_icarus_on_the_exhaustive_g711_check(require_tool):
    require_tool("iverilog")
    require_tool("verilator")
    q = inwhale_hw.get_quantizer("mulaw", flavor="audioop")
    pcm = {"pcm": np.arange(-32768, 32768)}
    by_icarus = run_icarus(q.datapath("encoder", pipeline=1), pcm)
    by_verilator = run_verilator(q.datapath("encoder", pipeline=1), pcm)
    assert np.array_equal(by_icarus.outputs["code"], by_verilator.outputs["code"])
    assert by_icarus.reset_outputs == by_verilator.reset_outputs == {"code": 0}
    golden = q.encode(pcm["pcm"].astype(np.int16))
    assert np.array_equal(by_verilator.outputs["code"], golden) and by_verilator.simulator == "verilator"


@pytest.mark.slow
def test_verilator_random_run_of_the_pe_matches_the_golden_model(require_tool):
    require_tool("verilator")
    model = inwhale_hw.get_hardware("mac", overflow="sat")
    pe = model.datapath("pe", pipeline=1)
    report = random_run(pe, _reference(model, "pe", pe), 1_000_000, chunk=1 << 18, restart={"clear": 1})
    assert report.ok and report.chunks == 4 and report.simulator == "verilator", str(report)


@pytest.mark.parametrize("name, block, restart", [("mac", "pe", {"clear": 1}), ("requant", "shift", {})])
def test_random_run_in_icarus_matches_and_reports_a_wrong_vector_chunk(name, block, restart, require_tool):
    require_tool("iverilog")
    model = inwhale_hw.get_hardware(name)
    component = model.datapath(block)
    reference = _reference(model, block, component)
    good = random_run(component, reference, 3000, seed=7, chunk=1000, restart=restart, simulator="icarus")
    assert good.ok and good.chunks == 3, str(good)

    calls = []

    def off_by_one(inputs):  # the golden model is wrong on the run's vector 1500 (chunk 1)
        out = {k: np.array(v) for k, v in reference(inputs).items()}
        if len(calls) == 1:
            out[next(iter(out))][500] ^= 1
        calls.append(len(inputs["a" if "a" in inputs else "acc"]))
        return out

    bad = random_run(model.datapath(block), off_by_one, 3000, seed=7, chunk=1000, restart=restart,
                     simulator="icarus")
    assert bad.bad_chunks == [1] and calls == [1000, 1000, 1000], str(bad)


def test_random_inputs_are_seeded_full_range_and_restart_on_chunk_starts():
    model = inwhale_hw.get_hardware("mac")
    pe = model.datapath("pe")
    Fragment.get(pe, None)
    harness = describe(pe)
    a = random_inputs(harness, 3, 0, 4096, 1024, {"clear": 1})
    b = random_inputs(harness, 3, 0, 4096, 1024, {"clear": 1})
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["a"].min() == -128 and a["a"].max() == 127
    assert np.all(a["clear"][::1024] == 1) and 0.4 < a["clear"].mean() < 0.6
    tail = random_inputs(harness, 3, 2048, 2048, 1024, {"clear": 1})
    assert all(np.array_equal(a[k][2048:], tail[k]) for k in a)  # chunks are independent of the start
