"""What ``inwhale-hw accel sweep`` writes: the sweep table, the best points and a plot.

``OUT/sweep.csv`` / ``OUT/sweep.parquet`` (every column of every row), ``OUT/sweep.md`` (the
columns a reader compares), ``OUT/best.md`` (per model, the cheapest point within the
accuracy constraint, rule in :mod:`.sweep`) and ``OUT/sweep.png``: accuracy against
accumulator width for every series of points that differ only in width (one line per model,
overflow policy, profile and weight format), and a bar chart of the remaining points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..audio.atomic import atomic_path, atomic_write_text
from .tables import markdown, parquet_available, write_csv, write_parquet

__all__ = ["write_sweep_outputs", "SWEEP_COLUMNS"]

SWEEP_COLUMNS = ("model", "point", "acc_bits", "overflow", "profile", "weights", "images", "accuracy",
                 "float_accuracy", "accuracy_loss", "top1_agreement_float", "overflowed", "clamped_high",
                 "ort_mismatches", "output_elements", "max_acc_bits_needed", "cycles_per_image")


def _plot(rows: Sequence[dict[str, Any]], path: Path) -> Path | None:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        series.setdefault((r["model"], r["overflow"], r["profile"], r["weights"]), []).append(r)
    lines = {k: v for k, v in series.items() if len({r["acc_bits"] for r in v}) > 1}
    others = [r for k, v in series.items() if k not in lines for r in v]
    fig, axes = plt.subplots(1, 2 if others else 1, figsize=(12 if others else 7, 4.5), squeeze=False)
    left = axes[0][0]
    models = list(dict.fromkeys(r["model"] for r in rows))
    for (model, overflow, profile, weights), members in lines.items():
        pts = sorted((r["acc_bits"], r["accuracy"]) for r in members if r["accuracy"] is not None)
        if pts:
            style = "-o" if overflow == "wrap" else "--s"
            left.plot(*zip(*pts), style, color=f"C{models.index(model) % 10}", label=f"{model} {overflow} {profile} {weights}")
    left.set_xticks(sorted({r["acc_bits"] for members in lines.values() for r in members}))
    left.set_xlabel("accumulator bits")
    left.set_ylabel("accuracy")
    left.invert_xaxis()
    left.grid(alpha=0.3)
    if lines:
        left.legend(fontsize=7)
    if others:
        right = axes[0][1]
        labels = list(dict.fromkeys(r["point"] for r in others))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            acc = [next((r["accuracy"] for r in others if r["model"] == model and r["point"] == p), np.nan) for p in labels]
            right.bar(np.arange(len(labels)) + i * width, [np.nan if a is None else a for a in acc], width,
                      color=f"C{i % 10}", label=model)
        right.set_xticks(np.arange(len(labels)) + width * (len(models) - 1) / 2)
        right.set_xticklabels(labels, fontsize=7, rotation=20, ha="right")
        low = min((r["accuracy"] for r in others if r["accuracy"] is not None), default=0.0)
        right.set_ylim(max(0.0, np.floor(low * 20) / 20 - 0.05), 1.0)
        right.set_ylabel("accuracy")
        right.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


def write_sweep_outputs(rows: Sequence[dict[str, Any]], best: Sequence[dict[str, Any]], out_dir) -> dict[str, Path]:
    """Write the files of the module docstring; return them by name."""
    out = Path(out_dir)
    out.mkdir(exist_ok=True)  # the command's own output directory; a missing parent is refused
    written = {"sweep.csv": write_csv(out / "sweep.csv", rows, SWEEP_COLUMNS)}
    if parquet_available():
        written["sweep.parquet"] = write_parquet(out / "sweep.parquet", rows, SWEEP_COLUMNS)
    atomic_write_text(out / "sweep.md", markdown(rows, [c for c in SWEEP_COLUMNS if any(c in r for r in rows)]))
    written["sweep.md"] = out / "sweep.md"
    best_cols = ["model", "point", "accuracy", "accuracy_loss", "acc_bits", "weights", "max_accuracy_loss"]
    atomic_write_text(out / "best.md", markdown(best, best_cols))
    written["best.md"] = out / "best.md"
    png = _plot(rows, out / "sweep.png")
    if png:
        written["sweep.png"] = png
    return written
