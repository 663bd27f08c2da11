"""Float32 element-wise executors, each written as onnxruntime's CPU kernel computes it.

Exact (one IEEE float32 rounding per operation, same operation order as the kernel):

* Sub, Mul, Div, Max, Min, Neg, Abs, Sqrt: NumPy's float32 ufuncs with ONNX multidirectional
  broadcasting; Sum of n inputs adds left to right (``((x0 + x1) + x2) + ...``, onnxruntime's
  ``Sum_8`` loop).
* Pow: exponent 2 -> ``x * x``, 3 -> ``x * x * x`` (onnxruntime's special cases), otherwise
  ``powf`` (NumPy's float32 power).
* LeakyRelu ``x >= 0 ? x : f32(alpha * x)``; PRelu ``x > 0 ? x : f32(slope * x)``;
  HardSigmoid ``max(0, min(1, f32(f32(alpha * x) + beta)))``; HardSwish as onnxruntime
  decomposes it, ``x * HardSigmoid(x; 1/6, 0.5)``; Sigmoid is MLAS's logistic
  (:func:`.mlas_math.logistic_f32`).

Approximate (stated tolerance in :data:`inwhale_hw.accel.SUPPORTED`): Tanh, Erf, Gelu use
NumPy / ``math.erf`` in float64 rounded once to float32, while onnxruntime evaluates MLAS
polynomial approximations.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op
from .mlas_math import logistic_f32

__all__ = ["EXECUTORS"]

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _f32(x: np.ndarray, op: Op) -> np.ndarray:
    if x.dtype != np.float32:
        raise ModelError(f"{op.kind} {op.name!r}: float operator got a {x.dtype} tensor; only float32 is supported")
    return x


def _same(op: Op, *xs: np.ndarray) -> None:
    if len({x.dtype for x in xs}) > 1:
        raise ModelError(f"{op.kind} {op.name!r}: inputs have different types {[str(x.dtype) for x in xs]}")


def _result(y: np.ndarray) -> OpResult:
    return OpResult([np.asarray(y)], "host", vector_elements=int(np.size(y)))


def _binary(ufunc):
    def run(op: Op, args: list, ctx: ExecContext) -> OpResult:
        a, b = args[0], args[1]
        _same(op, a, b)
        try:
            return _result(ufunc(a, b, dtype=a.dtype) if a.dtype.kind == "f" else ufunc(a, b).astype(a.dtype))
        except ValueError:
            raise ModelError(f"{op.kind} {op.name!r}: shapes {a.shape} and {b.shape} do not broadcast") from None
    return run


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer Div truncates toward zero (C++ ``/``)."""
    q = np.abs(a.astype(np.int64)) // np.abs(b.astype(np.int64))
    return q * np.sign(a.astype(np.int64)) * np.sign(b.astype(np.int64))


def div(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, b = args[0], args[1]
    _same(op, a, b)
    if a.dtype.kind == "f":
        return _result(np.divide(a, b, dtype=a.dtype))
    if np.any(b == 0):
        raise ModelError(f"Div {op.name!r}: integer division by zero")
    return _result(_int_div(a, b).astype(a.dtype))


def variadic(ufunc):
    def run(op: Op, args: list, ctx: ExecContext) -> OpResult:
        xs = [x for x in args if x is not None]
        _same(op, *xs)
        y = xs[0]
        for x in xs[1:]:
            y = ufunc(y, x)
        return _result(np.array(y, dtype=xs[0].dtype, copy=len(xs) == 1))
    return run


def power(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, e = _f32(args[0], op), args[1]
    if e.size == 1 and float(e.reshape(())) == 2.0:
        return _result(x * x)
    if e.size == 1 and float(e.reshape(())) == 3.0:
        return _result(x * x * x)
    return _result(np.power(x.astype(np.float64), e.astype(np.float32).astype(np.float64)).astype(np.float32))


def _unary(fn):
    def run(op: Op, args: list, ctx: ExecContext) -> OpResult:
        return _result(fn(_f32(args[0], op), op))
    return run


def _hard_sigmoid(x: np.ndarray, alpha, beta) -> np.ndarray:
    return np.maximum(np.float32(0), np.minimum(np.float32(1), x * np.float32(alpha) + np.float32(beta)))


def prelu(op: Op, args: list, ctx: ExecContext) -> OpResult:
    x, slope = _f32(args[0], op), _f32(args[1], op)
    return _result(np.where(x > 0, x, x * slope).astype(np.float32))


EXECUTORS = {
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": div,
    "Sum": variadic(np.add),
    "Max": variadic(np.maximum),
    "Min": variadic(np.minimum),
    "Pow": power,
    "Sqrt": _unary(lambda x, op: _sqrt(x)),
    "Neg": lambda op, args, ctx: _result(np.negative(args[0])),
    "Abs": lambda op, args, ctx: _result(np.abs(args[0])),
    "LeakyRelu": _unary(lambda x, op: np.where(x >= 0, x, x * np.float32(op.attrs.get("alpha", 0.01))).astype(np.float32)),
    "PRelu": prelu,
    "HardSigmoid": _unary(lambda x, op: _hard_sigmoid(x, op.attrs.get("alpha", 0.2), op.attrs.get("beta", 0.5))),
    "HardSwish": _unary(lambda x, op: _hard_swish(x)),
    "Sigmoid": _unary(lambda x, op: logistic_f32(x)),
    "Tanh": _unary(lambda x, op: np.tanh(x.astype(np.float64)).astype(np.float32)),
    "Erf": _unary(lambda x, op: _erf(x.astype(np.float64)).astype(np.float32)),
    "Gelu": _unary(lambda x, op: _gelu(x, op)),
}


def _gelu(x: np.ndarray, op: Op) -> np.ndarray:
    """ONNX Gelu (opset 20): ``0.5 x (1 + erf(x / sqrt 2))`` or the ``tanh`` approximation."""
    x64 = x.astype(np.float64)
    if op.attrs.get("approximate", "none") == "tanh":
        y = 0.5 * x64 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64**3)))
    else:
        y = 0.5 * x64 * (1 + _erf(x64 / math.sqrt(2)))
    return y.astype(np.float32)


def _sqrt(x: np.ndarray) -> np.ndarray:
    """IEEE square root; a negative input gives NaN, as in C++ ``std::sqrt``."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


def _hard_swish(x: np.ndarray) -> np.ndarray:
    """``x * HardSigmoid(x; 1/6, 0.5)`` (``inf * 0`` is NaN, as in onnxruntime)."""
    with np.errstate(invalid="ignore"):
        return x * _hard_sigmoid(x, 1.0 / 6.0, 0.5)
