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
  outputs with a float model, and returns a :class:`Report` (text and JSON).

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
from .weights import apply_config, pow2_round

__all__ = [
    "SUPPORTED",
    "AccelConfig",
    "Graph",
    "LayerStats",
    "Op",
    "OutputStats",
    "Report",
    "apply_config",
    "execute",
    "load_config",
    "load_model",
    "pow2_round",
    "simulate",
]
