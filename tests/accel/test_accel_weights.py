"""Weight formats (int4, pow2) and power-of-two scales, checked independently and against
onnxruntime running the rewritten model."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, ort_outputs  # noqa: E402

from inwhale_hw.accel import AccelConfig, apply_config, load_model, pow2_round, simulate  # noqa: E402
from inwhale_hw.accel.reference import reference_model  # noqa: E402

N_IMAGES = 300


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return built_models(tmp_path_factory)


def _float_weights(graph, w, s, z, axis):
    shape = [1] * graph.constants[w].ndim
    shape[axis] = -1
    q = graph.constants[w].astype(np.int32) - graph.constants[z].astype(np.int32).reshape(shape if graph.constants[z].size > 1 else ())
    return q.astype(np.float32) * graph.constants[s].astype(np.float32).reshape(shape if graph.constants[s].size > 1 else ())


def _mac_ops(graph):
    return [op for op in graph.ops if op.kind in ("QLinearConv", "QGemm", "QLinearMatMul")]


@pytest.mark.parametrize("net, form", [("cnn", "qdq"), ("res", "qoperator"), ("mlp", "qdq")])
def test_int4_weights_per_channel_and_onnxruntime_agrees(models, net, form):
    graph = load_model(models[f"{net}_{form}"])
    new, notes = apply_config(graph, AccelConfig(weights="int4"))
    assert "int4" in notes[0]
    for op in _mac_ops(graph):
        axis = op.meta["weight_axis"]
        w_float = _float_weights(graph, op.inputs[3], op.inputs[4], op.inputs[5], axis)
        moved = np.moveaxis(w_float, axis, 0).reshape(w_float.shape[axis], -1)
        scale = (np.abs(moved).max(axis=1) / 7).astype(np.float32)
        codes = np.moveaxis(new.constants[op.inputs[3]], axis, 0).reshape(len(scale), -1)
        assert np.array_equal(new.constants[op.inputs[4]], scale)
        assert np.array_equal(codes, np.rint(moved / scale[:, None]).astype(np.int8))
        assert codes.min() >= -7 and codes.max() <= 7
    _check_against_onnxruntime(models, new, net)


@pytest.mark.parametrize("net, form", [("cnn", "qoperator"), ("res", "qdq")])
def test_pow2_weights_are_shifts_at_nearest_levels(models, net, form):
    graph = load_model(models[f"{net}_{form}"])
    new, _ = apply_config(graph, AccelConfig(weights="pow2"))
    for op in _mac_ops(graph):
        axis = op.meta["weight_axis"]
        w_float = np.moveaxis(_float_weights(graph, op.inputs[3], op.inputs[4], op.inputs[5], axis), axis, 0)
        ints = np.moveaxis(new.constants[op.inputs[3]], axis, 0).astype(np.int64)
        scale = new.constants[op.inputs[4]].astype(np.float64)
        assert np.all(np.frexp(scale)[0] == 0.5)  # powers of two
        mags = np.abs(ints)
        assert mags.max() <= 64 and np.all((mags & (mags - 1)) == 0)  # 0 or 2^k
        levels = np.array([0] + [1 << k for k in range(7)], dtype=np.float64)
        for c in range(len(scale)):
            w = np.abs(w_float[c].reshape(-1).astype(np.float64)) / (scale[c] * 64)  # in units of the largest level
            chosen = mags[c].reshape(-1) / 64
            dist = np.abs(w[:, None] - levels[None, :] / 64).min(axis=1)
            assert np.all(np.abs(w - chosen) <= dist + 1e-12)
    _check_against_onnxruntime(models, new, net)


def _check_against_onnxruntime(models, new, net):
    x = np.load(models["x"])[:N_IMAGES]
    ours, report = simulate(new, x, AccelConfig())
    (theirs,) = ort_outputs(reference_model(new), {"x": x})
    assert np.array_equal(ours["logits"], theirs)
    assert all(layer.ort_mismatches == 0 for layer in report.layers if layer.ort_compared)
    y = np.load(models["y"])[:N_IMAGES]
    assert np.mean(ours["logits"].argmax(1) == y) > (0.9 if net != "mlp" else 0.8)


def test_pow2_scales_make_every_scale_a_power_of_two(models):
    graph = load_model(models["cnn_qdq"])
    cfg = AccelConfig(pow2_scales=True)
    new, notes = apply_config(graph, cfg)
    proto = reference_model(new)
    from onnx import numpy_helper

    scales = [numpy_helper.to_array(t) for t in proto.graph.initializer if t.name.endswith("scale")]
    assert len(scales) == 7  # input, conv weight, conv output, conv bias, fc weight, fc bias, logits
    assert all(np.all(np.frexp(s.astype(np.float64))[0] == 0.5) for s in scales)
    assert "power of two" in notes[-1]
    _check_against_onnxruntime(models, new, "cnn")
    x = np.load(models["x"])[:N_IMAGES]
    _, shift = simulate(graph, x, AccelConfig(profile="shift-only"))
    assert shift.outputs[0].ort_mismatches is not None and shift.outputs[0].ort_mismatches < 0.05 * x.shape[0] * 10


def test_pow2_round_is_nearest_in_log_domain():
    rng = np.random.default_rng(7)
    s = np.concatenate([rng.uniform(1e-6, 10, 2000), np.sqrt(2.0) * 2.0 ** np.arange(-20, 5)]).astype(np.float32)
    r = pow2_round(s)
    for value, p in zip(s, r):
        e = int(np.frexp(np.float64(p))[1]) - 1
        sq = Fraction(float(value)) ** 2
        assert Fraction(2) ** (2 * e - 1) <= sq <= Fraction(2) ** (2 * e + 1)
