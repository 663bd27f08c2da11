"""``inwhale-hw accel sweep``: accelerator design-space exploration over models and data.

A sweep file (TOML; paths relative to it)::

    [models.mlp]                       # one table per model
    model = "digits_mlp_qdq.onnx"      # the quantized model to simulate
    float = "digits_mlp_float.onnx"    # optional: float reference for error and accuracy loss

    [data]
    inputs = "digits_x.npy"            # first axis = images
    labels = "digits_y.npy"            # optional: integer class labels (accuracy)
    shards = 4                         # the images are split into this many tasks per point
    images = 500                       # optional: only the first N images

    [grid]                             # AccelConfig fields; the cartesian product is swept
    acc_bits = [32, 20, 16, 12]
    overflow = ["wrap", "sat"]

    [[variant]]                        # extra single points (a label and AccelConfig fields)
    label = "pow2 weights + shift-only"
    weights = "pow2"
    profile = "shift-only"

    [constraint]
    max_accuracy_loss = 0.005          # for the "best configuration" choice (default 0.5 %)

One task per (point, model, shard) simulates the shard with :func:`inwhale_hw.accel.simulate`
(onnxruntime as the reference when installed) and returns *counts*: images, correct top-1
predictions (ours, float, onnxruntime), top-1 agreements with float, output elements that
differ from onnxruntime, overflowed / clamped accumulator outputs, integer-tensor mismatches,
the sum of squared and the maximum absolute output error against float, cycles, and the
largest accumulator width a layer needed.  Shards merge exactly: counts add, maxima take the
max, accuracy is summed correct over summed images; the merge runs in shard order, so the
table is the same whatever the number of workers.  Workers get the model *bytes* (scattered
once per model) and the shard arrays, never a path or an open handle.

Best configuration per model: among points whose accuracy loss (float accuracy minus ours,
or, without a float model, the first point's accuracy minus ours) is at most the constraint,
the one with the fewest accumulator bits, then the fewest weight bits, then the fewest cycles
per image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InputError, ParameterError
from ..tomlfile import read_toml
from .engine import Engine

__all__ = ["SweepSpec", "SweepPoint", "load_sweep", "run_sweep", "simulate_shard", "merge_counts", "best_points"]

COUNT_KEYS = ("images", "correct", "float_correct", "ort_correct", "agree_float", "ort_mismatches",
              "output_elements", "overflowed", "clamped_low", "clamped_high", "tensor_mismatches", "cycles",
              "float_sq_error", "float_error_elements")
MAX_KEYS = ("max_acc_bits_needed", "float_max_abs_error")


@dataclass(frozen=True)
class SweepPoint:
    """A labelled accelerator configuration (flat AccelConfig field values)."""

    label: str
    fields: tuple[tuple[str, Any], ...]

    def config(self):
        from ..accel import AccelConfig

        return AccelConfig(**dict(self.fields))


@dataclass(frozen=True)
class SweepSpec:
    models: dict[str, tuple[Path, Path | None]]
    inputs: Path
    labels: Path | None
    shards: int
    points: tuple[SweepPoint, ...]
    max_accuracy_loss: float = 0.005
    images: int | None = None


def _config_fields() -> set[str]:
    from ..accel import AccelConfig

    return {f.name for f in fields(AccelConfig)}


def _point(label: str, values: dict[str, Any]) -> SweepPoint:
    allowed = _config_fields()
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ParameterError(f"sweep: {unknown[0]!r} is not an accelerator setting; allowed: {', '.join(sorted(allowed))}")
    point = SweepPoint(label, tuple(sorted(values.items())))
    point.config()  # validates every value now, not in a worker
    return point


def _grid_points(grid: dict[str, Any]) -> list[SweepPoint]:
    import itertools

    keys = list(grid)
    for key in keys:
        if not isinstance(grid[key], list) or not grid[key]:
            raise ParameterError(f"sweep: [grid] {key} must be a non-empty list, not {grid[key]!r}")
    points = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combo))
        points.append(_point(" ".join(f"{k}={v}" for k, v in values.items()) or "default", values))
    return points


def load_sweep(path: str | os.PathLike) -> SweepSpec:
    """Read and check a sweep file (see the module docstring)."""
    data = read_toml(path, "sweep file")
    base = Path(path).resolve().parent
    unknown = sorted(set(data) - {"models", "data", "grid", "variant", "constraint"})
    if unknown:
        raise ParameterError(f"sweep file {path}: unknown section [{unknown[0]}]")
    models = {}
    for name, entry in (data.get("models") or {}).items():
        if not isinstance(entry, dict) or "model" not in entry:
            raise ParameterError(f"sweep file {path}: [models.{name}] needs model = \"file.onnx\"")
        models[name] = (base / entry["model"], base / entry["float"] if entry.get("float") else None)
    if not models:
        raise ParameterError(f"sweep file {path}: no [models.NAME] table")
    section = data.get("data") or {}
    if "inputs" not in section:
        raise ParameterError(f"sweep file {path}: [data] needs inputs = \"file.npy\"")
    shards = section.get("shards", 1)
    if not isinstance(shards, int) or not 1 <= shards <= 100_000:
        raise ParameterError(f"sweep file {path}: shards={shards!r} is not allowed; expected an integer >= 1")
    points = _grid_points(data["grid"]) if data.get("grid") else []
    for variant in data.get("variant") or []:
        values = dict(variant)
        label = str(values.pop("label", "") or " ".join(f"{k}={v}" for k, v in values.items()))
        points.append(_point(label, values))
    if not points:
        points = [_point("default", {})]
    labels = [p.label for p in points]
    if len(set(labels)) != len(labels):
        raise ParameterError(f"sweep file {path}: two points share the label {next(x for x in labels if labels.count(x) > 1)!r}")
    images = section.get("images")
    if images is not None and (not isinstance(images, int) or images < 1):
        raise ParameterError(f"sweep file {path}: images={images!r} is not allowed; expected an integer >= 1")
    loss = (data.get("constraint") or {}).get("max_accuracy_loss", 0.005)
    for p in [m for pair in models.values() for m in pair if m] + [base / section["inputs"]]:
        if not p.is_file():
            raise InputError(f"sweep file {path}: {p} does not exist")
    return SweepSpec(models, base / section["inputs"], base / section["labels"] if section.get("labels") else None,
                     shards, tuple(points), float(loss), images)


def simulate_shard(model: bytes, float_model: bytes | None, x: np.ndarray, y: np.ndarray | None, point: SweepPoint) -> dict[str, Any]:
    """One task: exact counts for one shard (see the module docstring)."""
    import onnx

    from ..accel import simulate

    float_proto = onnx.load_from_string(float_model) if float_model is not None else None
    outputs, report = simulate(onnx.load_from_string(model), x, point.config(), float_model=float_proto, labels=y)
    out, totals, n = report.outputs[0], report.totals(), len(x)
    ours = np.asarray(next(iter(outputs.values())))

    def count(fraction):
        return None if fraction is None else int(round(fraction * n))

    return {
        "images": n, "correct": count(out.accuracy), "float_correct": count(out.float_accuracy),
        "ort_correct": count(out.ort_accuracy), "agree_float": count(out.top1_agreement_float),
        "ort_mismatches": out.ort_mismatches, "output_elements": int(ours.size),
        "overflowed": totals["overflowed"], "clamped_low": totals["clamped_low"], "clamped_high": totals["clamped_high"],
        "tensor_mismatches": totals["ort_mismatches"], "cycles": totals["cycles"],
        "max_acc_bits_needed": totals["max_acc_bits_needed"], "float_max_abs_error": out.float_max_abs_error,
        "float_sq_error": None if out.float_rms_error is None else out.float_rms_error ** 2 * ours.size,
        "float_error_elements": None if out.float_rms_error is None else int(ours.size),
    }


def merge_counts(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge shard counts in the given order: sums and maxima (``None`` stays ``None``)."""
    merged: dict[str, Any] = {}
    for key in COUNT_KEYS:
        values = [p.get(key) for p in parts]
        merged[key] = None if any(v is None for v in values) else sum(values)
    for key in MAX_KEYS:
        values = [p.get(key) for p in parts if p.get(key) is not None]
        merged[key] = max(values) if values else None
    return merged


def _row(model: str, point: SweepPoint, merged: dict[str, Any]) -> dict[str, Any]:
    n = merged["images"]

    def ratio(key):
        return None if merged[key] is None or not n else merged[key] / n

    cfg = point.config()
    sq, count = merged["float_sq_error"], merged["float_error_elements"]
    return {
        "model": model, "point": point.label, "acc_bits": cfg.acc_bits, "overflow": cfg.overflow,
        "profile": cfg.profile, "weights": cfg.weights, "array": f"{cfg.array_rows}x{cfg.array_cols}",
        "images": n, "correct": merged["correct"], "float_correct": merged["float_correct"], "accuracy": ratio("correct"), "float_accuracy": ratio("float_correct"),
        "ort_accuracy": ratio("ort_correct"), "top1_agreement_float": ratio("agree_float"),
        "float_rms_error": None if not count else float(np.sqrt(sq / count)),
        "cycles_per_image": ratio("cycles"), "weight_bits": cfg.weight_bits,
        **{k: merged[k] for k in ("ort_mismatches", "output_elements", "overflowed", "clamped_low", "clamped_high",
                                  "tensor_mismatches", "max_acc_bits_needed", "float_max_abs_error")},
    }


def run_sweep(spec: SweepSpec, engine: Engine, *, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Every point x model, each merged over the shards; rows in (model, point) order."""
    x = np.load(spec.inputs)[: spec.images]
    y = np.load(spec.labels)[: spec.images] if spec.labels else None
    if y is not None and len(y) != len(x):
        raise InputError(f"{spec.labels}: {len(y)} labels for {len(x)} inputs")
    bounds = np.linspace(0, len(x), min(spec.shards, len(x)) + 1).astype(int)
    shards = [(engine.share(x[a:b]), None if y is None else engine.share(y[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
    tasks, index = [], []
    for model, (path, float_path) in spec.models.items():
        blob = engine.share(path.read_bytes())
        float_blob = engine.share(float_path.read_bytes()) if float_path else None
        for p, point in enumerate(spec.points):
            for s, (xs, ys) in enumerate(shards):
                key = f"{model}-{p}-{s}"
                tasks.append((key, (blob, float_blob, xs, ys, point)))
                index.append(key)
    results: dict[str, dict[str, Any]] = {}
    failures = engine.run(simulate_shard, tasks, results.__setitem__,
                          progress=(lambda n: progress(n, len(tasks))) if progress else None)
    if failures:
        raise ParameterError(f"{len(failures)} sweep task(s) failed; first: {failures[0].key}: {failures[0].error}")
    rows = []
    for model in spec.models:
        for p, point in enumerate(spec.points):
            parts = [results[f"{model}-{p}-{s}"] for s in range(len(shards))]
            rows.append(_row(model, point, merge_counts(parts)))
    return rows


def best_points(rows: Sequence[dict[str, Any]], max_loss: float) -> list[dict[str, Any]]:
    """Per model, the cheapest point within ``max_loss`` accuracy loss (module docstring).

    The loss is computed from the correct counts, exactly: ``(reference correct - correct) /
    images`` compared with ``max_loss`` as a decimal fraction; each row gets its
    ``accuracy_loss``.
    """
    from fractions import Fraction

    limit = Fraction(str(max_loss))
    best = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        if mine[0]["correct"] is None:
            continue
        losses = []
        for r in mine:
            reference = r["float_correct"] if r["float_correct"] is not None else mine[0]["correct"]
            losses.append(Fraction(reference - r["correct"], r["images"]))
            r["accuracy_loss"] = (reference - r["correct"]) / r["images"]
        ok = [r for r, loss in zip(mine, losses) if loss <= limit]
        if ok:
            choice = min(ok, key=lambda r: (r["acc_bits"], r["weight_bits"], r["cycles_per_image"]))
            best.append({"model": model, "point": choice["point"], "accuracy": choice["accuracy"],
                         "accuracy_loss": choice["accuracy_loss"], "acc_bits": choice["acc_bits"],
                         "weights": choice["weights"], "max_accuracy_loss": max_loss})
        else:
            best.append({"model": model, "point": None, "max_accuracy_loss": max_loss})
    return best
