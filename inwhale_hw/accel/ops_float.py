"""Executors for the operators a quantized model may leave outside its integer kernels.

Element-wise and data-movement operators give onnxruntime's bits exactly (one float32 rounding
per element, or none): Relu ``x < 0 ? 0 : x`` (``-0`` and NaN pass through, as
``std::max(x, 0)``), Clip ``min(max(x, lo), hi)``, Add (NumPy
broadcasting, ONNX multidirectional broadcasting), MaxPool (on any dtype: integer MaxPool is
exact, padding never wins a max), Reshape (``0`` copies a dimension unless ``allowzero``,
``-1`` is inferred), Flatten, Transpose, Identity.

Float AveragePool sums each window in onnxruntime's order (exact, dilations and ceil_mode
included): MLAS ``MlasPool``'s up to opset 18, a row-major loop for opset 19.  Float Conv /
Gemm / MatMul accumulate in float32 with NumPy's BLAS; their
summation order differs from MLAS's, so their results can differ from onnxruntime's in the
last bits.  Quantized models from ``quantize_static`` keep none of them in float (the QDQ
groups are fused, see :mod:`inwhale_hw.accel.loader`); their MACs are reported on the host.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..nn.conv import im2col
from .context import ExecContext, OpResult
from ..nn.onnx_attrs import conv_operands, window_geometry
from .geometry import average_f32, windows
from .graph import Op

__all__ = ["EXECUTORS"]


def _float(x: np.ndarray, op: Op) -> np.ndarray:
    if x.dtype != np.float32:
        raise ModelError(f"{op.kind} {op.name!r}: float operator got a {x.dtype} tensor; only float32 is supported")
    return x


def conv(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, w = _float(args[0], op), _float(args[1], op)
    bias = args[2] if len(args) > 2 else None
    x4, w4, geometry = conv_operands(op.attrs, x, w, f"Conv {op.name!r}")
    cols = im2col(x4, w4.shape[2:], **geometry)
    groups, n, ho, wo, k = cols.shape
    o = w4.shape[0]
    wmat = w4.reshape(groups, o // groups, k).transpose(0, 2, 1)
    y = np.matmul(cols.reshape(groups, n * ho * wo, k), wmat).transpose(1, 0, 2).reshape(n, ho, wo, o)
    if bias is not None:
        y = y + bias
    y = np.ascontiguousarray(y.transpose(0, 3, 1, 2))
    return OpResult([y[:, :, 0, :] if x.ndim == 3 else y], "host", macs=n * ho * wo * o * k)


def gemm(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, b = _float(args[0], op), _float(args[1], op)
    c = args[2] if len(args) > 2 else None
    a = a.T if op.attrs.get("transA", 0) else a
    b = b.T if op.attrs.get("transB", 0) else b
    y = np.float32(op.attrs.get("alpha", 1.0)) * (a @ b)
    if c is not None:
        y = y + np.float32(op.attrs.get("beta", 1.0)) * c
    return OpResult([y.astype(np.float32)], "host", macs=a.shape[0] * a.shape[1] * b.shape[1])


def matmul(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, b = _float(args[0], op), _float(args[1], op)
    y = np.matmul(a, b)
    return OpResult([y], "host", macs=int(y.size * a.shape[-1]))


def relu(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    return OpResult([np.where(x < 0, np.zeros((), x.dtype), x)], "host", vector_elements=x.size)


def clip(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    lo = op.attrs.get("min", args[1] if len(args) > 1 else None)
    hi = op.attrs.get("max", args[2] if len(args) > 2 else None)
    y = x
    if lo is not None:
        y = np.maximum(y, np.asarray(lo).astype(x.dtype))
    if hi is not None:
        y = np.minimum(y, np.asarray(hi).astype(x.dtype))
    return OpResult([y], "host", vector_elements=x.size)


def add(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, b = args[0], args[1]
    if a.dtype != b.dtype:
        raise ModelError(f"Add {op.name!r}: inputs have different types {a.dtype} and {b.dtype}")
    y = np.add(a, b, dtype=a.dtype)
    return OpResult([y], "host", vector_elements=y.size)


def max_pool(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    if int(op.attrs.get("storage_order", 0)) != 0:
        raise ModelError(f"MaxPool {op.name!r}: storage_order=1 is not supported")
    one_d = x.ndim == 3
    win = window_geometry(op.attrs, x.shape[2:], tuple(op.attrs["kernel_shape"]), f"MaxPool {op.name!r}", pooling=True)
    x4 = x[:, :, None, :] if one_d else x
    pad = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    view = windows(x4, win, pad)
    y = view[..., 0, 0].copy()
    for i in range(win.kernel[0]):
        for j in range(win.kernel[1]):
            np.maximum(y, view[..., i, j], out=y)
    y = y[:, :, 0, :] if one_d else y
    engine = "host" if x.dtype.kind == "f" else "vector"
    return OpResult([np.ascontiguousarray(y)], engine, vector_elements=y.size * int(np.prod(op.attrs["kernel_shape"])))


def average_pool(op: Op, args: list, ctx: ExecContext) -> OpResult:
    y = average_f32(_float(args[0], op), op.attrs, f"AveragePool {op.name!r}", mlas=op.attrs.get("opset", 13) <= 18)
    return OpResult([y], "host", vector_elements=y.size * int(np.prod(op.attrs["kernel_shape"])))


def reshape(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, shape = args[0], [int(v) for v in np.asarray(args[1]).reshape(-1)]
    if not op.attrs.get("allowzero", 0):
        shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
    try:
        y = x.reshape(shape)
    except ValueError:
        raise ModelError(f"Reshape {op.name!r}: cannot reshape {x.shape} to {shape}") from None
    return OpResult([y], "none")


def flatten(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    axis = int(op.attrs.get("axis", 1)) % (x.ndim + 1) if x.ndim else 0
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    return OpResult([x.reshape(outer, -1) if x.size else x.reshape(outer, 0)], "none")


def transpose(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    perm = op.attrs.get("perm", list(range(x.ndim))[::-1])
    return OpResult([np.ascontiguousarray(x.transpose(perm))], "none")


def identity(op: Op, args: list, ctx: ExecContext) -> OpResult:
    return OpResult([args[0]], "none")


EXECUTORS = {
    "Conv": conv,
    "Gemm": gemm,
    "MatMul": matmul,
    "Relu": relu,
    "Clip": clip,
    "Add": add,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "Reshape": reshape,
    "Flatten": flatten,
    "Transpose": transpose,
    "Identity": identity,
}
