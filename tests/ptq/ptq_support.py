"""Shared helpers of the PTQ tests: the digits models (built once, see tests/accel) and an
onnxruntime calibration runner configured as onnxruntime's own calibrators run (no graph
optimizations), so that both quantizers see the same float32 activations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "accel"))

from accel_models import built_models, ort_outputs  # noqa: E402

__all__ = ["built_models", "ort_outputs", "ort_runner", "BATCH", "calibration_images", "OrtReader"]

#: calibration batch size; the images are cut to a multiple of it (onnxruntime's histogram
#: calibrators stack all batches into one array, which needs equal batch shapes)
BATCH = 64


def calibration_images(paths) -> np.ndarray:
    x = np.load(paths["x"])
    return x[: (len(x) // BATCH) * BATCH]


class OrtReader:
    """onnxruntime CalibrationDataReader over the same batches."""

    def __init__(self, x: np.ndarray):
        self._it = iter([{"x": x[i : i + BATCH]} for i in range(0, len(x), BATCH)])

    def get_next(self):
        return next(self._it, None)


def ort_runner(proto, names):
    """runner(feeds) -> every observed tensor, computed by onnxruntime with optimizations off."""
    import onnxruntime as ort

    from inwhale_hw.ptq import observed_model

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(observed_model(proto, names).SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]
    return lambda feeds: dict(zip(outs, sess.run(None, feeds)))
