"""Accelerator design study on scikit-learn's 8x8 digits: what an integer datapath computes.

Run ``python examples/accel_study/study.py --out study_out`` (about a minute).  Steps:

1. :func:`build` trains the MLP, the CNN and the residual CNN of :mod:`digits_models`, exports
   them to ONNX and quantizes them with onnxruntime's ``quantize_static`` (QDQ and QOperator).
2. :func:`exactness` simulates every model in both forms with 32-bit wrapping accumulators and
   the ``onnxruntime`` requantization profile on all 1797 images and counts the elements that
   differ from onnxruntime (the claim: none, in the outputs and in every integer tensor).
3. :func:`sweep` varies one design choice at a time on the QDQ models: accumulator width
   (32, 20, 16, 12 bits) with wrap-around or saturation; the ``shift-only`` requantization
   with every scale rounded to the nearest power of two (log domain); int4 and 4-bit
   power-of-two weights (per-channel symmetric, re-fitted from the float weights the model
   implies); and the fully multiplier-free combination (pow2 weights + shift-only).
   Mismatches count output elements that differ from onnxruntime running the same rewritten
   model (so they measure the datapath, not the weight format).
4. :func:`markdown_table` and :func:`plot` (matplotlib, the ``plot`` extra) write the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import digits_models  # noqa: E402

from inwhale_hw.accel import AccelConfig, simulate  # noqa: E402
from inwhale_hw.audio.atomic import atomic_path, atomic_write_text  # noqa: E402

NETS = ("mlp", "cnn", "res")
FORMS = ("qdq", "qoperator")


@dataclass(frozen=True)
class Variant:
    """One point of the sweep: a label and the configuration it simulates."""

    label: str
    config: AccelConfig


def sweep_variants() -> list[Variant]:
    """The sweep: accumulator width x overflow policy, then requantization and weight formats."""
    out = [Variant(f"acc {bits} {policy}", AccelConfig(acc_bits=bits, overflow=policy))
           for bits in (32, 20, 16, 12) for policy in ("wrap", "sat")]
    out += [
        Variant("shift-only, pow2 scales", AccelConfig(profile="shift-only")),
        Variant("int4 weights", AccelConfig(weights="int4")),
        Variant("pow2 weights", AccelConfig(weights="pow2")),
        Variant("pow2 weights + shift-only", AccelConfig(weights="pow2", profile="shift-only")),
        Variant("pow2 weights + shift-only, acc 16 sat", AccelConfig(weights="pow2", profile="shift-only", acc_bits=16, overflow="sat")),
    ]
    return out


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


def sweep(paths: dict[str, Path], variants: list[Variant] | None = None, nets=NETS, form: str = "qdq",
          n_images: int | None = None) -> list[dict]:
    """One row per (model, variant): accuracy, agreement with float, overflow and mismatch counts."""
    x, y = np.load(paths["x"])[:n_images], np.load(paths["y"])[:n_images]
    rows = []
    for net in nets:
        for v in variants or sweep_variants():
            _, report = simulate(paths[f"{net}_{form}"], x, v.config, float_model=paths[f"{net}_float"], labels=y)
            out, totals = report.outputs[0], report.totals()
            rows.append({
                "model": net, "variant": v.label, "acc_bits": v.config.acc_bits, "overflow": v.config.overflow,
                "profile": v.config.profile, "weights": v.config.weights,
                "accuracy": out.accuracy, "float_accuracy": out.float_accuracy,
                "top1_agreement_float": out.top1_agreement_float, "overflowed_outputs": totals["overflowed"],
                "saturated_outputs": totals["clamped_high"], "ort_mismatches": out.ort_mismatches,
                "output_elements": int(np.prod(out.shape)), "max_acc_bits_needed": totals["max_acc_bits_needed"],
                "cycles_per_image": totals["cycles_per_image"],
            })
    return rows


def markdown_table(rows: list[dict], images: int) -> str:
    """The sweep as a Markdown table."""
    lines = [
        f"Digits ({images} images), QDQ models quantized by onnxruntime, simulated with inwhale_hw.accel "
        "(16x16 output-stationary MAC array). *ovf*: outputs whose accumulator left its range at least "
        "once; *sat*: outputs clamped at the top of the uint8 range; *mism*: output elements that differ "
        "from onnxruntime running the same (rewritten) model.",
        "",
        "| model | variant | accuracy | float acc. | top-1 = float | ovf | sat | mism | acc. bits needed | cycles/image |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['variant']} | {r['accuracy']:.2%} | {r['float_accuracy']:.2%} | "
            f"{r['top1_agreement_float']:.2%} | {r['overflowed_outputs']} | {r['saturated_outputs']} | "
            f"{r['ort_mismatches']}/{r['output_elements']} | {r['max_acc_bits_needed']} | {r['cycles_per_image']:.0f} |")
    return "\n".join(lines) + "\n"


def exactness_table(rows: list[dict]) -> str:
    lines = ["| model | form | images | output elements differing | integer-tensor elements differing |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['form']} | {r['images']} | {r['output_mismatches']} | "
                     f"{r['tensor_mismatches']} of {r['tensor_elements']} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> Path:
    """Accuracy against accumulator width (wrap and sat) and per design variant at 32 bits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nets = sorted({r["model"] for r in rows}, key=list(NETS).index)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    for i, net in enumerate(nets):
        for policy, style in (("wrap", "-o"), ("sat", "--s")):
            pts = sorted((r["acc_bits"], r["accuracy"]) for r in rows
                         if r["model"] == net and r["variant"] == f"acc {r['acc_bits']} {policy}")
            if pts:
                left.plot(*zip(*pts), style, color=f"C{i}", label=f"{net} {policy}")
    left.set_xticks(sorted({r["acc_bits"] for r in rows}))
    left.set_xlabel("accumulator bits")
    left.set_ylabel("accuracy")
    left.set_title("Accumulator width (int8 weights, onnxruntime requantization)")
    left.invert_xaxis()
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    others = [v for v in dict.fromkeys(r["variant"] for r in rows) if not v.startswith("acc ") or v == "acc 32 wrap"]
    width = 0.8 / max(len(nets), 1)
    for i, net in enumerate(nets):
        acc = [next((r["accuracy"] for r in rows if r["model"] == net and r["variant"] == v), np.nan) for v in others]
        right.bar(np.arange(len(others)) + i * width, acc, width, color=f"C{i}", label=net)
    right.set_xticks(np.arange(len(others)) + width * (len(nets) - 1) / 2)
    right.set_xticklabels([v.replace(", ", ",\n").replace(" + ", " +\n") for v in others], fontsize=7)
    low = min(r["accuracy"] for r in rows if r["variant"] in others)
    right.set_ylim(max(0.0, np.floor(low * 20) / 20 - 0.05), 1.0)
    right.set_ylabel("accuracy")
    right.set_title("Requantization and weight formats")
    right.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("accel_study_out"), help="output directory")
    parser.add_argument("--images", type=int, default=None, help="use only the first N images (default: all 1797)")
    parser.add_argument("--rebuild", action="store_true", help="retrain and requantize even if the models exist")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (needs matplotlib, the plot extra)")
    args = parser.parse_args(argv)
    paths = build(args.out, args.rebuild)
    exact = exactness(paths, args.images)
    rows = sweep(paths, n_images=args.images)
    images = len(np.load(paths["x"])[: args.images])
    atomic_write_text(args.out / "exactness.md", exactness_table(exact))
    atomic_write_text(args.out / "sweep.md", markdown_table(rows, images))
    atomic_write_text(args.out / "sweep.json", json.dumps({"exactness": exact, "sweep": rows}, indent=2) + "\n")
    print(exactness_table(exact))
    print(markdown_table(rows, images))
    if not args.no_plot:
        print(f"plot: {plot(rows, args.out / 'sweep.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
