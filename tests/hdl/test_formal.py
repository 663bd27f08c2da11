# amaranth: UnusedElaboratable=no
"""Formal equivalence of pipelined blocks with their unpipelined form (Yosys ``sat`` induction).

G.711: every law, block and flavor at depths 1-3.  The decoders' datapath does not depend on
the flavor (checked here on the RTLIL text), so they are proven once.  Requantizers at depths
1-3 and the processing elements (int8, pow2, apot; pipeline 0/1) close by induction in a few
seconds each.  Not in the suite: the MAC array (2 x 2 PEs) also closes by induction (k = 4),
but takes about 40 s of the suite's budget; ``inwhale-hw verify mac --block array --formal``
runs it.  A sign-vs-magnitude skew must give a counterexample.
"""

from __future__ import annotations

import os

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Signal
from click.testing import CliRunner

import inwhale_hw
from inwhale_hw.cli import cli
from inwhale_hw.errors import ToolNotFoundError
from inwhale_hw.hdl import g711 as g711_hdl
from inwhale_hw.hdl import pipeline as pipeline_hdl
from inwhale_hw.hdlsim import formal, matrix
from inwhale_hw.hdlsim import synth as synth_module

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

FLAVORS = ("itu", "audioop", "libsndfile")


@pytest.fixture
def yosys():
    try:
        return formal.find_formal_yosys()
    except ToolNotFoundError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))


def _assert_all_proven(reports, depths):
    assert [r.depth for r in reports] == list(depths)
    for r in reports:
        assert r.proven and r.method == "induction" and not r.counterexample, str(r)
        assert r.steps is not None and r.steps >= 1


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("law", ("mulaw", "alaw"))
def test_g711_encoders_depths_1_to_3_are_proven(law, flavor, yosys):
    q = inwhale_hw.get_quantizer(law, flavor=flavor)
    _assert_all_proven(matrix.formal_sweep(q, "encoder", [1, 2, 3]), (1, 2, 3))


@pytest.mark.parametrize("law", ("mulaw", "alaw"))
def test_g711_decoders_depths_1_to_3_are_proven_for_every_flavor(law, yosys):
    texts = {rtlil.convert(inwhale_hw.get_quantizer(law, flavor=f).datapath("decoder", pipeline=2), name="d")
             for f in FLAVORS}
    assert len(texts) == 1  # one decoder datapath for all flavors
    _assert_all_proven(matrix.formal_sweep(inwhale_hw.get_quantizer(law), "decoder"), (1, 2, 3))


@pytest.mark.parametrize("block", (pytest.param("gemmlowp", marks=pytest.mark.slow), "shift"))
def test_requantizers_depths_1_to_3_are_proven(block, yosys):
    model = inwhale_hw.get_hardware("requant")
    _assert_all_proven(matrix.formal_sweep(model, block), (1, 2, 3))


@pytest.mark.parametrize("weights", ("int8", "pow2", "apot"))
def test_processing_elements_pipeline_1_is_proven(weights, yosys):
    model = inwhale_hw.get_hardware("mac", weights=weights, overflow="sat" if weights == "int8" else "wrap")
    _assert_all_proven(matrix.formal_sweep(model, "pe"), (1,))


class SkewPipeline(pipeline_hdl.Pipeline):
    """Fault: a registered cut delays its last value (the sign) one cycle more than the rest."""

    def cut(self, m, name, *values):
        out = super().cut(m, name, *values)
        if name in self.registered_cuts:
            late = Signal.like(out[-1], name=f"{name}_late")
            m.d.sync += late.eq(out[-1])
            out = (*out[:-1], late)
        return out


def test_sign_skew_gives_a_counterexample(monkeypatch, yosys):
    monkeypatch.setattr(g711_hdl, "Pipeline", SkewPipeline)
    result = CliRunner().invoke(cli, ["verify", "mulaw", "--block", "encoder", "--formal", "-H", "pipeline=2"])
    assert result.exit_code == 1, result.output
    assert "COUNTEREXAMPLE" in result.output and "\\pcm" in result.output  # the input trace
    assert "pipeline=2: counterexample" in result.output


def test_bounded_check_passes_and_finds_the_skew(monkeypatch, yosys):
    make = lambda d: g711_hdl.ALawEncoder("itu", d)  # noqa: E731
    (good,) = formal.prove_pipelines(make, [2], bounded=6)
    assert good.proven and good.method == "bounded 6" and good.steps == 6, str(good)
    monkeypatch.setattr(g711_hdl, "Pipeline", SkewPipeline)
    (bad,) = formal.prove_pipelines(make, [2], bounded=6)
    assert bad.counterexample and not bad.proven, str(bad)


def test_formal_cli_without_yosys_says_how_to_install(monkeypatch):
    def missing():
        raise ToolNotFoundError("no yosys")

    monkeypatch.setattr(formal, "find_yosys", missing)
    result = CliRunner().invoke(cli, ["verify", "mulaw", "--block", "encoder", "--formal"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "pip install 'inwhale_hw[synth]'" in lines[0], result.output


def test_formal_on_a_block_without_pipeline_option_is_a_clear_error():
    result = CliRunner().invoke(cli, ["verify", "dpcm", "--block", "encoder", "--formal"])
    assert result.exit_code == 1 and "has no 'pipeline' option" in result.output


def test_matrix_runs_every_flavor_and_depth(require_tool):
    result = CliRunner().invoke(cli, ["verify", "mulaw", "--block", "decoder", "--matrix", "--simulator", "amaranth"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    flavors = next(spec.choices for spec in inwhale_hw.get_quantizer("mulaw").param_specs() if spec.name == "flavor")
    assert len(lines) == len(flavors) * 4  # every flavor (software-only encoders share the decoder)
    for flavor in flavors:
        for depth in range(4):
            assert sum(f"flavor='{flavor}'" in line and f"pipeline={depth} " in line and " 0 mismatches" in line
                       for line in lines) == 1, result.output
    fixed = CliRunner().invoke(cli, ["verify", "mulaw", "--block", "decoder", "--matrix", "-p", "flavor=itu",
                                     "--simulator", "amaranth"])
    assert len(fixed.output.strip().splitlines()) == 4


def test_matrix_variants_of_the_pe_cover_overflow_weights_and_depths():
    model = inwhale_hw.get_hardware("mac")
    configs = [(v.overflow, v.weights, hw.get("pipeline")) for v, hw in matrix.variants(model, "pe")]
    assert sorted(configs) == sorted((o, w, d) for o in ("wrap", "sat") for w in ("int8", "pow2", "apot") for d in (0, 1))


def test_synth_module_still_finds_yosys_for_synthesis():
    assert formal.find_yosys is synth_module.find_yosys
