"""Scale and zero point from a range, and the quantization of initializers.

Integer ranges ``[qmin, qmax]``: uint8 ``[0, 255]``, int8 ``[-128, 127]`` (symmetric
``[-127, 127]``), uint16 / int16 likewise, int4 ``[-8, 7]`` (symmetric ``[-7, 7]``), uint4
``[0, 15]``; ``reduce_range`` keeps 7 bits of an 8-bit type (``[0, 127]`` / ``[-64, 64]``).

:func:`scale_zero_point` (the rule of onnxruntime's ``compute_scale_zp``):
``rmin <- min(rmin, 0)``, ``rmax <- max(rmax, 0)`` (zero is exactly representable);
symmetric: ``rmin, rmax <- -m, m`` with ``m = max(|rmin|, |rmax|)``;
``s = (rmax - rmin) / (qmax - qmin)`` in float64, stored as float32;
``z = round((qmin + qmax) / 2)`` when symmetric, else ``z = round(qmin - rmin / s)`` (float64,
``s`` before the float32 rounding; ``round`` is half to even); a scale below the smallest
normal float32 becomes ``s = 1, z = 0``.

:func:`quantize_array`: ``q = clip(rint(float32(x) / s) + z, qmin, qmax)`` with the division in
float32 (the arithmetic of ONNX ``QuantizeLinear``, ONNX operator spec, opset 10-21).

:func:`quantize_bias`: ``s_b = s_x * s_w`` (float32 product), ``q = clip(rint(float64(b) /
float64(s_b)), -2^31, 2^31 - 1)`` as int32, ``z = 0``: the scale the integer accumulator has.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["QTYPES", "qrange", "scale_zero_point", "quantize_array", "quantize_bias"]

#: type name -> (numpy dtype, ONNX TensorProto elem type, bits, signed)
QTYPES = {
    "uint8": (np.uint8, 2, 8, False),
    "int8": (np.int8, 3, 8, True),
    "uint16": (np.uint16, 4, 16, False),
    "int16": (np.int16, 5, 16, True),
    "uint4": (np.uint8, 21, 4, False),
    "int4": (np.int8, 22, 4, True),
}


def qrange(qtype: str, symmetric: bool = False, reduce_range: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(qmin, qmax)`` as arrays of the storage dtype."""
    if qtype not in QTYPES:
        raise ParameterError(f"quantized type {qtype!r} is not one of {sorted(QTYPES)}")
    dtype, _, bits, signed = QTYPES[qtype]
    if reduce_range and bits == 8:
        lo, hi = (-64, 64) if signed else (0, 127)
    elif signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if symmetric:
            lo = -hi
    else:
        lo, hi = 0, (1 << bits) - 1
    return np.array(lo, dtype=dtype), np.array(hi, dtype=dtype)


def scale_zero_point(rmin, rmax, qmin: np.ndarray, qmax: np.ndarray, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(zero_point, scale)`` of the range (module doc); works per element on arrays."""
    rmin = np.asarray(rmin)
    rmax = np.asarray(rmax)
    rmin = np.minimum(rmin, np.array(0, dtype=rmin.dtype))
    rmax = np.maximum(rmax, np.array(0, dtype=rmax.dtype))
    if symmetric:
        m = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -m, +m
    scale = np.array((np.array(rmax, dtype=np.float64) - np.array(rmin, dtype=np.float64))
                     / (np.array(qmax, dtype=np.float64) - np.array(qmin, dtype=np.float64)))
    tiny = scale < np.finfo(rmax.dtype).tiny
    if symmetric:
        zp = np.full(scale.shape, np.round((qmin + qmax) / np.array(2.0, dtype=np.float64)))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            zp = np.round(qmin - rmin / np.where(tiny, 1.0, scale))
    zp = np.where(tiny, 0, zp).astype(qmin.dtype)
    stored = np.where(tiny, 1.0, scale).astype(rmax.dtype)
    return np.array(zp, dtype=qmin.dtype), np.array(stored, dtype=rmax.dtype)


def quantize_array(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, qtype: str) -> np.ndarray:
    """``clip(rint(x / s) + z)`` in float32, stored in the type's dtype (module doc)."""
    dtype = QTYPES[qtype][0]
    qmin, qmax = qrange(qtype)
    q = np.asarray((np.asarray(x).astype(np.float32) / scale).round() + zero_point)
    np.clip(q, qmin, qmax, out=q)
    return q.astype(dtype)


def quantize_bias(bias: np.ndarray, x_scale: np.ndarray, w_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(int32 values, float32 scale)`` of a bias feeding an accumulator of scale ``s_x s_w``."""
    scale = x_scale * w_scale
    q = (np.asarray(bias, dtype=np.float64) / np.asarray(scale, dtype=np.float64)).round()
    q = np.clip(q, np.float64(np.iinfo(np.int32).min), np.float64(np.iinfo(np.int32).max))
    return q.astype(np.int32), np.asarray(scale, dtype=np.float32).reshape(-1)
