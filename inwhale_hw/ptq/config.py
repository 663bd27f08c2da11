"""Post-training quantization configs: dataclasses, checked on construction, loadable from TOML.

A TOML file holds one table per config kind (``[static]``, ``[dynamic]``, ``[weight_only]``,
``[smoothquant]``) whose keys are the dataclass fields; :func:`load_config` returns the
``static`` config unless ``kind`` asks for another::

    [static]
    activation_type = "uint8"
    weight_type = "int8"
    calibration = "entropy"        # minmax | moving_average | percentile | entropy | mse
    per_channel = false
    exclude_nodes = ["fc2"]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..tomlfile import read_toml

__all__ = ["PTQConfig", "DynamicConfig", "WeightOnlyConfig", "GPTQConfig", "SmoothQuantConfig",
           "CALIBRATIONS", "QUANTIZABLE_OPS", "load_config"]

#: calibration methods (see :mod:`inwhale_hw.ptq.observers`)
CALIBRATIONS = ("minmax", "moving_average", "percentile", "entropy", "mse")

#: operator types the static quantizer knows (onnxruntime's QDQ registry for these ops)
QUANTIZABLE_OPS = ("Conv", "Gemm", "MatMul", "Relu", "Clip", "Add", "Mul", "MaxPool", "AveragePool",
                   "GlobalAveragePool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
                   "Concat", "Sigmoid", "Softmax", "BatchNormalization", "LayerNormalization",
                   "InstanceNormalization")


def _choice(name: str, value: Any, allowed) -> Any:
    if value not in allowed:
        raise ParameterError(f"{name} = {value!r} is not one of {list(allowed)}")
    return value


def _number(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ParameterError(f"{name} = {value!r} must be a number in [{lo}, {hi}]")
    return value


class _TomlMixin:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"{cls.__name__}: unknown key(s) {unknown}; allowed: {sorted(known)}")
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**data)


@dataclass(frozen=True)
class PTQConfig(_TomlMixin):
    """Static PTQ: activations calibrated on data, weights quantized offline.

    ``calibration`` applies to activations; ``weight_calibration`` to weights: "minmax" (the
    extremes, onnxruntime's rule) or "mse" (the clip ratio of the extremes minimising the
    squared error over a 2048-bin histogram of the weight, per tensor or per channel).  ``percentile`` (percent), ``num_bins`` / ``num_quantized_bins`` (histograms),
    ``momentum`` (moving average), ``two_pass_histogram`` (collect the histogram over fixed
    edges found in a first pass: onnxruntime's all-batches-at-once result in constant memory;
    needs a calibration source that can be iterated twice).  ``keep_removable_activations``:
    keep a Relu / Clip that follows a quantized producer (onnxruntime drops it by default and
    gives the producer's output the activation's range).  ``qoperator``: convert the QDQ model
    to integer operators (QLinearConv, QGemm, ...; :mod:`inwhale_hw.ptq.qoperator`).
    """

    activation_type: str = "uint8"
    weight_type: str = "int8"
    activation_symmetric: bool = False
    weight_symmetric: bool | None = None
    per_channel: bool = False
    reduce_range: bool = False
    calibration: str = "minmax"
    calibration_symmetric: bool | None = None
    weight_calibration: str = "minmax"
    percentile: float = 99.999
    num_bins: int | None = None
    num_quantized_bins: int = 128
    momentum: float = 0.01
    two_pass_histogram: bool = True
    op_types: tuple[str, ...] = QUANTIZABLE_OPS
    exclude_nodes: tuple[str, ...] = ()
    keep_removable_activations: bool = False
    qoperator: bool = False
    opset: int | None = None

    def __post_init__(self) -> None:
        _choice("activation_type", self.activation_type, ("uint8", "int8", "uint16", "int16"))
        _choice("weight_type", self.weight_type, ("uint8", "int8", "int16", "int4"))
        _choice("calibration", self.calibration, CALIBRATIONS)
        _choice("weight_calibration", self.weight_calibration, ("minmax", "mse"))
        _number("percentile", self.percentile, 0, 100)
        _number("momentum", self.momentum, 0, 1)
        if self.num_bins is not None:
            _number("num_bins", self.num_bins, 2, 1 << 20)
        _number("num_quantized_bins", self.num_quantized_bins, 2, 1 << 16)
        for op in self.op_types:
            _choice("op_types entry", op, QUANTIZABLE_OPS)

    @property
    def weights_symmetric(self) -> bool:
        """Weights default to symmetric for signed types (onnxruntime's ``WeightSymmetric``)."""
        if self.weight_symmetric is not None:
            return self.weight_symmetric
        return self.weight_type in ("int8", "int16", "int4")

    @property
    def observe_symmetric(self) -> bool:
        if self.calibration_symmetric is not None:
            return self.calibration_symmetric
        return self.calibration == "percentile"

    @property
    def bins(self) -> int:
        """Histogram bins: 2048 for percentile, 128 otherwise unless set (onnxruntime defaults)."""
        if self.num_bins is not None:
            return int(self.num_bins)
        return 2048 if self.calibration == "percentile" else 128


@dataclass(frozen=True)
class DynamicConfig(_TomlMixin):
    """Dynamic PTQ: weights quantized offline (per tensor), activations at run time
    (DynamicQuantizeLinear); ``op_types`` from MatMul (Gemm is rewritten to MatMul + Add) and Conv."""

    weight_type: str = "int8"
    reduce_range: bool = False
    op_types: tuple[str, ...] = ("MatMul", "Conv")
    exclude_nodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _choice("weight_type", self.weight_type, ("uint8", "int8"))
        for op in self.op_types:
            _choice("op_types entry", op, ("MatMul", "Conv"))


@dataclass(frozen=True)
class WeightOnlyConfig(_TomlMixin):
    """Weight-only quantization of MatMul weights in blocks of ``group_size`` along K (RTN);
    ``output``: blocked DequantizeLinear (opset 21) or com.microsoft MatMulNBits (MatMul only)."""

    bits: int = 4
    group_size: int = 32
    symmetric: bool = True
    output: str = "dequantize_linear"
    exclude_nodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _choice("bits", self.bits, (4, 8))
        _number("group_size", self.group_size, 2, 1 << 16)
        _choice("output", self.output, ("dequantize_linear", "matmul_nbits"))
        if self.output == "matmul_nbits" and (self.group_size < 16 or self.group_size & (self.group_size - 1)):
            raise ParameterError(f"group_size = {self.group_size}: MatMulNBits needs a power of two >= 16")


@dataclass(frozen=True)
class GPTQConfig(WeightOnlyConfig):
    """GPTQ (Frantar et al. 2023): ``damp`` (fraction of mean diag H), ``block_size`` (lazy
    batch), ``act_order`` (columns by decreasing Hessian diagonal)."""

    damp: float = 0.01
    block_size: int = 128
    act_order: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _number("damp", self.damp, 0, 1)
        _number("block_size", self.block_size, 1, 1 << 16)


@dataclass(frozen=True)
class SmoothQuantConfig(_TomlMixin):
    """SmoothQuant (Xiao et al. 2023): ``s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)``."""

    alpha: float = 0.5
    op_types: tuple[str, ...] = field(default=("MatMul", "Gemm"))
    exclude_nodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _number("alpha", self.alpha, 0, 1)
        for op in self.op_types:
            _choice("op_types entry", op, ("MatMul", "Gemm"))


_KINDS = {"static": PTQConfig, "dynamic": DynamicConfig, "weight_only": WeightOnlyConfig,
          "gptq": GPTQConfig, "smoothquant": SmoothQuantConfig}


def load_config(path: str | Path, kind: str = "static"):
    """The ``[kind]`` table of a TOML file as its config dataclass (an absent table: defaults)."""
    cls = _KINDS[_choice("kind", kind, tuple(_KINDS))]
    data = read_toml(path, "PTQ config")
    table = data.get(kind, {})
    if not isinstance(table, dict):
        raise ParameterError(f"PTQ config {str(path)!r}: [{kind}] must be a table")
    return cls.from_dict(table)
