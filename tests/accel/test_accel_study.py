"""The example study (examples/accel_study/study.py): its exactness claim on all 1797 images,
a reduced sweep, the Markdown table and the plot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the study needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, example  # noqa: E402

from inwhale_hw.accel import AccelConfig  # noqa: E402


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return example("study"), built_models(tmp_path_factory)


def test_exactness_table_all_images(study):
    mod, paths = study
    rows = mod.exactness(paths)
    assert [(r["model"], r["form"]) for r in rows] == [(n, f) for n in ("mlp", "cnn", "res") for f in ("qdq", "qoperator")]
    assert all(r["images"] == 1797 and r["output_mismatches"] == 0 and r["tensor_mismatches"] == 0 for r in rows)
    assert all(r["tensor_elements"] >= 1797 * 64 for r in rows)
    assert "| cnn | qdq | 1797 | 0 | 0 of" in mod.exactness_table(rows)


def test_reduced_sweep_table_and_plot(study, tmp_path):
    mod, paths = study
    variants = [mod.Variant(label, cfg) for label, cfg in (
        ("acc 32 wrap", AccelConfig()), ("acc 16 wrap", AccelConfig(acc_bits=16)),
        ("acc 16 sat", AccelConfig(acc_bits=16, overflow="sat")), ("shift-only, pow2 scales", AccelConfig(profile="shift-only")),
        ("int4 weights", AccelConfig(weights="int4")), ("pow2 weights", AccelConfig(weights="pow2")))]
    rows = mod.sweep(paths, variants, n_images=200)
    by = {(r["model"], r["variant"]): r for r in rows}
    for net in ("mlp", "cnn", "res"):
        base = by[(net, "acc 32 wrap")]
        assert base["ort_mismatches"] == 0 and base["overflowed_outputs"] == 0 and base["accuracy"] > 0.95
        assert by[(net, "int4 weights")]["ort_mismatches"] == 0 and by[(net, "pow2 weights")]["ort_mismatches"] == 0
        narrow = by[(net, "acc 16 sat")]
        assert narrow["overflowed_outputs"] > 0 and narrow["ort_mismatches"] > 0  # peaks need 18-19 bits
        assert by[(net, "acc 16 wrap")]["accuracy"] < narrow["accuracy"]  # wrap-around is the worse failure
        shift = by[(net, "shift-only, pow2 scales")]
        assert shift["accuracy"] > 0.95 and shift["ort_mismatches"] < 0.05 * shift["output_elements"]
    table = mod.markdown_table(rows, 200)
    assert table.count("\n| ") == len(rows) + 1 and "| cnn | acc 16 sat |" in table
    assert np.isfinite([r["cycles_per_image"] for r in rows]).all()
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (plot extra)")
    png = mod.plot(rows, tmp_path / "sweep.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
