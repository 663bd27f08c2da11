"""The operators the simulator runs: ``SUPPORTED[(domain, op_type)] = (form, exactness)``.

``form`` says how it runs: ``integer`` (exact integer arithmetic on codes), ``float32`` (the
float operator as onnxruntime's CPU kernel computes it), ``data`` (no arithmetic: copies,
shapes, indices), ``qdq`` (quantize / dequantize at the model boundary).

``exactness`` is what the tests in ``tests/accel`` check against onnxruntime:
``exact`` (equal bit for bit) or ``tol <bound>``: onnxruntime uses an approximation or a
summation order the simulator does not reproduce; the bound is the largest difference the
tests accept on their random inputs (per operator, relative to the output's magnitude where
it says ``rel``).  After a following QuantizeLinear such a difference can move a code by
one LSB at a rounding tie; the per-layer report counts mismatching codes.
"""

from __future__ import annotations

__all__ = ["SUPPORTED", "describe"]

_MS = "com.microsoft"
_EXACT_INT = ("integer", "exact")
_EXACT_F32 = ("float32", "exact")
_DATA = ("data", "exact")


def _table() -> dict[tuple[str, str], tuple[str, str]]:
    t: dict[tuple[str, str], tuple[str, str]] = {}
    for op in ("QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger"):
        t[("", op)] = _EXACT_INT
    for op in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"):
        t[("", op)] = ("qdq", "exact")
    for op in ("QGemm", "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool",
               "QLinearConcat", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"):
        t[(_MS, op)] = _EXACT_INT
    for op in ("QuantizeLinear", "DequantizeLinear"):
        t[(_MS, op)] = ("qdq", "exact")
    t[(_MS, "MatMulNBits")] = ("float32", "tol rel 1e-5 (weights dequantized exactly; BLAS summation order)")
    for op in ("Relu", "Clip", "Add", "Sub", "Mul", "Div", "Sum", "Sqrt", "Pow", "Neg", "Abs", "Max", "Min",
               "LeakyRelu", "PRelu", "HardSigmoid", "HardSwish", "Sigmoid", "MaxPool"):
        t[("", op)] = _EXACT_F32
    t[("", "Conv")] = ("float32", "tol rel 1e-5 (BLAS summation order)")
    t[("", "Gemm")] = ("float32", "tol rel 1e-5 (BLAS summation order)")
    t[("", "MatMul")] = ("float32", "tol rel 1e-5 (BLAS summation order)")
    t[("", "ConvTranspose")] = ("float32", "tol rel 1e-5 (summation order)")
    t[("", "LRN")] = ("float32", "tol rel 1e-5 (pow in float64)")
    t[("", "AveragePool")] = ("float32", "exact (opset <= 18: MLAS MlasPool order; opset 19: row-major sum; then divide)")
    t[("", "GlobalAveragePool")] = ("float32", "tol rel 1e-6 (summation order)")
    t[("", "ReduceMean")] = ("float32", "tol rel 1e-6 (summation order)")
    t[("", "Softmax")] = ("float32", "tol 1e-6 abs (MLAS exp approximation)")
    t[("", "Tanh")] = ("float32", "tol 1e-6 abs (MLAS tanh approximation)")
    t[("", "Erf")] = ("float32", "tol 1e-6 abs (MLAS erf approximation)")
    t[("", "Gelu")] = ("float32", "tol 1e-6 abs (erf approximation)")
    t[("", "LayerNormalization")] = ("float32", "tol rel 1e-5 (mean / variance summation order)")
    t[("", "Resize")] = ("data", "exact for nearest (known: round_prefer_ceil with asymmetric coordinates and "
                                   "sizes can pick the other neighbour at a .5 tie); linear (float32 only): tol 1e-6")
    t[("", "BatchNormalization")] = ("float32", "exact (inference form, onnxruntime's folded scale and bias)")
    for op in ("Reshape", "Flatten", "Transpose", "Identity", "Constant", "Squeeze", "Unsqueeze", "Shape",
               "Gather", "Cast", "Concat", "Slice", "Split", "Expand", "Pad", "ConstantOfShape"):
        t[("", op)] = _DATA
    return t


#: ``(domain, op_type) -> (form, exactness)`` for every operator the simulator executes
SUPPORTED: dict[tuple[str, str], tuple[str, str]] = _table()


def describe() -> str:
    """The table as text, one operator a line (for ``--help`` and the README)."""
    rows = [f"{(d + '.' if d else '') + op:<40} {form:<8} {exact}" for (d, op), (form, exact) in sorted(SUPPORTED.items())]
    return "\n".join(rows)
