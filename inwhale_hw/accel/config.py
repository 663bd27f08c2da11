"""Accelerator configuration: datapath choices and the MAC array, from Python or a TOML file.

TOML layout (every key optional; defaults shown)::

    [accumulator]
    bits = 32                 # signed accumulator width, 2..64
    overflow = "wrap"         # "wrap", "sat" or "error" (inwhale_hw.nn.accumulate)
    track_partials = false    # peak over every partial sum, not only final sums (slower)

    [requantization]
    profile = "onnxruntime"   # a name from inwhale_hw.nn.PROFILES
    pow2_scales = "auto"      # round every scale to a power of two; "auto": only for shift-only

    [weights]
    format = "int8"           # "int8" (the model's codes), "int2".."int7", or "pow2"; for float
                              # models a block format: q4_0, q8_0, mxfp4, nf4, fp8 ... (weight-only,
                              # inwhale_hw.accel.weight_formats)

    [array]
    rows = 16                 # MAC array R x C
    cols = 16
    dataflow = "output-stationary"   # or "weight-stationary" (inwhale_hw.accel.cycles)
    vector_lanes = 16         # element-wise unit width (default: cols)
    clock_mhz = 200.0

Bad values raise :class:`~inwhale_hw.errors.ParameterError` quoting the value and what is
allowed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..nn import OVERFLOW_POLICIES, PROFILES
from ..tomlfile import read_toml
from .weight_formats import WEIGHT_FORMATS

__all__ = ["AccelConfig", "BLOCK_WEIGHT_FORMATS", "DATAFLOWS", "load_config"]

DATAFLOWS = ("output-stationary", "weight-stationary")
_WEIGHTS = re.compile(r"^(int[2-8]|pow2)$")
#: weight formats for float models (:data:`inwhale_hw.accel.weight_formats.WEIGHT_FORMATS` but int8/int4)
BLOCK_WEIGHT_FORMATS = tuple(f for f in WEIGHT_FORMATS if f not in ("int8", "int4"))

# TOML section -> {key: dataclass field}
_LAYOUT = {
    "accumulator": {"bits": "acc_bits", "overflow": "overflow", "track_partials": "track_partials"},
    "requantization": {"profile": "profile", "pow2_scales": "pow2_scales"},
    "weights": {"format": "weights"},
    "array": {"rows": "array_rows", "cols": "array_cols", "dataflow": "dataflow",
              "vector_lanes": "vector_lanes", "clock_mhz": "clock_mhz"},
}


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ParameterError(f"accelerator config: {name}={value!r} is not allowed; expected an integer in [{lo}, {hi}]")
    return value


def _choice(name: str, value: Any, allowed) -> str:
    if value not in allowed:
        raise ParameterError(f"accelerator config: {name}={value!r} is not allowed; expected one of {', '.join(map(str, allowed))}")
    return value


@dataclass(frozen=True)
class AccelConfig:
    """Datapath and array parameters (see the module docstring for meanings and defaults)."""

    acc_bits: int = 32
    overflow: str = "wrap"
    track_partials: bool = False
    profile: str = "onnxruntime"
    pow2_scales: bool | None = None
    weights: str = "int8"
    array_rows: int = 16
    array_cols: int = 16
    dataflow: str = "output-stationary"
    vector_lanes: int | None = None
    clock_mhz: float = 200.0

    def __post_init__(self) -> None:
        _int("accumulator.bits", self.acc_bits, 2, 64)
        _choice("accumulator.overflow", self.overflow, OVERFLOW_POLICIES)
        if not isinstance(self.track_partials, bool):
            raise ParameterError(f"accelerator config: accumulator.track_partials={self.track_partials!r} is not allowed; expected true or false")
        _choice("requantization.profile", self.profile, tuple(PROFILES))
        if self.pow2_scales not in (None, True, False):
            raise ParameterError(f"accelerator config: requantization.pow2_scales={self.pow2_scales!r} is not allowed; expected true, false or \"auto\"")
        if not isinstance(self.weights, str) or not (_WEIGHTS.match(self.weights) or self.block_weights):
            raise ParameterError(f"accelerator config: weights.format={self.weights!r} is not allowed; expected int8, "
                                 f"int2..int7, pow2, or a block format ({', '.join(BLOCK_WEIGHT_FORMATS)})")
        _int("array.rows", self.array_rows, 1, 1 << 16)
        _int("array.cols", self.array_cols, 1, 1 << 16)
        _choice("array.dataflow", self.dataflow, DATAFLOWS)
        if self.vector_lanes is not None:
            _int("array.vector_lanes", self.vector_lanes, 1, 1 << 16)
        clock = self.clock_mhz
        if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 0 < clock < 1e6:
            raise ParameterError(f"accelerator config: array.clock_mhz={clock!r} is not allowed; expected a number in (0, 1e6)")

    @property
    def scales_pow2(self) -> bool:
        """Whether every scale is rounded to a power of two (``pow2_scales``, or ``shift-only``)."""
        return self.profile == "shift-only" if self.pow2_scales is None else self.pow2_scales

    @property
    def lanes(self) -> int:
        """Width of the element-wise unit (``vector_lanes``, default ``array_cols``)."""
        return self.vector_lanes or self.array_cols

    @property
    def block_weights(self) -> bool:
        """Whether ``weights`` is a block format (float models' MatMul/Gemm weights rewritten)."""
        return self.weights in BLOCK_WEIGHT_FORMATS

    @property
    def weight_bits(self) -> int:
        """Code width of the weight format (pow2: 4 = sign + 3-bit exponent field)."""
        return 4 if self.weights == "pow2" else int(self.weights[3:])

    def to_dict(self) -> dict[str, Any]:
        """The configuration as TOML-shaped nested dicts (``pow2_scales`` resolved)."""
        flat = asdict(self)
        flat["pow2_scales"] = self.scales_pow2
        flat["vector_lanes"] = self.lanes
        return {section: {key: flat[field] for key, field in keys.items()} for section, keys in _LAYOUT.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AccelConfig":
        """Build from TOML-shaped nested dicts; unknown sections or keys are errors."""
        if not isinstance(data, dict):
            raise ParameterError(f"accelerator config must be a table of sections, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        for section, values in data.items():
            if section not in _LAYOUT:
                raise ParameterError(f"accelerator config: unknown section [{section}]; allowed: {', '.join(_LAYOUT)}")
            if not isinstance(values, dict):
                raise ParameterError(f"accelerator config: [{section}] must be a table, got {values!r}")
            for key, value in values.items():
                if key not in _LAYOUT[section]:
                    raise ParameterError(
                        f"accelerator config: unknown key {section}.{key}; allowed: {', '.join(_LAYOUT[section])}")
                if key == "pow2_scales" and value == "auto":
                    value = None
                kwargs[_LAYOUT[section][key]] = value
        return cls(**kwargs)


def load_config(path: str | Path) -> AccelConfig:
    """Read an :class:`AccelConfig` from a TOML file."""
    return AccelConfig.from_dict(read_toml(path, "accelerator config"))
