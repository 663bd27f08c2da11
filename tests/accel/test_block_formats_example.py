"""examples/block_formats/run.py: the committed table reproduces, its area column is the README's."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="the example builds its model with onnx (accel extra)")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "block_formats"


@pytest.fixture(scope="module")
def run():
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield importlib.import_module("run")
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("run", None)


def test_committed_results_reproduce(run):
    committed = {r["format"]: r for r in json.loads((EXAMPLE / "results" / "results.json").read_text())}
    rows = run.tabulate(formats=["q4_0", "mxfp4", "nf4", "int8"])
    for r in rows:
        c = committed[r["format"]]
        assert r["bits_per_weight"] == c["bits_per_weight"] and r["lut4_per_mac"] == c["lut4_per_mac"]
        assert r["weight_sqnr_db"] == pytest.approx(c["weight_sqnr_db"], abs=0.02)
        assert r["output_sqnr_db"] == pytest.approx(c["output_sqnr_db"], abs=0.05)
    assert committed["q4_0"]["bits_per_weight"] == 4.5 and committed["mxfp4"]["bits_per_weight"] == 4.25
    table = (EXAMPLE / "README.md").read_text()
    assert run.to_markdown(list(committed.values())).split("\n", 2)[2] in table


def test_area_column_reads_the_readme(run):
    readme = (ROOT / "README.md").read_text()
    area = run.pe_area_per_mac()
    assert area["int8"] == int(re.search(r"^\| PE int8 x int8, wrap \| (\d+) \|", readme, re.M).group(1))
    for key, prefix in (("q4_0", "gguf | Q4_0"), ("q8_0", "gguf | Q8_0"), ("mxfp4", "mx | mxfp4_e2m1")):
        row = next(line for line in readme.splitlines() if line.startswith(f"| {prefix} | block-dot PE"))
        assert area[key] == int(row.split("|")[5])
