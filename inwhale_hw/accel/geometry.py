"""Sliding windows of ONNX MaxPool / AveragePool over a geometry resolved by
:func:`inwhale_hw.nn.onnx_attrs.window_geometry` (shared with :func:`inwhale_hw.nn.qlinear_conv`,
which states the output-size, padding and ceil_mode rules).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ModelError
from ..nn.onnx_attrs import Window, window_geometry
from .avgpool_mlas import mlas_average

__all__ = ["average_f32", "valid_counts", "windows"]


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


def valid_counts(sizes: tuple[int, int], win: Window, include_pad: bool = False) -> np.ndarray:
    """(H_out, W_out) number of window taps inside the unpadded input (onnxruntime's
    ``(hend - hstart) * (wend - wstart)`` with both ends clipped to the input; with dilation
    ``d`` the taps ``start + j * d`` that land inside).  ``include_pad``: taps inside the padded
    input ``[-pad_begin, L + pad_end)`` count too (``count_include_pad``; a ceil_mode window's
    overhang past the end pad does not)."""
    counts = []
    for axis in range(2):
        start = np.arange(win.out[axis])[:, None] * win.strides[axis] - win.pads_begin[axis]
        taps = start + np.arange(win.kernel[axis])[None, :] * win.dilations[axis]
        lo, hi = (-win.pads_begin[axis], sizes[axis] + win.pads_end[axis]) if include_pad else (0, sizes[axis])
        counts.append(np.count_nonzero((taps >= lo) & (taps < hi), axis=1))
    return counts[0][:, None] * counts[1][None, :]


def average_f32(xf: np.ndarray, attrs: dict, where: str, mlas: bool = False) -> np.ndarray:
    """Average pooling in float32 as onnxruntime's pool kernels.

    ``mlas``: the order of MLAS ``MlasPool`` (:mod:`inwhale_hw.accel.avgpool_mlas`), which
    onnxruntime's float AveragePool up to opset 18 uses unless both ``count_include_pad`` and
    ``ceil_mode`` are set.  Otherwise (opset 19's AveragePool, QLinearAveragePool's
    ``qlinear_pool.cc``): each window summed element by element in row-major window order
    starting from 0, then divided by the count (the taps inside the padded input with
    ``count_include_pad``, else the taps inside the input)."""
    one_d = xf.ndim == 3
    x4 = xf[:, :, None, :] if one_d else xf
    if x4.ndim != 4:
        raise ModelError(f"{where}: expected an NCHW or NCL input, got shape {xf.shape}")
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    win = window_geometry(attrs, xf.shape[2:], kernel, where, pooling=True)
    include_pad = bool(attrs.get("count_include_pad", 0))
    if mlas and not (include_pad and attrs.get("ceil_mode", 0)):
        y = mlas_average(x4, win, include_pad, one_d)
    else:
        view = windows(x4, win, np.float32(0))
        total = np.zeros(view.shape[:4], dtype=np.float32)
        for i in range(win.kernel[0]):
            for j in range(win.kernel[1]):
                total = total + view[..., i, j]
        y = total / valid_counts(x4.shape[2:], win, include_pad).astype(np.float32)
    return y[:, :, 0, :] if one_d else y
