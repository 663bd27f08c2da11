"""ONNX-shaped quantized operators: QLinearMatMul and QLinearConv (ONNX operators.md, opset 10).

Inputs come in the operators' order; the computation is the integer pipeline every runtime
uses: subtract zero points exactly, accumulate in ``acc_bits`` (default 32, wrap) with the
int32 bias ``B`` loaded first, then requantize with a named profile from
:data:`inwhale_hw.nn.PROFILES` (default "onnxruntime").

Quantization parameters:
* ``a_scale``/``a_zero_point`` (QLinearMatMul): scalar, or per row: shape (M,) or (..., M, 1).
* ``b_scale``/``b_zero_point``: scalar, or per column: shape (N,) or (..., 1, N).
* ``w_scale``/``w_zero_point`` (QLinearConv): scalar or per output channel, shape (O,).
* ``y_zero_point``'s dtype (uint8 or int8) is the output dtype, as in ONNX.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ParameterError
from .accumulate import AccumulatorStats
from .conv import conv2d
from .matmul import MatmulResult, as_integer_array, matmul
from .onnx_attrs import conv_operands
from .profiles import get_profile

__all__ = ["minus_zero_point", "qlinear_conv", "qlinear_conv_accumulate", "qlinear_matmul"]

_QTYPES = (np.dtype(np.uint8), np.dtype(np.int8))


def _quantized(x: object, name: str, where: str) -> np.ndarray:
    arr = as_integer_array(x, name, where)
    if arr.dtype not in _QTYPES:
        raise InputError(f"{where}: {name} must be uint8 or int8, got {arr.dtype}")
    return arr


def _scale(x: object, name: str, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise InputError(f"{where}: {name} must be a float tensor, got dtype {arr.dtype}")
    arr = arr.astype(np.float32)
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{where}: {name} must hold finite scales > 0, got {arr.ravel()[:4]}")
    return arr


def _zero_point(x: object, name: str, where: str, dtype: np.dtype) -> np.ndarray:
    arr = _quantized(x, name, where)
    if arr.dtype != dtype:
        raise InputError(f"{where}: {name} has dtype {arr.dtype}, must match its tensor's {dtype}")
    return arr


def _per_row(x: np.ndarray) -> np.ndarray:
    """Scalar stays scalar; a 1-D per-row vector becomes a column (M, 1)."""
    if x.size == 1:
        return x.reshape(())
    return x.reshape(-1, 1) if x.ndim == 1 else x


def _finish(y, acc_stats: AccumulatorStats, dtype, with_stats: bool):
    out = np.asarray(y).astype(dtype)
    return (out, acc_stats) if with_stats else out


def qlinear_matmul(
    a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point,
    profile: str = "onnxruntime", *, acc_bits: int = 32, overflow: str = "wrap", with_stats: bool = False,
):
    """ONNX QLinearMatMul: ``y = requant(sum_k (a - a_zp)(b - b_zp))``.

    Returns the output (dtype of ``y_zero_point``), or ``(output, AccumulatorStats)`` with
    ``with_stats=True``.
    """
    where = "qlinear_matmul"
    fn = get_profile(profile)
    a = _quantized(a, "a", where)
    b = _quantized(b, "b", where)
    a_zp = _per_row(_zero_point(a_zero_point, "a_zero_point", where, a.dtype))
    b_zp = _zero_point(b_zero_point, "b_zero_point", where, b.dtype)
    b_zp = b_zp.reshape(()) if b_zp.size == 1 else b_zp
    y_zp = np.asarray(y_zero_point)
    out_dtype = _quantized(y_zp, "y_zero_point", where).dtype
    if y_zp.size != 1:
        raise InputError(f"{where}: y_zero_point must be a scalar, got shape {y_zp.shape}")
    sa = _per_row(_scale(a_scale, "a_scale", where))
    sb = _scale(b_scale, "b_scale", where)
    sb = sb.reshape(()) if sb.size == 1 else sb
    sy = _scale(y_scale, "y_scale", where).reshape(())
    try:
        a_int = a.astype(np.int32) - a_zp.astype(np.int32)
        b_int = b.astype(np.int32) - b_zp.astype(np.int32)
    except ValueError:
        raise InputError(f"{where}: zero points of shape {a_zp.shape}/{b_zp.shape} do not fit a {a.shape}, b {b.shape}") from None
    acc, stats = matmul(a_int, b_int, acc_bits=acc_bits, overflow=overflow)
    y = fn(acc, sa, sb, sy, y_zp.reshape(()).astype(np.int64), out_dtype)
    return _finish(y, stats, out_dtype, with_stats)


def minus_zero_point(x: np.ndarray, zero_point) -> np.ndarray:
    """``x - zp`` exactly; int16 for 8-bit codes (9-bit differences: the narrow type halves the
    memory traffic of im2col and the exactness bounds), int64 otherwise."""
    wide = np.int16 if x.dtype.itemsize == 1 else np.int64
    return x.astype(wide) - np.asarray(zero_point).astype(wide)


def qlinear_conv_accumulate(x: np.ndarray, x_zero_point, w: np.ndarray, w_zero_point, bias, attrs: dict, *,
                            acc_bits: int = 32, overflow: str = "wrap", track_partials: bool = False,
                            where: str = "qlinear_conv", error: type[Exception] = ParameterError) -> MatmulResult:
    """Steps 1-2 of QLinearConv, the one kernel behind :func:`qlinear_conv` and the accelerator:
    ``B + conv(x - x_zp, w - w_zp)`` in the modelled accumulator.

    ``x_zero_point`` is a scalar, ``w_zero_point`` a scalar or one per output channel, ``bias``
    int32 (O,) or None, ``attrs`` the ONNX attributes (:func:`inwhale_hw.nn.onnx_attrs.conv_operands`,
    whose ``error`` type reports bad ones).  Returns :func:`inwhale_hw.nn.conv2d`'s result on
    NCHW (a 1-D convolution has height 1).
    """
    x4, w4, geometry = conv_operands(attrs, x, w, where, error)
    w_zp = np.asarray(0 if w_zero_point is None else w_zero_point)
    w_zp = w_zp.reshape(-1, 1, 1, 1) if w_zp.size > 1 else w_zp.reshape(())
    x_zp = np.asarray(0 if x_zero_point is None else x_zero_point).reshape(())
    return conv2d(minus_zero_point(x4, x_zp), minus_zero_point(w4, w_zp), bias, **geometry,
                  acc_bits=acc_bits, overflow=overflow, track_partials=track_partials)


def qlinear_conv(
    x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B=None, *,
    auto_pad: str = "NOTSET", dilations=None, group: int = 1, kernel_shape=None, pads=None, strides=None,
    profile: str = "onnxruntime", acc_bits: int = 32, overflow: str = "wrap", with_stats: bool = False,
):
    """ONNX QLinearConv (1-D or 2-D): ``y = requant(B + conv(x - x_zp, w - w_zp))``.

    ``B`` is int32 of shape (O,) with scale ``x_scale * w_scale`` (ONNX); padding contributes
    the real value 0 (the input zero point).  Attributes follow ONNX: ``pads`` is
    ``[x1_begin, x2_begin, x1_end, x2_end]``.  Returns the output (dtype of ``y_zero_point``),
    or ``(output, AccumulatorStats)`` with ``with_stats=True``.
    """
    where = "qlinear_conv"
    fn = get_profile(profile)
    x = _quantized(x, "x", where)
    w = _quantized(w, "w", where)
    if x.ndim not in (3, 4) or w.ndim != x.ndim:
        raise InputError(f"{where}: x and w must both be 3-D (1-D conv) or 4-D (2-D conv), got {x.shape}, {w.shape}")
    o = w.shape[0]
    x_zp = _zero_point(x_zero_point, "x_zero_point", where, x.dtype)
    w_zp = _zero_point(w_zero_point, "w_zero_point", where, w.dtype)
    if x_zp.size != 1 or w_zp.size not in (1, o):
        raise InputError(f"{where}: x_zero_point must be scalar and w_zero_point scalar or ({o},), got {x_zp.shape}, {w_zp.shape}")
    y_zp = np.asarray(y_zero_point)
    out_dtype = _quantized(y_zp, "y_zero_point", where).dtype
    sx = _scale(x_scale, "x_scale", where).reshape(())
    sw = _scale(w_scale, "w_scale", where)
    if sw.size not in (1, o):
        raise InputError(f"{where}: w_scale must be a scalar or have {o} elements, got shape {sw.shape}")
    sw = sw.reshape(()) if sw.size == 1 else sw.reshape(1, o, 1, 1)
    sy = _scale(y_scale, "y_scale", where).reshape(())
    kernel = list(w.shape[2:])
    if kernel_shape is not None and [int(k) for k in kernel_shape] != kernel:
        raise InputError(f"{where}: kernel_shape {list(kernel_shape)} does not match w's {kernel}")
    bias = None
    if B is not None:
        bias = as_integer_array(B, "B", where)
        if bias.dtype != np.int32:
            raise InputError(f"{where}: B must be int32 (ONNX), got {bias.dtype}")
    attrs = {"auto_pad": auto_pad, "dilations": dilations, "group": int(group), "pads": pads, "strides": strides}
    acc, stats = qlinear_conv_accumulate(x, x_zp, w, w_zp, bias, {k: v for k, v in attrs.items() if v is not None},
                                         acc_bits=acc_bits, overflow=overflow, where=where)
    y = fn(acc, sx, sw, sy, y_zp.reshape(()).astype(np.int64), out_dtype)
    if x.ndim == 3:
        y = y[:, :, 0, :]
    return _finish(y, stats, out_dtype, with_stats)
