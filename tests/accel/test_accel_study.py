"""The example study (examples/accel_study/study.py): its exactness claim on all 1797 images,
a reduced sweep, the Markdown table and the plot."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the study needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, example  # noqa: E402

from inwhale_hw.scale.sweep import load_sweep  # noqa: E402
from inwhale_hw.scale.sweep_report import write_sweep_outputs  # noqa: E402


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


REDUCED = """[models.mlp]\nmodel = "digits_mlp_qdq.onnx"\nfloat = "digits_mlp_float.onnx"
[models.cnn]\nmodel = "digits_cnn_qdq.onnx"\nfloat = "digits_cnn_float.onnx"
[models.res]\nmodel = "digits_res_qdq.onnx"\nfloat = "digits_res_float.onnx"
[data]\ninputs = "digits_x.npy"\nlabels = "digits_y.npy"\nshards = 2
[grid]\nacc_bits = [32, 16]\noverflow = ["wrap", "sat"]
[[variant]]\nlabel = "shift-only, pow2 scales"\nprofile = "shift-only"
[[variant]]\nlabel = "int4 weights"\nweights = "int4"
[[variant]]\nlabel = "pow2 weights"\nweights = "pow2"
"""


def test_study_sweep_file_covers_the_study(study, tmp_path):
    mod, paths = study
    target = paths["x"].parent / "sweep.toml"
    shutil.copyfile(mod.SWEEP_FILE, target)
    spec = load_sweep(target)
    assert list(spec.models) == ["mlp", "cnn", "res"] and spec.shards == 4
    labels = [p.label for p in spec.points]
    assert labels[:8] == [f"acc_bits={b} overflow={o}" for b in (32, 20, 16, 12) for o in ("wrap", "sat")]
    assert labels[8:] == ["shift-only, pow2 scales", "int4 weights", "pow2 weights", "pow2 weights + shift-only",
                          "pow2 weights + shift-only, acc 16 sat"]


def test_reduced_sweep_table_and_plot(study, tmp_path):
    mod, paths = study
    reduced = tmp_path / "reduced.toml"
    reduced.write_text(REDUCED)
    rows, best = mod.sweep(paths, reduced, n_images=200)
    by = {(r["model"], r["point"]): r for r in rows}
    for net in ("mlp", "cnn", "res"):
        base = by[(net, "acc_bits=32 overflow=wrap")]
        assert base["ort_mismatches"] == 0 and base["overflowed"] == 0 and base["accuracy"] > 0.95
        assert by[(net, "int4 weights")]["ort_mismatches"] == 0 and by[(net, "pow2 weights")]["ort_mismatches"] == 0
        narrow = by[(net, "acc_bits=16 overflow=sat")]
        assert narrow["overflowed"] > 0 and narrow["ort_mismatches"] > 0  # peaks need 18-19 bits
        assert by[(net, "acc_bits=16 overflow=wrap")]["accuracy"] < narrow["accuracy"]  # wrap-around is the worse failure
        shift = by[(net, "shift-only, pow2 scales")]
        assert shift["accuracy"] > 0.95 and shift["ort_mismatches"] < 0.05 * shift["output_elements"]
    assert [b["model"] for b in best] == ["mlp", "cnn", "res"]
    assert all(b["point"] is None or b["accuracy_loss"] <= 0.005 for b in best), best
    written = write_sweep_outputs(rows, best, tmp_path / "out")
    table = written["sweep.md"].read_text()
    assert table.startswith("| model | point |") and table.count("\n| ") == len(rows)  # header, then one line a row
    assert "| cnn | acc_bits=16 overflow=sat |" in table
    assert np.isfinite([r["cycles_per_image"] for r in rows]).all()
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (plot extra)")
    data = written["sweep.png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
