"""Float AveragePool bit for bit against onnxruntime: MLAS ``MlasPool``'s summation order up to
opset 18 (vector kernel: column sums over the window rows, then over the window columns; global
kernel: four lanes; generic kernel: row-major), the row-major loop of opset 19, and the
dynamically quantized digits ``res`` model end to end (its ``pool1`` runs in float)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building models needs onnx (onnx extra)")
pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (onnx extra)")

from onnx import helper  # noqa: E402
from test_accel_ops import model  # noqa: E402

from accel_models import ort_outputs  # noqa: E402

from inwhale_hw.accel import execute, load_model  # noqa: E402

RNG = np.random.default_rng(1515)
KERNELS = [(2, 2), (3, 3), (2, 3), (5, 1), (1, 4)]
STRIDES = [(1, 1), (2, 2), (3, 3), (2, 1), (1, 3)]
PADS = [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 0, 2)]


def _cases():
    for k, s, p, include, ceil in itertools.product(KERNELS, STRIDES, PADS, (0, 1), (0, 1)):
        if max(p[0], p[2]) < k[0] and max(p[1], p[3]) < k[1]:
            yield dict(kernel_shape=list(k), strides=list(s), pads=list(p), count_include_pad=include, ceil_mode=ceil)


def _input(shape):
    """Normal values over six decades, so that the summation order shows in the last bits."""
    return (RNG.normal(0, 1, shape) * 10.0 ** RNG.integers(-3, 4, shape)).astype(np.float32)


def _differences(attrs, x, opset):
    m = model([helper.make_node("AveragePool", ["x"], ["y"], **attrs)], {"x": x}, {"y": np.float32}, {})
    m.opset_import[0].version = opset
    ours = execute(load_model(m), {"x": x}).outputs["y"]
    (theirs,) = ort_outputs(m, {"x": x})
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    return int(np.count_nonzero(ours.view(np.uint32) != theirs.view(np.uint32)))


@pytest.mark.parametrize("opset", [11, 17, 19])
def test_average_pool_bits_equal_onnxruntime(opset):
    cases = list(_cases())
    assert len(cases) == 200
    bad = {str(a): d for a in cases if (d := _differences(a, _input((2, 3, 13, 17)), opset))}
    assert bad == {}


@pytest.mark.parametrize("opset", [13, 19])
@pytest.mark.parametrize("shape, attrs", [
    ((2, 3, 13, 17), dict(kernel_shape=[13, 17])),                                 # MLAS global kernel
    ((2, 3, 35, 17), dict(kernel_shape=[33, 2], strides=[1, 2])),                  # kernel > 32: generic
    ((2, 3, 13, 17), dict(kernel_shape=[2, 2], strides=[2, 3], pads=[0, 1, 1, 0])),  # stride_w > 2: generic
    ((2, 3, 40), dict(kernel_shape=[3], strides=[2], pads=[1, 1])),                # NCL: generic 1-D
    ((2, 3, 13, 17), dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER", ceil_mode=1))])
def test_average_pool_kernel_choices(shape, attrs, opset):
    assert _differences(attrs, _input(shape), opset) == 0


def test_mlas_order_is_not_row_major():
    """The 2x2 / stride 2 window of the digits model: MLAS sums (a + c) + (b + d), row-major
    order would give ((a + b) + c) + d; the input is chosen so the two differ."""
    x = np.array([[[[1.0, 1e8], [-1e8, 1.0]]]], dtype=np.float32)  # a=1, b=1e8, c=-1e8, d=1
    attrs = dict(kernel_shape=[2, 2], strides=[2, 2])
    assert _differences(attrs, x, 13) == 0
    m = model([helper.make_node("AveragePool", ["x"], ["y"], **attrs)], {"x": x}, {"y": np.float32}, {})
    assert execute(load_model(m), {"x": x}).outputs["y"].item() == np.float32(0.0)  # (1 - 1e8) + (1e8 + 1) = 0
    m.opset_import[0].version = 19
    assert execute(load_model(m), {"x": x}).outputs["y"].item() == np.float32(0.25)  # ((1 + 1e8) - 1e8) + 1 = 1


@pytest.mark.slow
def test_dynamic_quantized_res_model_end_to_end(tmp_path_factory, tmp_path):
    """The trained digits ``res`` model through ``quantize_dynamic``: ConvInteger / MatMulInteger
    with the Clip, AveragePool ``pool1`` and Add left in float; all 1797 images."""
    pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")
    from accel_models import built_models
    from onnxruntime.quantization import quantize_dynamic

    from inwhale_hw.accel import AccelConfig, simulate

    models = built_models(tmp_path_factory)
    dyn = tmp_path / "res_dynamic.onnx"
    quantize_dynamic(str(models["res_float"]), str(dyn))
    x, y = np.load(models["x"]), np.load(models["y"])
    assert len(x) == 1797 and "AveragePool" in load_model(dyn).kinds()
    outputs, report = simulate(dyn, x, AccelConfig(), labels=y)
    (theirs,) = ort_outputs(dyn, {"x": x})
    assert outputs["logits"].shape == theirs.shape == (1797, 10)
    assert np.count_nonzero(outputs["logits"].view(np.uint32) != theirs.view(np.uint32)) == 0
    pool = [layer for layer in report.layers if layer.name == "pool1"]
    assert len(pool) == 1 and pool[0].ort_compared and pool[0].ort_mismatches == 0
