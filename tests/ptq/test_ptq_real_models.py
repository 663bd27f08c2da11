"""Byte identity with quantize_static (onnxruntime 1.32.0) on the deployed-architecture nets of
examples/real_models (ResNet, SqueezeNet, MobileNetV3, DenseNet with BatchNormalization, a
transformer block with LayerNormalization), small widths, 8 seeded calibration inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")

from ptq_support import ort_runner  # noqa: E402

from inwhale_hw.accel import simulate  # noqa: E402
from inwhale_hw.ptq import PTQConfig, prepare  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "real_models"))


@pytest.mark.parametrize("net", ["resnet", "squeezenet", "mobilenetv3", "densenet", "transformer"])
@pytest.mark.parametrize("method", ["minmax", "entropy", "percentile"])
def test_real_nets_same_bytes_as_quantize_static(tmp_path, net, method):
    import nets
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    model = getattr(nets, net)()
    fp = tmp_path / f"{net}.onnx"
    onnx.save(model, fp)
    cal = nets.calibration(model, 8)
    name = model.graph.input[0].name

    class Reader:
        def __init__(self):
            self.it = iter([{name: c} for c in cal])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(fp), str(tmp_path / "ref.onnx"), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method={"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                                      "percentile": CalibrationMethod.Percentile}[method])
    ref = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "ref.onnx")).graph.initializer}
    q = prepare(fp, PTQConfig(calibration=method), [{name: c} for c in cal], runner=ort_runner).convert()
    ours = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    assert set(ours) == set(ref)
    for key in ref:
        assert ours[key].dtype == ref[key].dtype and ours[key].tobytes() == ref[key].tobytes(), key
    out, report = simulate(q, {name: cal[0]})
    assert report.outputs[0].ort_mismatches == 0
    assert np.isfinite(out[q.graph.output[0].name]).all()
