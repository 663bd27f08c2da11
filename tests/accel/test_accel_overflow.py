"""Narrow accumulators against a plain-Python accumulator on the digits MLP's first layer.

The layer's integer input comes from onnxruntime (its QuantizeLinear output), the weights, bias
and scales from the ONNX file; the reference accumulates ``S_0 = bias, S_k+1 = S_k + x_k w_k``
one Python int at a time, wrapping or clamping every partial sum, then requantizes with
onnxruntime's formula (``rint(f32(acc) * f32(f32(s_x * s_w) / s_y)) + zp``, saturated).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from accel_models import built_models, ort_outputs  # noqa: E402

from inwhale_hw.accel import AccelConfig, execute, load_model, simulate  # noqa: E402
from inwhale_hw.errors import FixedPointOverflowError  # noqa: E402

N_IMAGES = 40


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    import onnx
    from onnx import helper, numpy_helper

    paths = built_models(tmp_path_factory)
    model = onnx.load(paths["mlp_qoperator"])
    x = np.load(paths["x"])[:N_IMAGES]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_tensor_value_info("x_flat_quantized", onnx.TensorProto.UINT8, None))
    x_q = ort_outputs(probe, {"x": x})[1]
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return paths["mlp_qoperator"], x, x_q, init


def _reference(x_q, init, bits, policy):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    xz, wz = int(init["x_flat_zero_point"]), int(init["w1_zero_point"])
    w, bias = init["w1_quantized"].astype(int), init["b1_quantized"].astype(int)
    acc = np.zeros((len(x_q), w.shape[1]), dtype=np.int64)
    overflowed, peak = 0, 0
    for r in range(len(x_q)):
        row = [int(v) - xz for v in x_q[r]]
        for c in range(w.shape[1]):
            s, out = int(bias[c]), False
            exact = s
            out |= not lo <= s <= hi
            s = min(max(s, lo), hi) if policy == "sat" else s
            for k in range(w.shape[0]):
                p = row[k] * (int(w[k, c]) - wz)
                exact += p
                peak = max(peak, abs(exact))
                s += p
                out |= not lo <= (exact if policy == "wrap" else s) <= hi
                if policy == "sat":
                    s = min(max(s, lo), hi)
            if policy == "wrap":
                s = (s - lo) % (1 << bits) + lo
            acc[r, c] = s
            overflowed += out
    m = np.float32(np.float32(init["x_flat_scale"]) * np.float32(init["w1_scale"])) / np.float32(init["h_scale"])
    y = np.clip(np.rint(acc.astype(np.float32) * np.float32(m)).astype(np.int64) + int(init["h_zero_point"]), 0, 255)
    return y.astype(np.uint8), overflowed, peak


@pytest.mark.parametrize("bits, policy", [(16, "wrap"), (16, "sat"), (13, "sat"), (18, "wrap")])
def test_narrow_accumulator_matches_python_reference(mlp, bits, policy):
    path, x, x_q, init = mlp
    graph = load_model(path)
    run = execute(graph, x, AccelConfig(acc_bits=bits, overflow=policy, track_partials=True))
    want, overflowed, peak = _reference(x_q, init, bits, policy)
    assert np.array_equal(run.tensors["x_flat_quantized"], x_q)
    assert np.array_equal(run.tensors["h_quantized"], want)
    fc1 = next(layer for layer in run.layers if layer.name == "fc1_quant")
    assert fc1.overflowed == overflowed and fc1.acc_peak == peak and fc1.acc_peak_is_partial
    assert overflowed > 0 or bits == 18


def test_wide_accumulators_agree_and_error_policy_names_the_layer(mlp):
    path, x, _, _ = mlp
    _, report = simulate(path, x, AccelConfig(acc_bits=20, overflow="error"))
    assert report.outputs[0].ort_mismatches == 0 and report.totals()["overflowed"] == 0
    with pytest.raises(FixedPointOverflowError, match=r"layer 'fc1_quant' \(QGemm\)"):
        simulate(path, x, AccelConfig(acc_bits=14, overflow="error"), reference=False)
