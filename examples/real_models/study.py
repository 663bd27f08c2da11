"""Real-model study: third-party architectures (ResNet, SqueezeNet, MobileNetV3, DenseNet, a
transformer encoder block; :mod:`nets`) quantized by onnxruntime and run on the simulator.

Run ``python examples/real_models/study.py --out real_out`` (``--scale 4 --size 64`` for
ImageNet-like widths; the defaults take about a minute on one core).  Nothing is downloaded:
the networks are built from their published block structure with seeded random weights.

For every network and quantization (static QDQ per-tensor uint8, QDQ per-channel int8,
QOperator per-channel uint8, dynamic) the study records:

* exactness: integer tensors and output elements that differ from onnxruntime (versions
  recorded), the largest float difference of the output;
* the operator mix the simulator ran (after onnxruntime-style QDQ fusion);
* the accumulator bits each MAC layer needs (peak of the exact sums) and its bound;
* the cost of narrow accumulators: 16 and 20 bits, wrap-around vs saturation, as output error
  against the 32-bit result (max |diff| relative to the output range) and overflow counts.

Writes ``results.json`` and ``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nets  # noqa: E402

from inwhale_hw.accel import AccelConfig, simulate  # noqa: E402
from inwhale_hw.audio.atomic import atomic_write_text  # noqa: E402

MODES = (("qdq", False, "uint8"), ("qdq", True, "int8"), ("qoperator", True, "uint8"), ("dynamic", False, "uint8"))
NARROW = tuple(AccelConfig(acc_bits=b, overflow=p) for b in (20, 16) for p in ("wrap", "sat"))


def study_one(qpath: Path, fpath: Path, x: np.ndarray) -> dict:
    outputs, report = simulate(qpath, x, float_model=fpath)
    ints = [layer for layer in report.layers if layer.ort_compared and "int" in layer.dtype]
    out = report.outputs[0]
    ref = outputs[next(iter(outputs))].astype(np.float64)
    span = float(np.ptp(ref)) or 1.0
    row = {
        "versions": report.versions,
        "int_tensor_mismatches": sum(layer.ort_mismatches for layer in ints),
        "int_elements_compared": sum(layer.ort_compared for layer in ints),
        "output_mismatches": out.ort_mismatches,
        "output_max_abs_diff": out.ort_max_abs_diff,
        "float_model_max_abs_error": out.float_max_abs_error,
        "ops": dict(Counter(layer.op for layer in report.layers)),
        "mac_layers": [{"name": layer.name, "op": layer.op, "macs": layer.macs, "bits_needed": layer.acc_bits_needed,
                        "bound_bits": layer.acc_bound_bits} for layer in report.layers if layer.engine == "mac"],
        "narrow": {},
    }
    for config in NARROW:
        narrow_out, narrow = simulate(qpath, x, config, reference=False)
        y = narrow_out[next(iter(narrow_out))].astype(np.float64)
        row["narrow"][f"{config.acc_bits} {config.overflow}"] = {
            "overflowed": narrow.totals()["overflowed"],
            "output_max_rel_error": float(np.abs(y - ref).max()) / span,
        }
    return row


def run(out_dir: Path, scale: int, size: int, images: int) -> dict:
    logging.getLogger().setLevel(logging.ERROR)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    for name, builder in nets.BUILDERS.items():
        kwargs = {"scale": scale, "size": 8 if name == "transformer" else size}
        fpath = out_dir / f"{name}.onnx"
        onnx.save(builder(**kwargs), fpath)
        x = np.concatenate(nets.calibration(onnx.load(str(fpath)), images, seed=99))
        if name == "transformer" or images == 1:
            x = x[:1]
        for mode, per_channel, act in MODES:
            label = f"{mode}{' per-channel' if per_channel else ''} {act}"
            qpath = nets.quantize(fpath, out_dir / f"{name}_{mode}_{int(per_channel)}_{act}.onnx", mode, per_channel, act)
            results.setdefault(name, {})[label] = study_one(qpath, fpath, x[:1])
            print(f"{name:12s} {label:24s} int mismatches {results[name][label]['int_tensor_mismatches']}"
                  f"/{results[name][label]['int_elements_compared']}, output {results[name][label]['output_mismatches']}",
                  flush=True)
    return results


def markdown(results: dict) -> str:
    lines = ["| network | quantization | int mismatches / compared | output mismatches (max abs diff) | max acc bits | "
             "16 wrap err | 16 sat err | 20 wrap err | 20 sat err |", "|" + "---|" * 9]
    for name, modes in results.items():
        for label, r in modes.items():
            bits = max((m["bits_needed"] or 0 for m in r["mac_layers"]), default=0)
            errs = [r["narrow"][k]["output_max_rel_error"] for k in ("16 wrap", "16 sat", "20 wrap", "20 sat")]
            lines.append(f"| {name} | {label} | {r['int_tensor_mismatches']} / {r['int_elements_compared']} | "
                         f"{r['output_mismatches']} ({r['output_max_abs_diff']:.3g}) | {bits} | " + " | ".join(f"{e:.3g}" for e in errs) + " |")
    versions = next(iter(next(iter(results.values())).values()))["versions"]
    lines.append("")
    lines.append("compared against " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("real_models_out"))
    parser.add_argument("--scale", type=int, default=1, help="channel multiplier (4 ~ ImageNet widths / 8)")
    parser.add_argument("--size", type=int, default=32, help="input height and width of the CNNs")
    parser.add_argument("--images", type=int, default=1)
    args = parser.parse_args(argv)
    results = run(args.out, args.scale, args.size, args.images)
    atomic_write_text(args.out / "results.json", json.dumps(results, indent=2) + "\n")
    atomic_write_text(args.out / "results.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
