"""``inwhale-hw quantize`` then ``inwhale-hw accel run`` end to end, checked against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import built_models, calibration_images, ort_outputs  # noqa: E402

from inwhale_hw.cli import cli  # noqa: E402


def test_quantize_then_accel_run(tmp_path_factory, tmp_path):
    paths = built_models(tmp_path_factory)
    calib = tmp_path / "calib.npy"
    np.save(calib, calibration_images(paths)[:256])
    toml = tmp_path / "ptq.toml"
    toml.write_text('[static]\ncalibration = "entropy"\nper_channel = true\n')
    qdq = tmp_path / "cnn_qdq.onnx"
    r = CliRunner().invoke(cli, ["quantize", str(paths["cnn_float"]), "--calib", str(calib), "--config", str(toml),
                                 "-o", str(qdq)])
    assert r.exit_code == 0, r.output
    assert "entropy" in r.output and qdq.exists()
    out = tmp_path / "out.npy"
    r = CliRunner().invoke(cli, ["accel", "run", str(qdq), "-i", str(paths["x"]), "-o", str(out)])
    assert r.exit_code == 0, r.output
    images = np.load(paths["x"])
    assert np.array_equal(np.load(out), ort_outputs(qdq, {"x": images})[0])
    # the per-channel scales went in: one scale per output channel of the convolution
    import onnx
    from onnx import numpy_helper

    scales = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(qdq)).graph.initializer}
    assert scales["wc_scale"].shape == (8,)


def test_quantize_bad_inputs_are_one_line_errors(tmp_path_factory, tmp_path):
    paths = built_models(tmp_path_factory)
    r = CliRunner().invoke(cli, ["quantize", str(paths["cnn_float"]), "--calib", str(tmp_path / "none.npy"),
                                 "-o", str(tmp_path / "q.onnx")])
    assert r.exit_code == 1 and "calibration data" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[static]\ncalibration = "kl"\n')
    np.save(tmp_path / "c.npy", calibration_images(paths)[:64])
    r = CliRunner().invoke(cli, ["quantize", str(paths["cnn_float"]), "--calib", str(tmp_path / "c.npy"),
                                 "--config", str(bad), "-o", str(tmp_path / "q.onnx")])
    assert r.exit_code == 1 and "'kl'" in r.output
    assert not (tmp_path / "q.onnx").exists()
