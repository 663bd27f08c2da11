"""ONNX sliding-window attributes of Conv, QLinearConv, MaxPool and AveragePool, parsed once.

ONNX operators.md (opset 17-21).  For each spatial axis with input length ``L``, kernel ``k``,
stride ``s``, dilation ``d`` and pads ``b`` (begin) / ``e`` (end)::

    span = d * (k - 1) + 1
    out  = floor((L + b + e - span) / s) + 1                    (ceil_mode = 0)
    out  = ceil((L + b + e - span) / s) + 1, minus 1 if the last window would start at or
           beyond L + b (ceil_mode = 1, onnxruntime's PoolAttributes::ComputeOutputSize)

``auto_pad`` SAME_UPPER / SAME_LOWER pad ``(ceil(L / s) - 1) * s + span - L`` in total, the odd
element at the end (UPPER) or the beginning (LOWER); VALID pads nothing.  Window ``o`` covers
input positions ``o * s - b + j * d`` for ``j = 0..k-1``.

Only 1-D and 2-D windows are handled (1-D tensors are treated as 2-D with height 1).  Both
:func:`inwhale_hw.nn.qlinear_conv` and the accelerator simulator resolve attributes here; the
``error`` argument picks the exception type each caller documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

__all__ = ["Window", "conv_operands", "window_geometry"]


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


def _ints(value, count: int, default: int, name: str, where: str, error: type[Exception]) -> list[int]:
    if value is None:
        return [default] * count
    items = [int(v) for v in value]
    if len(items) != count:
        raise error(f"{where}: attribute {name}={list(value)} must have {count} values")
    return items


def window_geometry(attrs: dict, sizes: tuple[int, ...], kernel: tuple[int, ...], where: str,
                    pooling: bool, error: type[Exception] = ModelError) -> Window:
    """Resolve ONNX window attributes (``strides``, ``dilations``, ``pads``, ``auto_pad``,
    ``ceil_mode`` when ``pooling``) for spatial ``sizes`` (1 or 2 axes) and ``kernel``."""
    n = len(sizes)
    if n not in (1, 2) or len(kernel) != n:
        raise error(f"{where}: only 1-D and 2-D windows are supported, got input sizes {tuple(sizes)} and kernel {tuple(kernel)}")
    strides = _ints(attrs.get("strides"), n, 1, "strides", where, error)
    dilations = _ints(attrs.get("dilations"), n, 1, "dilations", where, error)
    if min(strides + dilations) < 1:
        raise error(f"{where}: strides {strides} and dilations {dilations} must be >= 1")
    auto_pad = attrs.get("auto_pad", "NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    if auto_pad in ("NOTSET", "", None):
        pads = _ints(attrs.get("pads"), 2 * n, 0, "pads", where, error)
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
        raise error(f"{where}: auto_pad={auto_pad!r} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
    ceil_mode = bool(attrs.get("ceil_mode", 0)) and pooling
    outs, extra = [], []
    for size, s, span, b, e in zip(sizes, strides, spans, begin, end):
        room = size + b + e - span
        if room < 0:
            raise error(f"{where}: window span {span} exceeds the padded input length {size + b + e}")
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


def conv_operands(attrs: dict, x: np.ndarray, w: np.ndarray, where: str,
                  error: type[Exception] = ModelError) -> tuple[np.ndarray, np.ndarray, dict]:
    """An ONNX (QLinear)Conv's input and weights as NCHW / OIHW (a 1-D convolution gets a height
    axis of 1), checked, and the geometry keywords of :func:`inwhale_hw.nn.conv2d` /
    :func:`inwhale_hw.nn.conv.im2col` (``stride``, ``padding``, ``dilation``, ``groups``).

    ``attrs`` are the ONNX attributes (``auto_pad``, ``dilations``, ``group``, ``kernel_shape``,
    ``pads``, ``strides``); a ``kernel_shape`` that disagrees with the weights is an error.
    """
    if x.ndim not in (3, 4) or w.ndim != x.ndim:
        raise error(f"{where}: expected NCHW / NCL input and matching weights, got {x.shape} and {w.shape}")
    kernel_shape = attrs.get("kernel_shape")
    if kernel_shape is not None and [int(k) for k in kernel_shape] != list(w.shape[2:]):
        raise error(f"{where}: kernel_shape {list(kernel_shape)} does not match the weights' {list(w.shape[2:])}")
    win = window_geometry(attrs, x.shape[2:], w.shape[2:], where, pooling=False, error=error)
    if x.ndim == 3:
        x, w = x[:, :, None, :], w[:, :, None, :]
    groups = int(attrs.get("group", 1))
    c, (o, cg) = x.shape[1], w.shape[:2]
    if groups < 1 or c != cg * groups or o % groups:
        raise error(f"{where}: input has {c} channels, weights {w.shape}, group={groups}")
    return x, w, {"stride": win.strides, "padding": win.pads_begin + win.pads_end, "dilation": win.dilations,
                  "groups": groups}
