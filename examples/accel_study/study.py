"""Accelerator design study on scikit-learn's 8x8 digits: what an integer datapath computes.

Run ``python examples/accel_study/study.py --out study_out`` (about a minute).  Steps:

1. :func:`build` trains the MLP, the CNN and the residual CNN of :mod:`digits_models`, exports
   them to ONNX and quantizes them with onnxruntime's ``quantize_static`` (QDQ and QOperator).
2. :func:`exactness` simulates every model in both forms with 32-bit wrapping accumulators and
   the ``onnxruntime`` requantization profile on all 1797 images and counts the elements that
   differ from onnxruntime (the claim: none, in the outputs and in every integer tensor).
3. :func:`sweep` runs ``sweep.toml`` (beside this file) through :mod:`inwhale_hw.scale`, the
   engine of ``inwhale-hw accel sweep`` (a local Dask cluster, a cluster by address, or serial):
   one design choice at a time on the QDQ models: accumulator width
   (32, 20, 16, 12 bits) with wrap-around or saturation; the ``shift-only`` requantization
   with every scale rounded to the nearest power of two (log domain); int4 and 4-bit
   power-of-two weights (per-channel symmetric, re-fitted from the float weights the model
   implies); and the fully multiplier-free combination (pow2 weights + shift-only).
   Mismatches count output elements that differ from onnxruntime running the same rewritten
   model (so they measure the datapath, not the weight format).
4. :func:`inwhale_hw.scale.sweep_report.write_sweep_outputs` writes ``sweep/sweep.md``,
   ``sweep.csv``, ``best.md`` and ``sweep.png`` (matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import digits_models  # noqa: E402

from inwhale_hw.accel import AccelConfig, simulate  # noqa: E402
from inwhale_hw.audio.atomic import atomic_write_text  # noqa: E402
from inwhale_hw.scale.engine import Engine, open_engine  # noqa: E402
from inwhale_hw.scale.sweep import best_points, load_sweep, run_sweep  # noqa: E402
from inwhale_hw.scale.sweep_report import write_sweep_outputs  # noqa: E402

NETS = ("mlp", "cnn", "res")
FORMS = ("qdq", "qoperator")
SWEEP_FILE = Path(__file__).resolve().with_name("sweep.toml")


def build(out_dir: Path, rebuild: bool = False) -> dict[str, Path]:
    """Model and data paths in ``out_dir``, trained and quantized unless already there."""
    names = [f"{n}_{f}" for n in NETS for f in ("float",) + FORMS]
    paths = {name: out_dir / f"digits_{name}.onnx" for name in names}
    paths["x"], paths["y"] = out_dir / "digits_x.npy", out_dir / "digits_y.npy"
    if rebuild or not all(p.exists() for p in paths.values()):
        digits_models.build_all(out_dir)
    return paths


def exactness(paths: dict[str, Path], n_images: int | None = None) -> list[dict]:
    """Per model and form: images, output elements and integer-tensor elements that differ
    from onnxruntime (32-bit wrapping accumulators, profile ``onnxruntime``)."""
    x = np.load(paths["x"])[:n_images]
    rows = []
    for net in NETS:
        for form in FORMS:
            _, report = simulate(paths[f"{net}_{form}"], x, AccelConfig())
            layers = [layer for layer in report.layers if layer.ort_compared]
            rows.append({
                "model": net, "form": form, "images": len(x),
                "output_mismatches": report.outputs[0].ort_mismatches,
                "tensor_mismatches": sum(layer.ort_mismatches for layer in layers),
                "tensor_elements": sum(layer.ort_compared for layer in layers),
            })
    return rows


def sweep(paths: dict[str, Path], sweep_file: Path = SWEEP_FILE, n_images: int | None = None,
          engine: Engine | None = None) -> tuple[list[dict], list[dict]]:
    """Run ``sweep_file`` (copied beside the built models) through :mod:`inwhale_hw.scale`;
    returns the sweep rows and the best point per model."""
    target = paths["x"].parent / "sweep.toml"
    if sweep_file.resolve() != target.resolve():
        shutil.copyfile(sweep_file, target)
    spec = load_sweep(target)
    if n_images is not None:
        spec = dataclasses.replace(spec, images=n_images)
    with contextlib.ExitStack() as stack:
        engine = engine or stack.enter_context(open_engine(serial=True))
        rows = run_sweep(spec, engine)
    return rows, best_points(rows, spec.max_accuracy_loss)


def exactness_table(rows: list[dict]) -> str:
    lines = ["| model | form | images | output elements differing | integer-tensor elements differing |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['form']} | {r['images']} | {r['output_mismatches']} | "
                     f"{r['tensor_mismatches']} of {r['tensor_elements']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("accel_study_out"), help="output directory")
    parser.add_argument("--images", type=int, default=None, help="use only the first N images (default: all 1797)")
    parser.add_argument("--rebuild", action="store_true", help="retrain and requantize even if the models exist")
    parser.add_argument("--scheduler", default=None, help="a running Dask scheduler (default: a local cluster)")
    parser.add_argument("--serial", action="store_true", help="run the sweep in this process")
    args = parser.parse_args(argv)
    paths = build(args.out, args.rebuild)
    exact = exactness(paths, args.images)
    atomic_write_text(args.out / "exactness.md", exactness_table(exact))
    print(exactness_table(exact))
    with open_engine(args.scheduler, serial=args.serial) as engine:
        rows, best = sweep(paths, n_images=args.images, engine=engine)
    written = write_sweep_outputs(rows, best, args.out / "sweep")
    atomic_write_text(args.out / "sweep.json", json.dumps({"exactness": exact, "sweep": rows, "best": best}, indent=2) + "\n")
    print(written["sweep.md"].read_text())
    print(written["best.md"].read_text())
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
