"""Data-movement executors: no arithmetic, so exact on any dtype (ONNX operators.md, opset 13-21).

Squeeze / Unsqueeze (``axes`` input, or attribute before opset 13), Shape (``start``/``end``),
Gather (negative indices count from the end), Concat, Slice (``starts, ends[, axes, steps]``,
clamped as ONNX specifies, negative steps), Split (``split`` input or ``num_outputs``; several
outputs), Expand (bidirectional broadcast), Pad (``constant`` / ``reflect`` / ``edge``,
optional ``axes``), Cast (C++ ``static_cast``: float -> int truncates), ConstantOfShape.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS", "ONNX_DTYPES"]

#: ONNX TensorProto element type -> NumPy dtype (the types Cast accepts here)
ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
               9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


def _ints(x) -> list[int]:
    return [int(v) for v in np.asarray(x).reshape(-1)]


def _axes(op: Op, args: list, index: int, ndim: int) -> list[int] | None:
    raw = args[index] if len(args) > index and args[index] is not None else op.attrs.get("axes")
    if raw is None:
        return None
    return [a % ndim for a in _ints(raw)]


def _moved(y: np.ndarray) -> OpResult:
    return OpResult([y], "none")


def squeeze(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    axes = _axes(op, args, 1, max(x.ndim, 1))
    if axes is None:
        return _moved(np.squeeze(x))
    if any(x.shape[a] != 1 for a in axes):
        raise ModelError(f"Squeeze {op.name!r}: axes {axes} of shape {x.shape} are not all 1")
    return _moved(np.squeeze(x, axis=tuple(axes)))


def unsqueeze(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    raw = args[1] if len(args) > 1 and args[1] is not None else op.attrs.get("axes")
    out_ndim = x.ndim + len(_ints(raw))
    return _moved(np.expand_dims(x, tuple(a % out_ndim for a in _ints(raw))))


def shape(op: Op, args: list, ctx: ExecContext) -> OpResult:
    dims = np.asarray(args[0].shape, dtype=np.int64)
    n = dims.size
    start, end = int(op.attrs.get("start", 0)), int(op.attrs.get("end", n))
    start, end = (max(0, min(n, v + n if v < 0 else v)) for v in (start, end))
    return _moved(dims[start:end].copy())


def gather(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, idx = args[0], np.asarray(args[1]).astype(np.int64)
    axis = int(op.attrs.get("axis", 0)) % x.ndim
    n = x.shape[axis]
    if np.any((idx < -n) | (idx >= n)):
        raise ModelError(f"Gather {op.name!r}: indices outside [-{n}, {n - 1}]")
    return _moved(np.take(x, np.where(idx < 0, idx + n, idx), axis=axis))


def concat(op: Op, args: list, ctx: ExecContext) -> OpResult:
    xs = [x for x in args if x is not None and x.size]
    xs = xs or [args[0]]
    if len({x.dtype for x in xs}) > 1:
        raise ModelError(f"Concat {op.name!r}: inputs have different types {[str(x.dtype) for x in xs]}")
    return _moved(np.concatenate(xs, axis=int(op.attrs["axis"])))


def slice_op(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    starts, ends = _ints(args[1]), _ints(args[2])
    axes = _ints(args[3]) if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    steps = _ints(args[4]) if len(args) > 4 and args[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        if st == 0:
            raise ModelError(f"Slice {op.name!r}: step 0")
        start, stop, step = slice(s, e, st).indices(x.shape[a % x.ndim])
        index[a % x.ndim] = slice(start, None if stop < 0 else stop, step)
    return _moved(x[tuple(index)].copy())


def split(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    axis = int(op.attrs.get("axis", 0)) % x.ndim
    sizes = args[1] if len(args) > 1 and args[1] is not None else op.attrs.get("split")
    n = len(op.outputs)
    if sizes is None:
        size = -(-x.shape[axis] // n)
        sizes = [min(size, x.shape[axis] - i * size) for i in range(n)]
    sizes = _ints(sizes)
    if sum(sizes) != x.shape[axis] or len(sizes) != n:
        raise ModelError(f"Split {op.name!r}: sizes {sizes} do not split axis {axis} of {x.shape} into {n} outputs")
    return OpResult(list(np.split(x, np.cumsum(sizes)[:-1], axis=axis)), "none")


def expand(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, target = args[0], _ints(args[1])
    try:
        out = np.broadcast_shapes(x.shape, tuple(target))
    except ValueError:
        raise ModelError(f"Expand {op.name!r}: {x.shape} does not broadcast with {target}") from None
    return _moved(np.broadcast_to(x, out).copy())


def pad(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    pads = _ints(args[1]) if len(args) > 1 and args[1] is not None else _ints(op.attrs.get("pads", []))
    value = args[2] if len(args) > 2 and args[2] is not None else np.zeros((), x.dtype)
    axes = _axes(op, args, 3, x.ndim) or list(range(x.ndim))
    k = len(axes)
    if len(pads) != 2 * k:
        raise ModelError(f"Pad {op.name!r}: {len(pads)} pads for {k} axes")
    widths = [(0, 0)] * x.ndim
    for i, a in enumerate(axes):
        widths[a] = (pads[i], pads[i + k])
    if any(b < 0 or e < 0 for b, e in widths):
        raise ModelError(f"Pad {op.name!r}: negative pads {pads} (cropping) are not supported")
    mode = op.attrs.get("mode", "constant")
    if mode == "constant":
        return _moved(np.pad(x, widths, constant_values=np.asarray(value).reshape(()).astype(x.dtype)))
    if mode in ("reflect", "edge"):
        return _moved(np.pad(x, widths, mode=mode))
    raise ModelError(f"Pad {op.name!r}: mode {mode!r} is not one of constant, reflect, edge")


def cast(op: Op, args: list, ctx: ExecContext) -> OpResult:
    to = int(op.attrs["to"])
    if to not in ONNX_DTYPES:
        raise ModelError(f"Cast {op.name!r}: target type {to} is not supported; supported: {sorted(ONNX_DTYPES)}")
    x = args[0]
    target = np.dtype(ONNX_DTYPES[to])
    if x.dtype.kind == "f" and target.kind in "iu":
        with np.errstate(invalid="ignore"):
            return OpResult([np.trunc(x).astype(target)], "host", vector_elements=x.size)
    return OpResult([x.astype(target)], "host" if x.dtype != target else "none", vector_elements=x.size)


def constant_of_shape(op: Op, args: list, ctx: ExecContext) -> OpResult:
    value = op.attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)
    return _moved(np.full(_ints(args[0]), fill[0], dtype=fill.dtype))


EXECUTORS = {
    "Squeeze": squeeze,
    "Unsqueeze": unsqueeze,
    "Shape": shape,
    "Gather": gather,
    "Concat": concat,
    "Slice": slice_op,
    "Split": split,
    "Expand": expand,
    "Pad": pad,
    "Cast": cast,
    "ConstantOfShape": constant_of_shape,
}
