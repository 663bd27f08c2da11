"""ONNX Resize (opset 11-19), modes ``nearest`` and ``linear``, as onnxruntime's CPU kernel
(``core/providers/cpu/tensor/upsample.cc``) computes it.

Output size per axis: ``sizes`` if given, else ``floor(f32(L * scale))``; the scale used for
coordinates is ``scale`` or ``f32(out / L)``.  An output coordinate ``x`` maps to the input
coordinate (float32) by ``coordinate_transformation_mode``:

``half_pixel``          ``(x + 0.5) / scale - 0.5``
``pytorch_half_pixel``  the same when ``out > 1``, else 0
``align_corners``       ``x * (L - 1) / (out - 1)`` (0 when ``out == 1``)
``asymmetric``          ``x / scale``

``nearest`` picks ``round_prefer_floor`` (``.5`` down), ``round_prefer_ceil``, ``floor`` or
``ceil`` of it, clamped to ``[0, L - 1]``: a pure gather, exact on any dtype.  ``linear``
interpolates (bilinear on the last two axes, linear on the last one) between the clamped
neighbours ``i0 = floor(c)``, ``i1 = min(i0 + 1, L - 1)`` with weights ``1 - (c - i0)`` and
``c - i0`` in float32 (both 0.5 when ``i0 == i1``), for float inputs; integer inputs are
refused for ``linear`` (onnxruntime runs a fixed-point kernel for them).  Other modes
(``cubic``, ``tf_crop_and_resize``, ``antialias``, ``keep_aspect_ratio_policy``) raise
:class:`~inwhale_hw.errors.ModelError`.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS", "source_coordinates"]

_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")


def source_coordinates(out: int, size: int, scale: np.float32, mode: str) -> np.ndarray:
    """float32 input coordinate of each of ``out`` output positions along one axis."""
    x = np.arange(out, dtype=np.float32)
    if mode == "asymmetric":
        return x / scale
    if mode == "align_corners":
        return np.zeros(out, np.float32) if out == 1 else x * np.float32(size - 1) / np.float32(out - 1)
    if mode == "pytorch_half_pixel" and out == 1:
        return np.zeros(1, np.float32)
    return (x + np.float32(0.5)) / scale - np.float32(0.5)


def _nearest(c: np.ndarray, size: int, mode: str) -> np.ndarray:
    if mode == "round_prefer_floor":
        idx = np.where(c == np.floor(c) + np.float32(0.5), np.floor(c), np.round(c))
    elif mode == "round_prefer_ceil":
        idx = np.where(c == np.floor(c) + np.float32(0.5), np.ceil(c), np.round(c))
    elif mode == "floor":
        idx = np.floor(c)
    elif mode == "ceil":
        idx = np.ceil(c)
    else:
        raise ModelError(f"Resize: nearest_mode {mode!r} is not one of round_prefer_floor, round_prefer_ceil, floor, ceil")
    return np.clip(idx, 0, size - 1).astype(np.int64)


def _geometry(op: Op, x: np.ndarray, scales, sizes) -> tuple[list[int], list[np.float32]]:
    if sizes is not None and np.size(sizes):
        out = [int(v) for v in np.asarray(sizes).reshape(-1)]
        if len(out) != x.ndim:
            raise ModelError(f"Resize {op.name!r}: sizes {out} do not match a {x.ndim}-D input")
        return out, [np.float32(np.float32(o) / np.float32(s)) for o, s in zip(out, x.shape)]
    if scales is None or not np.size(scales):
        raise ModelError(f"Resize {op.name!r}: neither scales nor sizes given")
    sc = [np.float32(v) for v in np.asarray(scales).reshape(-1)]
    if len(sc) != x.ndim or min(sc) <= 0:
        raise ModelError(f"Resize {op.name!r}: scales {sc} must be {x.ndim} positive values")
    return [int(np.float32(s) * np.float32(d)) for s, d in zip(sc, x.shape)], sc


def resize(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, _roi, scales, sizes = (args + [None] * 4)[:4]
    attrs = op.attrs
    for key, allowed in (("antialias", 0), ("axes", None), ("exclude_outside", 0)):
        if attrs.get(key, allowed) != allowed:
            raise ModelError(f"Resize {op.name!r}: attribute {key}={attrs[key]!r} is not supported")
    if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ModelError(f"Resize {op.name!r}: keep_aspect_ratio_policy other than 'stretch' is not supported")
    mode = attrs.get("mode", "nearest")
    ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
    if ctm not in _MODES:
        raise ModelError(f"Resize {op.name!r}: coordinate_transformation_mode {ctm!r} is not one of {', '.join(_MODES)}")
    out, sc = _geometry(op, x, scales, sizes)
    coords = [source_coordinates(o, d, s, ctm) for o, d, s in zip(out, x.shape, sc)]
    if mode == "nearest":
        y = x
        for axis, (c, d) in enumerate(zip(coords, x.shape)):
            if out[axis] != d or sc[axis] != 1:
                y = np.take(y, _nearest(c, d, attrs.get("nearest_mode", "round_prefer_floor")), axis=axis)
        return OpResult([np.ascontiguousarray(y)], "none")
    if mode != "linear":
        raise ModelError(f"Resize {op.name!r}: mode {mode!r} is not supported (nearest, linear)")
    if x.dtype != np.float32:
        raise ModelError(f"Resize {op.name!r}: linear mode on {x.dtype} input is not supported (float32 only)")
    moving = [a for a in range(x.ndim) if out[a] != x.shape[a]]
    if any(a < x.ndim - 2 for a in moving):
        raise ModelError(f"Resize {op.name!r}: linear resizing of axes {moving} (only the last two) is not supported")
    y = x
    for axis in sorted(moving, reverse=True):
        c = np.clip(coords[axis], np.float32(0), np.float32(x.shape[axis] - 1))
        i0 = np.minimum(c.astype(np.int64), x.shape[axis] - 1)
        i1 = np.minimum(i0 + 1, x.shape[axis] - 1)
        w1 = np.where(i0 == i1, np.float32(0.5), c - i0.astype(np.float32)).astype(np.float32)
        w0 = np.where(i0 == i1, np.float32(0.5), np.float32(1) - w1).astype(np.float32)
        shape = [1] * y.ndim
        shape[axis] = -1
        y = np.take(y, i0, axis=axis) * w0.reshape(shape) + np.take(y, i1, axis=axis) * w1.reshape(shape)
    return OpResult([y.astype(np.float32)], "host", vector_elements=int(y.size) * 4)


EXECUTORS = {"Resize": resize}
