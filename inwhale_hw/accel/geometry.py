"""Sliding-window geometry of ONNX Conv, MaxPool and AveragePool (operators.md, opset 17-21).

For each spatial axis with input length ``L``, kernel ``k``, stride ``s``, dilation ``d`` and
pads ``b`` (begin) / ``e`` (end)::

    span = d * (k - 1) + 1
    out  = floor((L + b + e - span) / s) + 1                    (ceil_mode = 0)
    out  = ceil((L + b + e - span) / s) + 1, minus 1 if the last window would start at or
           beyond L + b (ceil_mode = 1, onnxruntime's PoolAttributes::ComputeOutputSize)

``auto_pad`` SAME_UPPER / SAME_LOWER pad ``(ceil(L / s) - 1) * s + span - L`` in total, the odd
element at the end (UPPER) or the beginning (LOWER); VALID pads nothing.  Window ``o`` covers
input positions ``o * s - b + j * d`` for ``j = 0..k-1``.

Only 1-D and 2-D windows are handled (1-D tensors are treated as 2-D with height 1); that
covers the CNNs and MLPs this simulator targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ModelError

__all__ = ["Window", "average_f32", "conv_operands", "valid_counts", "window_geometry", "windows"]


@dataclass(frozen=True)
class Window:
    """Resolved 2-D window parameters (height axis first)."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads_begin: tuple[int, int]
    pads_end: tuple[int, int]
    out: tuple[int, int]
    extra_end: tuple[int, int]  # positions past the padded input that ceil_mode windows touch


def _ints(value, count: int, default: int, name: str, where: str) -> list[int]:
    if value is None:
        return [default] * count
    items = [int(v) for v in value]
    if len(items) != count:
        raise ModelError(f"{where}: attribute {name}={list(value)} must have {count} values")
    return items


def window_geometry(attrs: dict, sizes: tuple[int, ...], kernel: tuple[int, ...], where: str,
                    pooling: bool) -> Window:
    """Resolve ONNX window attributes for spatial ``sizes`` (1 or 2 axes) and ``kernel``."""
    n = len(sizes)
    if n not in (1, 2) or len(kernel) != n:
        raise ModelError(f"{where}: only 1-D and 2-D windows are supported, got input sizes {sizes} and kernel {kernel}")
    strides = _ints(attrs.get("strides"), n, 1, "strides", where)
    dilations = _ints(attrs.get("dilations"), n, 1, "dilations", where)
    if min(strides + dilations) < 1:
        raise ModelError(f"{where}: strides {strides} and dilations {dilations} must be >= 1")
    auto_pad = attrs.get("auto_pad", "NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    if auto_pad in ("NOTSET", ""):
        pads = _ints(attrs.get("pads"), 2 * n, 0, "pads", where)
        begin, end = pads[:n], pads[n:]
    elif auto_pad == "VALID":
        begin, end = [0] * n, [0] * n
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, s, span in zip(sizes, strides, spans):
            total = max(0, (-(-size // s) - 1) * s + span - size)
            head = (total + 1) // 2 if auto_pad == "SAME_LOWER" else total // 2
            begin.append(head)
            end.append(total - head)
    else:
        raise ModelError(f"{where}: auto_pad={auto_pad!r} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
    ceil_mode = bool(attrs.get("ceil_mode", 0)) and pooling
    outs, extra = [], []
    for size, s, span, b, e in zip(sizes, strides, spans, begin, end):
        room = size + b + e - span
        if room < 0:
            raise ModelError(f"{where}: window span {span} exceeds the padded input length {size + b + e}")
        out = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (out - 1) * s >= size + b:
            out -= 1
        outs.append(out)
        extra.append(max(0, (out - 1) * s + span - (size + b + e)))
    if n == 1:
        return Window((1, kernel[0]), (1, strides[0]), (1, dilations[0]), (0, begin[0]), (0, end[0]),
                      (1, outs[0]), (0, extra[0]))
    return Window(tuple(kernel), tuple(strides), tuple(dilations), tuple(begin), tuple(end),  # type: ignore[arg-type]
                  tuple(outs), tuple(extra))  # type: ignore[arg-type]


def conv_operands(attrs: dict, x: np.ndarray, w: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """An ONNX (QLinear)Conv's input and weights as NCHW / OIHW (a 1-D convolution gets a height
    axis of 1), checked, and the geometry keywords of :func:`inwhale_hw.nn.conv2d` /
    :func:`inwhale_hw.nn.conv.im2col` (``stride``, ``padding``, ``dilation``, ``groups``)."""
    if x.ndim not in (3, 4) or w.ndim != x.ndim:
        raise ModelError(f"{where}: expected NCHW / NCL input and matching weights, got {x.shape} and {w.shape}")
    win = window_geometry(attrs, x.shape[2:], w.shape[2:], where, pooling=False)
    if x.ndim == 3:
        x, w = x[:, :, None, :], w[:, :, None, :]
    groups = int(attrs.get("group", 1))
    c, (o, cg) = x.shape[1], w.shape[:2]
    if groups < 1 or c != cg * groups or o % groups:
        raise ModelError(f"{where}: input has {c} channels, weights {w.shape}, group={groups}")
    return x, w, {"stride": win.strides, "padding": win.pads_begin + win.pads_end, "dilation": win.dilations,
                  "groups": groups}


def windows(x: np.ndarray, win: Window, pad_value) -> np.ndarray:
    """View of every window of ``x`` (N, C, H, W): shape (N, C, H_out, W_out, kH, kW).

    ``x`` is padded with ``pad_value`` (begin pads, end pads and the ceil-mode overhang).
    """
    (pt, pl), (pb, pr), (xb, xr) = win.pads_begin, win.pads_end, win.extra_end
    if pt or pl or pb or pr or xb or xr:
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb + xb), (pl, pr + xr)), constant_values=pad_value)
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = win.kernel, win.strides, win.dilations, win.out
    view = sliding_window_view(x, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return view[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]


def valid_counts(sizes: tuple[int, int], win: Window) -> np.ndarray:
    """(H_out, W_out) number of window positions inside the unpadded input (onnxruntime's
    ``(hend - hstart) * (wend - wstart)`` with both ends clipped to the input)."""
    counts = []
    for axis in range(2):
        o = np.arange(win.out[axis])
        start = o * win.strides[axis] - win.pads_begin[axis]
        end = np.minimum(start + (win.kernel[axis] - 1) * win.dilations[axis] + 1, sizes[axis])
        start = np.maximum(start, 0)
        counts.append(np.maximum(end - start, 0))
    return counts[0][:, None] * counts[1][None, :]


def average_f32(xf: np.ndarray, attrs: dict, where: str) -> np.ndarray:
    """Average pooling in float32 as onnxruntime's pool kernels: each window summed element by
    element in row-major window order starting from 0, then divided by the count (the kernel
    size with ``count_include_pad``, else the positions inside the input)."""
    one_d = xf.ndim == 3
    x4 = xf[:, :, None, :] if one_d else xf
    if x4.ndim != 4:
        raise ModelError(f"{where}: expected an NCHW or NCL input, got shape {xf.shape}")
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    if any(int(d) != 1 for d in attrs.get("dilations", [1] * len(kernel))):
        raise ModelError(f"{where}: dilations {attrs['dilations']} are not supported for average pooling")
    win = window_geometry(attrs, xf.shape[2:], kernel, where, pooling=True)
    view = windows(x4, win, np.float32(0))
    total = np.zeros(view.shape[:4], dtype=np.float32)
    for i in range(win.kernel[0]):
        for j in range(win.kernel[1]):
            total = total + view[..., i, j]
    if attrs.get("count_include_pad", 0):
        count = np.float32(win.kernel[0] * win.kernel[1])
    else:
        count = valid_counts(x4.shape[2:], win).astype(np.float32)
    y = total / count
    return y[:, :, 0, :] if one_d else y
