"""Float32 ConvTranspose (1-D / 2-D) and LRN (ONNX operators.md, opsets 11-17).

ConvTranspose: every input pixel scatters ``x[n, c, h, w] * W[c, o, i, j]`` to output position
``(h * s_h - p_top + i * d_h, w * s_w - p_left + j * d_w)`` (``W`` is ``C x O/group x kH x kW``).
Output size ``s * (L - 1) + output_padding + (k - 1) * d + 1 - pad_begin - pad_end``; with
``output_shape`` the total padding is derived from it (``SAME_UPPER`` puts the odd element at
the end, otherwise at the beginning, as the spec says).  The sums run per kernel tap in float32
(onnxruntime uses GEMM + col2im: a different order, so the stated tolerance applies).

LRN: ``y = x / (bias + alpha / size * sum_{c' in window} x[c']^2)^beta`` over the channels
``c - floor((size-1)/2) .. c + ceil((size-1)/2)``, computed in float64 and rounded once.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS"]


def _ints(value, n: int, default: int) -> list[int]:
    return [default] * n if value is None else [int(v) for v in value]


def _pads(attrs: dict, sizes, kernel, strides, dilations, out_pad, where: str) -> tuple[list[int], list[int]]:
    n = len(sizes)
    full = [s * (size - 1) + op + (k - 1) * d + 1 for size, k, s, d, op in zip(sizes, kernel, strides, dilations, out_pad)]
    auto = attrs.get("auto_pad", "NOTSET")
    if attrs.get("output_shape") is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        target = ([int(v) for v in attrs["output_shape"]][-n:] if attrs.get("output_shape") is not None
                  else [size * s for size, s in zip(sizes, strides)])
        total = [f - t for f, t in zip(full, target)]
        if min(total) < 0:
            raise ModelError(f"{where}: output_shape {target} is larger than the full output {full}")
        if auto == "SAME_UPPER":
            return [t // 2 for t in total], [t - t // 2 for t in total]
        return [t - t // 2 for t in total], [t // 2 for t in total]
    if auto == "VALID":
        return [0] * n, [0] * n
    pads = _ints(attrs.get("pads"), 2 * n, 0)
    return pads[:n], pads[n:]


def conv_transpose(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    where = f"ConvTranspose {op.name!r}"
    if x.dtype != np.float32 or w.dtype != np.float32 or x.ndim not in (3, 4) or w.ndim != x.ndim:
        raise ModelError(f"{where}: expected float32 NCL / NCHW input and weights, got {x.dtype} {x.shape}, {w.dtype} {w.shape}")
    one_d = x.ndim == 3
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]
    n_sp = 1 if one_d else 2
    attrs = op.attrs
    group = int(attrs.get("group", 1))
    c, og = w.shape[0], w.shape[1]
    if x.shape[1] != c or c % group:
        raise ModelError(f"{where}: input has {x.shape[1]} channels, weights {w.shape}, group={group}")
    kernel = list(w.shape[2:])[-n_sp:]
    strides = _ints(attrs.get("strides"), n_sp, 1)
    dilations = _ints(attrs.get("dilations"), n_sp, 1)
    out_pad = _ints(attrs.get("output_padding"), n_sp, 0)
    begin, end = _pads(attrs, list(x.shape[2:])[-n_sp:], kernel, strides, dilations, out_pad, where)
    if one_d:
        strides, dilations, out_pad, begin, end = [1] + strides, [1] + dilations, [0] + out_pad, [0] + begin, [0] + end
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    full = [strides[0] * (h - 1) + out_pad[0] + (kh - 1) * dilations[0] + 1,
            strides[1] * (wd - 1) + out_pad[1] + (kw - 1) * dilations[1] + 1]
    y = np.zeros((n, og * group, full[0], full[1]), dtype=np.float32)
    cg = c // group
    for g in range(group):
        xg = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                part = np.einsum("nchw,co->nohw", xg, w[g * cg:(g + 1) * cg, :, i, j]).astype(np.float32)
                r0, c0 = i * dilations[0], j * dilations[1]
                y[:, g * og:(g + 1) * og, r0:r0 + (h - 1) * strides[0] + 1:strides[0],
                  c0:c0 + (wd - 1) * strides[1] + 1:strides[1]] += part
    y = y[:, :, begin[0]:full[0] - end[0], begin[1]:full[1] - end[1]]
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    y = np.ascontiguousarray(y[:, :, 0, :] if one_d else y)
    return OpResult([y], "host", macs=int(x.size) * og * kh * kw)


def lrn(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x = args[0]
    if x.dtype != np.float32 or x.ndim < 3:
        raise ModelError(f"LRN {op.name!r}: expected a float32 N x C x ... tensor, got {x.dtype} {x.shape}")
    size = int(op.attrs["size"])
    alpha, beta, bias = (float(np.float32(op.attrs.get(k, d))) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    sq = x.astype(np.float64) ** 2
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    padded = np.pad(sq, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
    window = sum(padded[:, k:k + x.shape[1]] for k in range(size))
    y = x / (bias + alpha / size * window) ** beta
    return OpResult([y.astype(np.float32)], "host", vector_elements=x.size * size)


EXECUTORS = {"ConvTranspose": conv_transpose, "LRN": lrn}
