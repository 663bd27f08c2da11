"""Exact integer 2-D convolution (NCHW activations, OIHW weights, as ONNX Conv) by im2col.

``y[n, o, h, w] = bias[o] + sum_{c, i, j} x[n, g*C_g + c, h*sh + i*dh - pt, w*sw + j*dw - pl]
* w[o, c, i, j]`` with ``g = o // (O / groups)``, ``C_g = C / groups``, zero outside the input
(after padding: for quantized tensors the caller subtracts the zero point first, so the padded
value is the real 0 as ONNX QLinearConv requires).

Accumulation order (the ``k`` of :mod:`inwhale_hw.nn.accumulate`): bias first, then
``k = (c * kH + i) * kW + j`` for ``k = 0..C_g*kH*kW-1``, i.e. input channel outermost, then
kernel row, then kernel column, the order of the OIHW weight layout.

The im2col matrix (``C_g*kH*kW`` x ``N*H_out*W_out`` per group) is built with a strided view and
one copy; the products go through :func:`inwhale_hw.nn.matmul.matmul` (exact BLAS where
provable).  Output size per axis (ONNX Conv, operators.md):
``out = floor((in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import FixedPointOverflowError, InputError, ParameterError
from .matmul import MatmulResult, as_integer_array, matmul

__all__ = ["conv2d", "normalize_pads", "conv_output_size"]


def _pair(value: object, name: str, minimum: int) -> tuple[int, int]:
    items = (value, value) if np.isscalar(value) else tuple(value)  # type: ignore[arg-type]
    if len(items) != 2 or any(not isinstance(v, (int, np.integer)) or v < minimum for v in items):
        raise ParameterError(f"conv2d: {name} must be an int or 2 ints >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def normalize_pads(padding: object) -> tuple[int, int, int, int]:
    """``padding`` as ``(top, left, bottom, right)``: int, (ph, pw), or ONNX 4-tuple
    ``(h_begin, w_begin, h_end, w_end)``."""
    if np.isscalar(padding):
        items: tuple = (padding,) * 4
    else:
        items = tuple(padding)  # type: ignore[arg-type]
        if len(items) == 2:
            items = (items[0], items[1], items[0], items[1])
    if len(items) != 4 or any(not isinstance(v, (int, np.integer)) or v < 0 for v in items):
        raise ParameterError(
            f"conv2d: padding must be an int, (ph, pw) or (top, left, bottom, right) of ints >= 0, got {padding!r}"
        )
    return tuple(int(v) for v in items)  # type: ignore[return-value]


def conv_output_size(size: int, pad_total: int, kernel: int, stride: int, dilation: int) -> int:
    """ONNX Conv output length along one axis (may be <= 0 for an invalid geometry)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def conv2d(
    x: object,
    w: object,
    bias: object | None = None,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    acc_bits: int = 32,
    overflow: str = "wrap",
    track_partials: bool = False,
) -> MatmulResult:
    """Integer convolution of x (N, C, H, W) with w (O, C/groups, kH, kW) plus bias (O,).

    Args:
        stride, dilation: int or (h, w), >= 1.
        padding: int, (ph, pw) or (top, left, bottom, right), zeros added.
        groups: C and O must both be multiples of it (groups == C is depthwise).
        acc_bits, overflow, track_partials: as :func:`inwhale_hw.nn.matmul.matmul`.

    Returns:
        ``MatmulResult(values, stats)``, values int64 of shape (N, O, H_out, W_out).
    """
    where = "conv2d"
    x = as_integer_array(x, "x", where)
    w = as_integer_array(w, "w", where)
    if x.ndim != 4 or w.ndim != 4:
        raise InputError(f"{where}: x must be NCHW and w OIHW (4-D each), got {x.shape} and {w.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ParameterError(f"{where}: groups must be an int >= 1, got {groups!r}")
    n, c, h, wid = x.shape
    o, cg, kh, kw = w.shape
    if c != cg * groups or o % groups:
        raise InputError(
            f"{where}: x has {c} channels and w is {w.shape}; need C == w.shape[1]*groups "
            f"({cg}*{groups}) and O divisible by groups"
        )
    sh, sw = _pair(stride, "stride", 1)
    dh, dw = _pair(dilation, "dilation", 1)
    pt, pl, pb, pr = normalize_pads(padding)
    ho = conv_output_size(h, pt + pb, kh, sh, dh)
    wo = conv_output_size(wid, pl + pr, kw, sw, dw)
    if ho < 1 or wo < 1:
        raise InputError(
            f"{where}: output would be {ho}x{wo} for input {h}x{wid}, kernel {kh}x{kw}, "
            f"pads {(pt, pl, pb, pr)}, strides {(sh, sw)}, dilations {(dh, dw)}"
        )
    bias_col = None
    if bias is not None:
        bias_arr = as_integer_array(bias, "bias", where)
        if bias_arr.shape != (o,):
            raise InputError(f"{where}: bias must have shape ({o},), got {bias_arr.shape}")
        bias_col = bias_arr.reshape(groups, o // groups, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr))) if pt or pb or pl or pr else x
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    windows = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))
    windows = windows[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]
    # (N, C, Ho, Wo, kH, kW) -> (groups, C_g*kH*kW, N*Ho*Wo), k = (c*kH + i)*kW + j
    cols = windows.reshape(n, groups, cg, ho, wo, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    cols = cols.reshape(groups, cg * kh * kw, n * ho * wo)
    weights = w.reshape(groups, o // groups, cg * kh * kw)
    try:
        values, stats = matmul(
            weights, cols, bias_col, acc_bits=acc_bits, overflow=overflow, track_partials=track_partials
        )
    except FixedPointOverflowError as exc:
        flat = exc.first_index if exc.first_index is not None else 0
        oo, rest = divmod(flat, n * ho * wo)
        nn, pix = divmod(rest, ho * wo)
        nchw = int(np.ravel_multi_index((nn, oo, pix // wo, pix % wo), (n, o, ho, wo)))
        raise FixedPointOverflowError(
            str(exc).replace("matmul:", f"{where}:").replace(f"index {flat})", f"index {nchw} (NCHW))"),
            count=exc.count,
            first_index=nchw,
        ) from None
    values = values.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    return MatmulResult(np.ascontiguousarray(values), stats)
