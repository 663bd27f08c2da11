"""Accelerator configuration: TOML round trip, defaults, and typed errors quoting bad values."""

from __future__ import annotations

import dataclasses

import pytest

from inwhale_hw.accel import AccelConfig, load_config
from inwhale_hw.errors import InputError, ParameterError

TOML = """
[accumulator]
bits = 20
overflow = "sat"
track_partials = true

[requantization]
profile = "gemmlowp"
pow2_scales = "auto"

[weights]
format = "int4"

[array]
rows = 8
cols = 32
dataflow = "weight-stationary"
clock_mhz = 400
"""


def test_toml_file_round_trip(tmp_path):
    path = tmp_path / "accel.toml"
    path.write_text(TOML)
    cfg = load_config(path)
    assert cfg == AccelConfig(acc_bits=20, overflow="sat", track_partials=True, profile="gemmlowp", pow2_scales=None,
                              weights="int4", array_rows=8, array_cols=32, dataflow="weight-stationary", clock_mhz=400)
    assert cfg.lanes == 32 and cfg.weight_bits == 4 and not cfg.scales_pow2
    again = AccelConfig.from_dict(cfg.to_dict())
    assert dataclasses.replace(again, pow2_scales=None, vector_lanes=None) == cfg


def test_defaults_and_shift_only_implies_pow2_scales():
    cfg = AccelConfig()
    assert (cfg.acc_bits, cfg.overflow, cfg.profile, cfg.weights) == (32, "wrap", "onnxruntime", "int8")
    assert AccelConfig(profile="shift-only").scales_pow2
    assert not AccelConfig(profile="shift-only", pow2_scales=False).scales_pow2
    assert AccelConfig(weights="pow2").weight_bits == 4


@pytest.mark.parametrize("kwargs, quoted", [
    ({"acc_bits": 1}, "accumulator.bits=1"),
    ({"acc_bits": 65}, "accumulator.bits=65"),
    ({"acc_bits": True}, "accumulator.bits=True"),
    ({"overflow": "clamp"}, "accumulator.overflow='clamp'"),
    ({"profile": "tensorrt"}, "requantization.profile='tensorrt'"),
    ({"weights": "int9"}, "weights.format='int9'"),
    ({"weights": "fp16"}, "weights.format='fp16'"),
    ({"array_rows": 0}, "array.rows=0"),
    ({"array_cols": 2.5}, "array.cols=2.5"),
    ({"dataflow": "row-stationary"}, "array.dataflow='row-stationary'"),
    ({"clock_mhz": -1}, "array.clock_mhz=-1"),
    ({"pow2_scales": "yes"}, "requantization.pow2_scales='yes'"),
    ({"track_partials": 1}, "accumulator.track_partials=1"),
])
def test_bad_values_quote_the_value(kwargs, quoted):
    with pytest.raises(ParameterError) as info:
        AccelConfig(**kwargs)
    assert quoted in str(info.value)


def test_bad_toml(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text("[accumulator]\nwidth = 16\n")
    with pytest.raises(ParameterError, match=r"unknown key accumulator.width; allowed: bits, overflow"):
        load_config(path)
    path.write_text("[pe]\nbits = 16\n")
    with pytest.raises(ParameterError, match=r"unknown section \[pe\]"):
        load_config(path)
    path.write_text("[accumulator\nbits = 16\n")
    with pytest.raises(ParameterError, match="not valid TOML"):
        load_config(path)
    path.write_text('[accumulator]\nbits = "16"\n')
    with pytest.raises(ParameterError, match=r"accumulator.bits='16'"):
        load_config(path)
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "none.toml")
