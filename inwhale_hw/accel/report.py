"""Per-layer and per-output results of a simulation, as a text table and as JSON.

Per layer (:class:`LayerStats`): engine, output shape, MACs, estimated cycles
(:mod:`inwhale_hw.accel.cycles`), accumulator peak magnitude and the signed bits it needs
(over final sums, or over every partial sum with ``track_partials``), the static worst-case
bits, outputs whose accumulator overflowed at least once (``ovf``; under ``sat`` each is a
saturation event in the accumulator), outputs clamped at requantization to the low end
(``clip-``: for a layer whose ReLU the quantizer folded into a zero point at the type's
minimum, this is that ReLU) and to the high end (``clip+``: real saturation) of the output
type, and elements differing from onnxruntime's tensor of the same name (``mism``).

Per output (:class:`OutputStats`): mismatches against onnxruntime, error against the float
model (max absolute and RMS), top-1 agreement, and accuracy when labels are given.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.atomic import atomic_write_text
from .config import AccelConfig
from .context import OpResult
from .cycles import utilization
from .graph import Op

__all__ = ["LayerStats", "OutputStats", "Report"]


@dataclass
class LayerStats:
    """Statistics of one op (see the module docstring)."""

    name: str
    op: str
    origin: str
    engine: str
    shape: list[int]
    dtype: str
    macs: int
    cycles: int
    acc_peak: int | None = None
    acc_bits_needed: int | None = None
    acc_bound_bits: int | None = None
    acc_peak_is_partial: bool | None = None
    overflowed: int | None = None
    out_of_range: int | None = None
    clamped_low: int | None = None
    clamped_high: int | None = None
    ort_mismatches: int | None = None
    ort_compared: int | None = None
    ort_max_abs_diff: float | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_result(cls, op: Op, result: OpResult, cycles: int, seconds: float) -> "LayerStats":
        out = result.outputs[0]
        stats = cls(op.name, op.kind, op.origin, result.engine, list(out.shape), str(out.dtype),
                    int(result.macs), int(cycles), seconds=seconds, notes=list(result.notes))
        if result.clamped is not None:
            stats.clamped_low, stats.clamped_high = (int(v) for v in result.clamped)
        if result.acc is not None:
            a = result.acc
            stats.acc_peak, stats.acc_bits_needed, stats.acc_bound_bits = int(a.peak), int(a.bits_needed), int(a.bound_bits)
            stats.acc_peak_is_partial = bool(a.peak_is_partial)
            stats.overflowed, stats.out_of_range = int(a.overflowed), int(a.final_out_of_range)
        return stats

    def set_reference(self, ours: np.ndarray, theirs: np.ndarray) -> None:
        """Record the element-wise comparison with onnxruntime's tensor."""
        if ours.shape != theirs.shape:
            self.ort_mismatches, self.ort_compared = int(ours.size), int(ours.size)
            return
        diff = ours.astype(np.float64) - theirs.astype(np.float64)
        self.ort_mismatches = int(np.count_nonzero(ours != theirs))
        self.ort_compared = int(ours.size)
        self.ort_max_abs_diff = float(np.abs(diff).max()) if diff.size else 0.0


@dataclass
class OutputStats:
    """Comparisons of one graph output."""

    name: str
    shape: list[int]
    ort_mismatches: int | None = None
    ort_max_abs_diff: float | None = None
    float_max_abs_error: float | None = None
    float_rms_error: float | None = None
    top1_agreement_float: float | None = None
    top1_agreement_ort: float | None = None
    accuracy: float | None = None
    float_accuracy: float | None = None
    ort_accuracy: float | None = None

    @classmethod
    def compare(cls, name, ours, ort, flt, labels) -> "OutputStats":
        s = cls(name, list(ours.shape))
        top = ours.ndim >= 1 and ours.shape[-1] > 1 and ours.dtype.kind == "f"
        if ort is not None:
            s.ort_mismatches = int(np.count_nonzero(ours != ort)) if ours.shape == ort.shape else int(ours.size)
            if ours.shape == ort.shape and ours.size:
                s.ort_max_abs_diff = float(np.abs(ours.astype(np.float64) - ort.astype(np.float64)).max())
                if top:
                    s.top1_agreement_ort = float(np.mean(ours.argmax(-1) == ort.argmax(-1)))
        if flt is not None and flt.shape == ours.shape and ours.size:
            err = ours.astype(np.float64) - flt.astype(np.float64)
            s.float_max_abs_error = float(np.abs(err).max())
            s.float_rms_error = float(np.sqrt(np.mean(err * err)))
            if top:
                s.top1_agreement_float = float(np.mean(ours.argmax(-1) == flt.argmax(-1)))
        if labels is not None and top:
            y = np.asarray(labels).reshape(-1)
            if y.size == ours.reshape(-1, ours.shape[-1]).shape[0]:
                s.accuracy = float(np.mean(ours.reshape(-1, ours.shape[-1]).argmax(-1) == y))
                if flt is not None and flt.shape == ours.shape:
                    s.float_accuracy = float(np.mean(flt.reshape(-1, ours.shape[-1]).argmax(-1) == y))
                if ort is not None and ort.shape == ours.shape:
                    s.ort_accuracy = float(np.mean(ort.reshape(-1, ours.shape[-1]).argmax(-1) == y))
        return s


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass
class Report:
    """Everything one simulation measured."""

    model: str
    images: int
    config: AccelConfig
    layers: list[LayerStats]
    outputs: list[OutputStats] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)

    def totals(self) -> dict[str, Any]:
        cfg = self.config
        macs = sum(layer.macs for layer in self.layers if layer.engine == "mac")
        cycles = sum(layer.cycles for layer in self.layers)
        per_image = cycles / self.images if self.images else 0.0
        mac_cycles = sum(layer.cycles for layer in self.layers if layer.engine == "mac")
        return {
            "macs": macs,
            "host_float_macs": sum(layer.macs for layer in self.layers if layer.engine == "host"),
            "cycles": cycles,
            "cycles_per_image": per_image,
            "mac_array_utilization": utilization(macs, mac_cycles, cfg.array_rows, cfg.array_cols),
            "images_per_second_at_clock": (cfg.clock_mhz * 1e6 / per_image) if per_image else None,
            "overflowed": sum(layer.overflowed or 0 for layer in self.layers),
            "clamped_low": sum(layer.clamped_low or 0 for layer in self.layers),
            "clamped_high": sum(layer.clamped_high or 0 for layer in self.layers),
            "max_acc_bits_needed": max((layer.acc_bits_needed or 0 for layer in self.layers), default=0),
            "ort_mismatches": (None if all(layer.ort_mismatches is None for layer in self.layers)
                               else sum(layer.ort_mismatches or 0 for layer in self.layers)),
            "simulation_seconds": self.seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "images": self.images,
            "config": self.config.to_dict(),
            "layers": [asdict(layer) for layer in self.layers],
            "outputs": [asdict(o) for o in self.outputs],
            "totals": self.totals(),
            "notes": list(self.notes),
            "versions": dict(self.versions),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save_json(self, path: str | Path) -> None:
        """Write :meth:`to_json` atomically (temporary file, then rename)."""
        atomic_write_text(path, self.to_json() + "\n")

    def to_text(self) -> str:
        cfg = self.config
        head = ("layer", "op", "engine", "shape", "MACs", "cycles", "peak", "bits", "ovf", "clip-", "clip+", "mism")
        rows = [head]
        for s in self.layers:
            rows.append((s.name, s.op, s.engine, "x".join(map(str, s.shape)), s.macs or "-", s.cycles or "-",
                         s.acc_peak, s.acc_bits_needed, s.overflowed, s.clamped_low, s.clamped_high,
                         None if s.ort_mismatches is None else f"{s.ort_mismatches}/{s.ort_compared}"))
        widths = [max(len(_fmt(r[i])) for r in rows) for i in range(len(head))]
        lines = [
            f"model {self.model}: {self.images} input(s); accumulator {cfg.acc_bits} bits {cfg.overflow}, "
            f"profile {cfg.profile}{' (power-of-two scales)' if cfg.scales_pow2 else ''}, weights {cfg.weights}, "
            f"array {cfg.array_rows}x{cfg.array_cols} {cfg.dataflow} @ {cfg.clock_mhz:g} MHz",
        ]
        for r in rows:
            lines.append("  ".join(_fmt(v).ljust(w) if i < 4 else _fmt(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
        t = self.totals()
        lines.append(
            f"total: {t['macs']} MACs, {t['cycles']} cycles ({t['cycles_per_image']:.1f} per input, "
            f"MAC array utilization {t['mac_array_utilization']:.1%}), {t['overflowed']} accumulator overflow(s), "
            f"{t['clamped_high']} output saturation(s) (+{t['clamped_low']} low clamps), peak needs {t['max_acc_bits_needed']} bits")
        for o in self.outputs:
            parts = [f"output {o.name} {'x'.join(map(str, o.shape))}"]
            if o.ort_mismatches is not None:
                parts.append(f"onnxruntime mismatches {o.ort_mismatches}")
            if o.float_max_abs_error is not None:
                parts.append(f"vs float: max|err| {o.float_max_abs_error:.4g}, RMS {o.float_rms_error:.4g}")
            if o.top1_agreement_float is not None:
                parts.append(f"top-1 agreement {o.top1_agreement_float:.2%}")
            if o.accuracy is not None:
                parts.append(f"accuracy {o.accuracy:.2%}")
            if o.float_accuracy is not None:
                parts.append(f"(float {o.float_accuracy:.2%})")
            lines.append("; ".join(parts))
        if self.versions:
            lines.append("compared against " + ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items())))
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"note: layer {s.name!r}: {n}" for s in self.layers for n in s.notes)
        return "\n".join(lines)
