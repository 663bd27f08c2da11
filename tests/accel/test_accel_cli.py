"""``inwhale-hw accel run`` end to end on a digits model, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, ort_outputs  # noqa: E402

from inwhale_hw.cli import cli  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    paths = built_models(tmp_path_factory)
    out = tmp_path_factory.mktemp("accel_cli")
    x, y = np.load(paths["x"])[:150], np.load(paths["y"])[:150]
    np.save(out / "x.npy", x)
    np.save(out / "y.npy", y)
    return paths, out, x


def test_run_writes_output_and_report(data):
    paths, out, x = data
    config = out / "accel.toml"
    config.write_text('[accumulator]\nbits = 16\noverflow = "sat"\n[array]\nrows = 8\ncols = 8\n')
    args = ["accel", "run", str(paths["cnn_qdq"]), "--input", str(out / "x.npy"), "-o", str(out / "y_hat.npy"),
            "--config", str(config), "--acc-bits", "32", "--float-model", str(paths["cnn_float"]),
            "--labels", str(out / "y.npy"), "--report", str(out / "report.json")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (theirs,) = ort_outputs(paths["cnn_qdq"], {"x": x})
    assert np.array_equal(np.load(out / "y_hat.npy"), theirs)
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["accumulator"] == {"bits": 32, "overflow": "sat", "track_partials": False}
    assert report["config"]["array"]["rows"] == 8 and report["images"] == 150
    conv = next(layer for layer in report["layers"] if layer["op"] == "QLinearConv")
    assert conv["macs"] == 150 * 64 * 8 * 9 and conv["ort_mismatches"] == 0 and conv["acc_bits_needed"] <= 32
    assert conv["cycles"] == -(-150 * 64 // 8) * 9 + 14  # output-stationary, 8x8 array, K = 9
    assert report["outputs"][0]["ort_mismatches"] == 0 and report["outputs"][0]["accuracy"] > 0.9
    assert "QLinearConv" in result.output and "accuracy" in result.output


def test_narrow_accumulator_and_npz_output(data):
    paths, out, x = data
    args = ["accel", "run", str(paths["res_qoperator"]), "-i", f"x={out / 'x.npy'}", "-o", str(out / "all.npz"),
            "--acc-bits", "12", "--overflow", "wrap", "--weights", "int4", "--no-reference"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert np.load(out / "all.npz")["logits"].shape == (150, 10)
    assert "12 bits wrap" in result.output and "weights int4" in result.output


@pytest.mark.parametrize("extra, message", [
    (["--acc-bits", "99"], "accumulator.bits=99 is not allowed"),
    (["--profile", "tensorrt"], "requantization.profile='tensorrt'"),
    (["--weights", "int16"], "weights.format='int16'"),
])
def test_bad_options_are_one_line_errors(data, extra, message):
    paths, out, _ = data
    result = CliRunner().invoke(cli, ["accel", "run", str(paths["mlp_qdq"]), "-i", str(out / "x.npy"),
                                      "-o", str(out / "never.npy")] + extra)
    assert result.exit_code == 1 and message in result.output
    assert not (out / "never.npy").exists()


def test_unsupported_model_and_bad_output_name(data, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    paths, out, _ = data
    graph = helper.make_graph([helper.make_node("Sin", ["x"], ["y"], name="sm")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph), tmp_path / "sm.onnx")
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    result = CliRunner().invoke(cli, ["accel", "run", str(tmp_path / "sm.onnx"), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")])
    assert result.exit_code == 1 and "unsupported operator 'Sin' (domain 'ai.onnx') in node 'sm' of the quantized model" in result.output
    result = CliRunner().invoke(cli, ["accel", "run", str(paths["mlp_qdq"]), "-i", str(out / "x.npy"), "-o", str(tmp_path / "y.txt")])
    assert result.exit_code == 1 and "must end in .npy or .npz" in result.output


def test_ops_lists_every_supported_operator():
    from inwhale_hw.accel import SUPPORTED

    result = CliRunner().invoke(cli, ["accel", "ops"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(SUPPORTED)
    assert any(line.startswith("com.microsoft.QLinearSoftmax") and "integer" in line and "exact" in line for line in lines)
