"""Float32 AveragePool in the order of onnxruntime's MLAS ``MlasPool`` (``mlas/lib/pooling.cpp``),
which onnxruntime's CPU ``AveragePool`` up to opset 18 calls (its opset-19 kernel and the
``count_include_pad`` + ``ceil_mode`` case use a row-major loop instead, see
:func:`inwhale_hw.accel.geometry.average_f32`).

MLAS picks one of three kernels for an NCHW input (an NCL input always takes the generic one):

* global (kernel == input, strides 1, no pads): four float32 lanes ``l[i % 4] += x[i]`` from 0
  over the plane, then ``(l0 + l2) + (l1 + l3)``, then the ``size % 4`` tail added one by one;
* vector (``stride_w <= 2``, every kernel side <= 32, ``pad_l + W + pad_r <= 2045``): per
  output row, each input column is summed over the window rows in order (first row, then ``+``
  each next row), the padded row of column sums (pads = +0) is then summed over the ``kW``
  columns of each window in order from its first column;
* generic: each window summed row-major from 0 over the taps inside the input.

The sum is then divided (a float32 division, not a multiplication by 1/count) by
``kH * kW`` with ``count_include_pad`` (also for a ceil_mode window hanging past the end pad),
else by the number of taps inside the input.
"""

from __future__ import annotations

import numpy as np

from ..nn.onnx_attrs import Window

__all__ = ["mlas_average"]

_BUFFER = 2048 - 3   # MLAS_POOL_REDUCTION_BUFFER_STACK - MLAS_POOL_REDUCTION_BUFFER_PADDING


def _global(x: np.ndarray, count: np.float32) -> np.ndarray:
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    size = flat.shape[2]
    lanes = np.zeros(flat.shape[:2] + (4,), dtype=np.float32)
    for i in range(0, size - size % 4, 4):
        lanes = lanes + flat[:, :, i:i + 4]
    total = (lanes[..., 0] + lanes[..., 2]) + (lanes[..., 1] + lanes[..., 3])
    for i in range(size - size % 4, size):
        total = total + flat[:, :, i]
    return (total / count)[:, :, None, None]


def _generic(x: np.ndarray, win: Window, include_pad: bool) -> np.ndarray:
    (h, w), (kh, kw), (sh, sw) = x.shape[2:], win.kernel, win.strides
    (pt, pl), (ho, wo) = win.pads_begin, win.out
    y = np.empty(x.shape[:2] + (ho, wo), dtype=np.float32)
    for ph in range(ho):
        hs, he = max(ph * sh - pt, 0), min(ph * sh - pt + kh, h)
        for pw in range(wo):
            ws, we = max(pw * sw - pl, 0), min(pw * sw - pl + kw, w)
            total = np.zeros(x.shape[:2], dtype=np.float32)
            for i in range(hs, he):
                for j in range(ws, we):
                    total = total + x[:, :, i, j]
            count = kh * kw if include_pad else (he - hs) * (we - ws)
            y[:, :, ph, pw] = total / np.float32(count)
    return y


def _vector(x: np.ndarray, win: Window, include_pad: bool) -> np.ndarray:
    (h, w), (kh, kw), (sh, sw) = x.shape[2:], win.kernel, win.strides
    (pt, pl), (ho, wo) = win.pads_begin, win.out
    starts = np.arange(ho) * sh - pt
    hs, he = np.maximum(starts, 0), np.minimum(starts + kh, h)
    cols = x[:, :, hs, :]                                          # (N, C, Ho, W)
    for r in range(1, kh):
        valid = (hs + r < he)[:, None]
        cols = np.where(valid, cols + x[:, :, np.minimum(hs + r, h - 1), :], cols)
    length = max((wo - 1) * sw + kw, pl + w)
    buf = np.zeros(x.shape[:2] + (ho, length), dtype=np.float32)
    buf[..., pl:pl + w] = cols
    first = np.arange(wo) * sw
    total = buf[..., first]
    for j in range(1, kw):
        total = total + buf[..., first + j]
    if include_pad:
        return total / np.float32(kh * kw)
    widths = np.minimum(first + kw, pl + w) - np.maximum(first, pl)
    count = np.maximum(widths[None, :] * (he - hs)[:, None], 1).astype(np.float32)
    return total / count


def mlas_average(x4: np.ndarray, win: Window, include_pad: bool, one_d: bool) -> np.ndarray:
    """(N, C, H_out, W_out) float32 average of ``x4`` (N, C, H, W; H == 1 for an NCL input) in
    MLAS's order for the kernel MLAS selects (see the module docstring)."""
    (h, w), (kh, kw), (sh, sw) = x4.shape[2:], win.kernel, win.strides
    (pt, pl), (pb, pr) = win.pads_begin, win.pads_end
    if one_d:
        return _generic(x4, win, include_pad)
    if (kh, kw) == (h, w) and (sh, sw) == (1, 1) and not any((pt, pl, pb, pr)):
        return _global(x4, np.float32(h * w))
    if sw <= 2 and kh <= 32 and kw <= 32 and pl + pr + w <= _BUFFER:
        return _vector(x4, win, include_pad)
    return _generic(x4, win, include_pad)
