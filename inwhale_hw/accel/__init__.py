"""Integer accelerator simulation: run a quantized ONNX model in exact integer arithmetic.

::

    from inwhale_hw.accel import AccelConfig, simulate
    outputs, report = simulate("model_qdq.onnx", x, AccelConfig(acc_bits=16, overflow="sat"))
    print(report.to_text())

* :func:`load_model` reads QDQ and QOperator models (optional extra ``onnx``) and fuses QDQ
  groups into integer kernels as onnxruntime does (:mod:`.loader`);
* :class:`AccelConfig` (or :func:`load_config` from TOML): accumulator width and overflow
  policy, requantization profile, weight format, MAC array and dataflow (:mod:`.config`);
* :func:`simulate` runs the batch, compares every integer tensor with onnxruntime and the
  outputs with a float model, and returns a :class:`Report` (text and JSON);
* :func:`compare_weight_formats` / :func:`quantize_weights` rewrite a float model's MatMul/Gemm
  weights to block formats (GGUF Q4_0/Q8_0, MXFP4/MXFP8, NF4, FP8 ...: :data:`WEIGHT_FORMATS`)
  and report bits per weight and the output error (:mod:`.weight_formats`).

With the default configuration (32-bit wrapping accumulators, profile ``onnxruntime``) every
integer tensor equals onnxruntime's bit for bit.  :data:`SUPPORTED` maps each operator
``(domain, op_type)`` to its form and exactness (float operators onnxruntime approximates
carry a stated tolerance); ``inwhale-hw accel ops`` prints it.
"""

from .config import AccelConfig, load_config
from .graph import Graph, Op
from .loader import SUPPORTED, load_model
from .report import LayerStats, OutputStats, Report
from .simulate import execute, simulate
from .weight_compare import compare_weight_formats
from .weight_formats import WEIGHT_FORMATS, quantize_weights
from .weights import apply_config, pow2_round

__all__ = [
    "SUPPORTED",
    "WEIGHT_FORMATS",
    "AccelConfig",
    "Graph",
    "LayerStats",
    "Op",
    "OutputStats",
    "Report",
    "apply_config",
    "compare_weight_formats",
    "execute",
    "load_config",
    "load_model",
    "pow2_round",
    "quantize_weights",
    "simulate",
]
