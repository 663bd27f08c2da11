"""Post-training quantization of float ONNX models into QDQ models the simulator runs.

``prepare(model, config, calibration_data)`` -> :class:`PreparedModel` (``calibrate`` more
batches, ``convert()`` to the QDQ ModelProto); ``quantize(model, data, config, output)`` does it
in one call.  Configs: :mod:`inwhale_hw.ptq.config`; observers and their formulas:
:mod:`inwhale_hw.ptq.observers` and :mod:`inwhale_hw.ptq.histogram`; scale / zero-point rules:
:mod:`inwhale_hw.ptq.qparams`; QDQ placement and names: :mod:`inwhale_hw.ptq.qdq`.
"""

from .config import DynamicConfig, GPTQConfig, PTQConfig, SmoothQuantConfig, WeightOnlyConfig, load_config
from .dynamic import quantize_dynamic
from .weight_only import quantize_weight_only
from .static import PreparedModel, observed_model, prepare, quantize, save_model, simulator_runner

__all__ = ["PTQConfig", "DynamicConfig", "WeightOnlyConfig", "GPTQConfig", "SmoothQuantConfig", "load_config",
           "PreparedModel", "prepare", "quantize", "observed_model", "simulator_runner", "save_model",
           "quantize_dynamic", "quantize_weight_only"]
