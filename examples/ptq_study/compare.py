"""Compare calibration methods of inwhale_hw.ptq on the digits models (table for the README).

For each model (MLP, CNN, residual CNN) and method: accuracy on all 1797 images through our
simulator, the widest accumulator any layer needs (bits), the simulator's mismatching output
elements against onnxruntime running the same QDQ model, and, for the methods onnxruntime also
has (MinMax, Percentile, Entropy), the number of initializers that differ from
``quantize_static``'s (0 = byte-identical).  Calibration: the first 1792 images in batches of 64,
the float graph run by onnxruntime without graph optimizations (the calibrator's setting).

    python examples/ptq_study/compare.py --out examples/ptq_study/results.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "accel_study"))

METHODS = ("minmax", "percentile", "entropy", "mse", "moving_average")


def ort_runner(proto, names):
    import onnxruntime as ort

    from inwhale_hw.ptq import observed_model

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(observed_model(proto, names).SerializeToString(), so, providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]
    return lambda feeds: dict(zip(outs, sess.run(None, feeds)))


def ort_reference(float_path: Path, x: np.ndarray, method: str, out: Path):
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    class Reader:
        def __init__(self):
            self.it = iter([{"x": x[i : i + 64]} for i in range(0, len(x), 64)])

        def get_next(self):
            return next(self.it, None)

    cm = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
          "entropy": CalibrationMethod.Entropy}[method]
    quantize_static(str(float_path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=cm)
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(out)).graph.initializer}


def main() -> None:
    import digits_models
    from onnx import numpy_helper

    from inwhale_hw.accel import simulate
    from inwhale_hw.ptq import PTQConfig, quantize

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = ["| model | method | accuracy | float accuracy | acc. bits needed | sim. mismatches vs ORT | initializers differing from quantize_static |",
            "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = digits_models.build_all(Path(tmp))
        x_all, y_all = np.load(Path(tmp) / "digits_x.npy"), np.load(Path(tmp) / "digits_y.npy")
        calib = x_all[: (len(x_all) // 64) * 64]
        for name in ("mlp", "cnn", "res"):
            float_path = paths[f"{name}_float"]
            for method in METHODS:
                q = quantize(float_path, calib, PTQConfig(calibration=method), runner=ort_runner)
                _, rep = simulate(q, {"x": x_all}, labels=y_all, float_model=float_path)
                o = rep.outputs[0]
                bits = max((layer.acc_bits_needed or 0) for layer in rep.layers)
                diff = "n/a (no ORT method)"
                if method in ("minmax", "percentile", "entropy"):
                    ref = ort_reference(float_path, calib, method, Path(tmp) / "ref.onnx")
                    ours = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
                    diff = str(sum(k not in ours or ours[k].tobytes() != v.tobytes() for k, v in ref.items())
                               + len(set(ours) - set(ref)))
                rows.append(f"| {name} | {method} | {o.accuracy:.4f} | {o.float_accuracy:.4f} | {bits} | "
                            f"{o.ort_mismatches} / {o.shape[0] * o.shape[1]} | {diff} |")
                print(rows[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
