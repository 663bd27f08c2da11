"""Shared helpers of the accelerator tests: the digits models, built once per test process.

Building trains three small networks and quantizes them with onnxruntime (a few seconds), so
the result is cached in a session temporary directory and reused by every test module.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

STUDY_DIR = Path(__file__).resolve().parents[2] / "examples" / "accel_study"
_CACHE: dict[str, dict[str, Path]] = {}


def example(name: str):
    """Import a module of examples/accel_study (``digits_models`` or ``study``)."""
    if str(STUDY_DIR) not in sys.path:
        sys.path.insert(0, str(STUDY_DIR))
    return importlib.import_module(name)


def built_models(tmp_path_factory) -> dict[str, Path]:
    """Paths of digits_{mlp,cnn,res}_{float,qdq,qoperator}.onnx and the data, built once."""
    if "paths" not in _CACHE:
        out = tmp_path_factory.mktemp("accel_digits")
        paths = dict(example("digits_models").build_all(out))
        paths["x"], paths["y"] = out / "digits_x.npy", out / "digits_y.npy"
        _CACHE["paths"] = paths
    return _CACHE["paths"]


def ort_outputs(model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime's outputs for a model path or ModelProto (CPU provider, default options)."""
    import onnxruntime as ort

    data = model.SerializeToString() if hasattr(model, "SerializeToString") else str(model)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
