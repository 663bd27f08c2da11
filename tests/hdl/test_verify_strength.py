# amaranth: UnusedElaboratable=no
"""``verify`` catches what the suite catches: stalls on both sides, a real reset, shuffled
exhaustive vectors, and the seeded faults of issue 10 (mutation tests).

Each fault is applied to a patched copy or a wrapper of a correct block, and ``verify`` (or
``inwhale-hw verify`` with default options) must fail; the unpatched block passes the same
check, so the failure is the fault's.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from click.testing import CliRunner

import inwhale_hw
from inwhale_hw.cli import cli
from inwhale_hw.hdl import dpcm as dpcm_hdl
from inwhale_hw.hdl import g711 as g711_hdl
from inwhale_hw.hdl import pipeline as pipeline_hdl
from inwhale_hw.hdlsim import Vectors, run_amaranth, run_icarus, verify
from inwhale_hw.hdlsim.seeded import draws, stall_flags

SIMULATORS = ("amaranth", "icarus")
RUNNERS = {"amaranth": run_amaranth, "icarus": run_icarus}


class Buffer(wiring.Component):
    """A correct one-element stream register: ``o`` = ``i`` + 1 (mod 256), one cycle later."""

    def __init__(self):
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(self.i.payload + 1)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m


class Wrapped(wiring.Component):
    """``inner`` with one handshake fault: ``"ready"`` (inner never sees backpressure) or
    ``"valid"`` (inner takes the input bus every cycle)."""

    def __init__(self, inner, fault):
        self.inner, self.fault = inner, fault
        self.latency = getattr(inner, "latency", 0)
        super().__init__(inner.signature)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = self.inner
        for (path, member, outer), (_, _, inner) in zip(self.signature.flatten(self), self.inner.signature.flatten(self.inner)):
            if path == ("o", "ready") and self.fault == "ready":
                m.d.comb += inner.eq(1)
            elif path == ("i", "valid") and self.fault == "valid":
                m.d.comb += inner.eq(1)
            elif member.flow == In:
                m.d.comb += inner.eq(outer)
            else:
                m.d.comb += outer.eq(inner)
        return m


class LateStart(wiring.Component):
    """Pipelined map block (latency 1) whose output register resets to ``init``."""

    latency = 1

    def __init__(self, init):
        self.init = init
        super().__init__({"x": In(4), "y": Out(4)})

    def elaborate(self, platform):
        m = Module()
        reg = Signal(4, init=self.init)
        m.d.sync += reg.eq(self.x ^ 0b1010)
        m.d.comb += self.y.eq(reg)
        return m


def _buffer_vectors(n=300):
    x = np.random.default_rng(3).integers(0, 256, n)
    return Vectors({"i": x}, {"o": (x + 1) % 256})


def test_stall_pattern_is_seeded_and_stalls_both_sides():
    d0, d0_again, d1 = draws(0, 0, 4000), draws(0, 0, 4000), draws(1, 0, 4000)
    assert np.array_equal(d0, d0_again) and not np.array_equal(d0, d1)
    gaps, blocked = zip(*(stall_flags(int(v)) for v in d0))
    assert 0.2 < np.mean(gaps) < 0.3 and 0.2 < np.mean(blocked) < 0.3  # 1/4 each
    assert np.mean(np.logical_and(gaps, blocked)) > 0.04  # independent bits


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_a_correct_stream_block_passes_under_stalls_that_cost_cycles(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    vec = _buffer_vectors()
    report = verify(Buffer, vectors=vec, simulator=simulator)
    assert report.ok and report.vectors_checked == 300, str(report)
    run = run_amaranth(Buffer(), vec.inputs, outputs=300)
    calm = run_amaranth(Buffer(), vec.inputs, outputs=300, stalls=False)
    assert run.cycles > 1.3 * calm.cycles  # the stalls happened: about 1/4 + 1/4 more cycles
    assert np.array_equal(run.outputs["o"], calm.outputs["o"])


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("fault", ("ready", "valid"))
def test_a_block_that_ignores_the_handshake_fails(fault, simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    vec = _buffer_vectors()
    report = verify(lambda: Wrapped(Buffer(), fault), vectors=vec, simulator=simulator)
    assert not report.ok and report.mismatches > 10, str(report)
    if fault == "ready":  # without output backpressure the fault is invisible: the stalls catch it
        calm = RUNNERS[simulator](Wrapped(Buffer(), fault), vec.inputs, outputs=300, stalls=False)
        assert np.array_equal(calm.outputs["o"], vec.expected["o"])


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_the_outputs_right_after_reset_are_checked(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    x = np.arange(16)
    vec = Vectors({"x": x}, {"y": x ^ 0b1010})
    good = verify(lambda: LateStart(0), vectors=vec, simulator=simulator)
    assert good.ok, str(good)
    bad = verify(lambda: LateStart(5), vectors=vec, simulator=simulator)
    assert bad.mismatches == 1 and bad.first_mismatches[0].index == -1, str(bad)
    assert "after reset: expected(y=0) got(y=5)" in str(bad)


def test_exhaustive_vectors_of_a_pipelined_block_also_run_shuffled():
    from inwhale_hw.hdlsim import golden_vectors

    q = inwhale_hw.get_quantizer("alaw")
    block = q.datapath("decoder", pipeline=1)
    Fragment.get(block, None)
    plain = golden_vectors(q, "decoder", block)
    strong = golden_vectors(q, "decoder", block, seed=4, strengthen=True)
    assert len(plain) == 256 and len(strong) == 512
    codes = strong.inputs["code"]
    assert np.array_equal(codes[:256], np.arange(256)) and sorted(codes[256:]) == list(range(256))
    assert not np.array_equal(codes[256:], np.arange(256))
    again = golden_vectors(q, "decoder", block, seed=4, strengthen=True)
    assert np.array_equal(again.inputs["code"], codes)


# -- mutation tests: the seeded faults of issue 10, through `inwhale-hw verify` with defaults --


class SkewPipeline(pipeline_hdl.Pipeline):
    """Fault: a registered cut delays its last value (the sign) one cycle more than the rest."""

    def cut(self, m, name, *values):
        out = super().cut(m, name, *values)
        if name in self.registered_cuts:
            late = Signal.like(out[-1], name=f"{name}_late")
            m.d.sync += late.eq(out[-1])
            out = (*out[:-1], late)
        return out


def _cli(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("law", ("mulaw", "alaw"))
def test_mutation_sign_skew_in_a_pipeline_fails_verify(law, monkeypatch, require_tool):
    require_tool("iverilog")
    assert _cli("verify", law, "--block", "decoder", "-H", "pipeline=2").exit_code == 0
    monkeypatch.setattr(g711_hdl, "Pipeline", SkewPipeline)
    result = _cli("verify", law, "--block", "decoder", "-H", "pipeline=2", "--json")
    assert result.exit_code == 1, result.output
    import json

    reports = json.loads(result.output[: result.output.rindex("]") + 1])
    # in order only the sign changes are hit (2 vectors); the shuffled half hits about half
    assert all(r["mismatches"] > 100 for r in reports), reports


def _patch_datapath(monkeypatch, name, wrap):
    cls = type(inwhale_hw.get_quantizer(name))
    original = cls.datapath
    monkeypatch.setattr(cls, "datapath", lambda self, block, **hw: wrap(self, original(self, block, **hw)))


def test_mutation_stream_block_ignoring_ready_fails_verify(monkeypatch, require_tool):
    require_tool("iverilog")
    _patch_datapath(monkeypatch, "dpcm", lambda q, block: Wrapped(block, "ready"))
    result = _cli("verify", "dpcm", "--block", "encoder")
    assert result.exit_code == 1 and "amaranth:" in result.output and "icarus:" in result.output, result.output


def test_mutation_wrong_reset_value_fails_verify(monkeypatch, require_tool):
    """The DPCM history register hist0 resets to 1 instead of 0 (a patched copy of the module)."""
    require_tool("iverilog")

    def faulty_signal(*args, **kwargs):
        if kwargs.get("name") == "hist0":
            kwargs["init"] = 1
        return Signal(*args, **kwargs)

    monkeypatch.setattr(dpcm_hdl, "Signal", faulty_signal)
    result = _cli("verify", "dpcm", "--block", "encoder")
    assert result.exit_code == 1 and "amaranth:" in result.output and "icarus:" in result.output, result.output
    first = [line for line in result.output.splitlines() if line.startswith("  #")][0]
    assert first.startswith("  #0:"), result.output  # the very first sample, coded from the reset state


def test_mutation_dpcm_predictor_rounding_half_down_fails_verify(monkeypatch, require_tool):
    """The encoder's predictor adds 2^(F-1) - 1 (HALF_DOWN) instead of 2^(F-1) (HALF_UP): only
    a predictor sum exactly half-way tells them apart, which the directed tie vectors reach."""
    require_tool("iverilog")
    import json

    _patch_datapath(monkeypatch, "dpcm", lambda q, block: dpcm_hdl.DPCMEncoder(
        q.design._replace(predict_bias=q.design.predict_bias - 1), code_format=q.code_format))
    result = _cli("verify", "dpcm", "--block", "encoder", "--json")
    assert result.exit_code == 1, result.output
    reports = json.loads(result.output[: result.output.rindex("]") + 1])
    for report in reports:
        assert report["coverage"]["predictor_ties"] == 64
        first = int(report["first_mismatches"][0].split(":")[0].lstrip("#"))
        assert first >= report["vectors_checked"] - 64, report  # the tie segment, nothing before


@pytest.mark.parametrize("coeffs", ("0.9", "1.8,-0.81", "0.5"))
def test_dpcm_vectors_hold_predictor_ties_for_the_configured_coefficients(coeffs):
    from fractions import Fraction

    from inwhale_hw.hdlsim import golden_vectors

    q = inwhale_hw.get_quantizer("dpcm", coeffs=coeffs)
    block = q.datapath("encoder")
    Fragment.get(block, None)
    vec = golden_vectors(q, "encoder", block)
    assert vec.coverage["predictor_ties"] >= 64
    d = q.design
    tail = len(vec) - 64
    for n in range(tail, len(vec)):  # exact rational check of each directed tie
        total = sum(Fraction(c, 1 << d.coeff_shift) * int(vec.inputs[f"load_history__{i}"][n])
                    for i, c in enumerate(d.coeffs))
        assert total - (total.numerator // total.denominator) == Fraction(1, 2)
