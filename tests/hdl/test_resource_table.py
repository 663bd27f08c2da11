"""scripts/resource_table.py: which rows the README table gets (no synthesis here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import inwhale_hw

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "resource_table.py"


def _load():
    spec = importlib.util.spec_from_file_location("resource_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_rows_merge_flavors_whose_hardware_is_identical():
    rows = _load().collect_rows([0])
    g711 = {(r.quantizer, r.block, tuple(r.variants)) for r in rows if r.quantizer in ("mulaw", "alaw")}
    # which flavors share hardware must follow from which flavors share bits
    pcm = np.arange(-32768, 32768).astype(np.int16)
    for law in ("mulaw", "alaw"):
        codes = {f: inwhale_hw.get_quantizer(law, flavor=f).encode(pcm) for f in ("itu", "audioop", "libsndfile")}
        same_as_itu = [f for f in ("audioop", "libsndfile") if np.array_equal(codes[f], codes["itu"])]
        encoder_rows = sorted(v for q, b, v in g711 if q == law and b == "encoder")
        expected = sorted([("itu", *same_as_itu)] + [(f,) for f in ("audioop", "libsndfile") if f not in same_as_itu])
        assert encoder_rows == expected
        # sox and ffmpeg encoders are software only; every flavor shares the decoder
        assert [v for q, b, v in g711 if q == law and b == "decoder"] == [("itu", "audioop", "libsndfile", "sox", "ffmpeg")]
    assert all(r.pipeline == 0 and r.kind == "map" for r in rows if r.quantizer in ("mulaw", "alaw"))
