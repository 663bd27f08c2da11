"""Weight-only int4: GPTQ equals a straightforward (non-lazy, float64) restatement of the
paper's algorithm, beats round-to-nearest on every layer's output error, and the blocked
DequantizeLinear it writes decodes in onnxruntime to exactly s (q - z)."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.ptq.gptq import gptq, group_params, rtn


def _plain_gptq(w, h, group, bits, sym, damp, act_order):
    """Frantar et al. Algorithm 1 without lazy batches: after each row, update all later rows."""
    w = np.array(w, np.float64)
    h = np.array(h, np.float64)
    k = len(w)
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    w[dead] = 0
    order = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(k)
    fixed = {}
    if act_order:
        for g0 in range(0, k, group):
            fixed[g0 // group] = group_params(w[g0 : g0 + group], bits, sym)
    w, h = w[order], h[np.ix_(order, order)]
    h += damp * np.mean(np.diag(h)) * np.eye(k)
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if sym else (0, (1 << bits) - 1)
    q = np.zeros(w.shape, np.int64)
    for i in range(k):
        if act_order:
            s, z = fixed[order[i] // group]
        elif i % group == 0:
            s, z = group_params(w[i : i + group], bits, sym)
        q[i] = np.clip(np.rint(w[i] / s) + z, lo, hi)
        e = (w[i] - s * (q[i] - z)) / u[i, i]
        w[i + 1 :] -= np.outer(u[i, i + 1 :], e)
    out = np.empty_like(q)
    out[order] = q
    return out


@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("act_order", [False, True])
def test_lazy_gptq_equals_plain_restatement(sym, act_order):
    rng = np.random.default_rng(7)
    for trial in range(5):
        x = rng.standard_normal((200, 16)) * rng.uniform(0.1, 3, 16)
        w = rng.standard_normal((16, 6))
        h = 2 * x.T @ x
        ours, _, _ = gptq(w, h, 4, 4, sym, damp=0.01, block_size=8, act_order=act_order)
        assert np.array_equal(ours, _plain_gptq(w, h, 4, 4, sym, 0.01, act_order)), trial


def test_gptq_beats_rtn_on_random_layers():
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((500, 32)) @ rng.standard_normal((32, 32))  # correlated inputs
        w = rng.standard_normal((32, 8))
        q_r, s_r, z_r = rtn(w, 8)
        q_g, s_g, z_g = gptq(w, 2 * x.T @ x, 8)
        deq = lambda q, s, z: np.repeat(s, 8, axis=0) * (q - np.repeat(z, 8, axis=0))  # noqa: E731
        assert np.sum((x @ w - x @ deq(q_g, s_g, z_g)) ** 2) < np.sum((x @ w - x @ deq(q_r, s_r, z_r)) ** 2)


ort = pytest.importorskip("onnxruntime", reason="the reference needs onnxruntime (test extra)")
pytest.importorskip("sklearn", reason="the digits models need scikit-learn (test extra)")

from ptq_support import built_models, ort_runner  # noqa: E402

from inwhale_hw.ptq import GPTQConfig, WeightOnlyConfig  # noqa: E402
from inwhale_hw.ptq.static import load_float_model  # noqa: E402
from inwhale_hw.ptq.weight_only import quantize_weight_only, weight_targets  # noqa: E402


@pytest.mark.parametrize("name", ["mlp", "cnn", "res"])
def test_gptq_beats_rtn_on_every_layer_and_decodes_in_onnxruntime(tmp_path_factory, name):
    import onnx
    from onnx import numpy_helper

    paths = built_models(tmp_path_factory)
    x = np.load(paths["x"])
    proto = load_float_model(paths[f"{name}_float"])
    config = GPTQConfig(group_size=16)
    targets = weight_targets(proto, config)
    assert targets
    acts = ort_runner(proto, [a for _, a, _ in targets])({"x": x})
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in proto.graph.initializer}
    errors = {}
    for cfg in (WeightOnlyConfig(group_size=16), config):
        q = quantize_weight_only(proto, cfg, x[:1024])
        # onnxruntime decodes every blocked DequantizeLinear: expose the outputs and compare with s (q - z)
        probe = onnx.ModelProto.FromString(q.SerializeToString())
        for _, _, w in targets:
            probe.graph.output.append(onnx.helper.make_tensor_value_info(f"{w}_DequantizeLinear_Output", 1, None))
        sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x": x[:4]})))
        inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
        for node, act, w in targets:
            qv, s, z = (inits[f"{w}_{k}"].astype(np.float32) for k in ("quantized", "scale", "zero_point"))
            expect = np.repeat(s, 16, axis=0) * (qv - np.repeat(z, 16, axis=0))
            assert np.array_equal(got[f"{w}_DequantizeLinear_Output"], expect)
            xa = acts[act].reshape(-1, weights[w].shape[0]).astype(np.float64)
            errors.setdefault(node, []).append(float(np.sum((xa @ weights[w] - xa @ expect.astype(np.float64)) ** 2)))
    for node, (err_rtn, err_gptq) in errors.items():
        assert err_gptq < err_rtn, (node, err_rtn, err_gptq)


@pytest.mark.parametrize("sym", [True, False])
def test_matmul_nbits_output_decodes_to_the_same_weights(tmp_path_factory, sym):
    """The MatMulNBits form (accuracy_level 1: float32 compute) gives x @ s (q - z) of the
    DequantizeLinear form's codes, in onnxruntime and in our simulator."""
    import onnx
    from onnx import numpy_helper

    from inwhale_hw.accel import simulate

    paths = built_models(tmp_path_factory)
    x = np.load(paths["x"])[:200]
    dq = quantize_weight_only(paths["res_float"], GPTQConfig(group_size=16, symmetric=sym), x)
    nb = quantize_weight_only(paths["res_float"], GPTQConfig(group_size=16, symmetric=sym, output="matmul_nbits"), x)
    assert [n.op_type for n in nb.graph.node].count("MatMulNBits") == 1
    i = {t.name: numpy_helper.to_array(t) for t in dq.graph.initializer}
    w = np.repeat(i["wd_scale"], 16, axis=0) * (i["wd_quantized"].astype(np.float32) - np.repeat(i["wd_zero_point"], 16, axis=0))
    probe = onnx.ModelProto.FromString(nb.SerializeToString())
    for t in ("s_flat", "mm"):
        probe.graph.output.append(onnx.helper.make_tensor_value_info(t, 1, None))
    sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x": x})))
    np.testing.assert_allclose(got["mm"], got["s_flat"].astype(np.float64) @ w, rtol=1e-5, atol=1e-5)
    out, report = simulate(nb, {"x": x})
    np.testing.assert_allclose(out["logits"], got["logits"], rtol=1e-5, atol=1e-5)


def test_onnxruntime_bundled_gptq_reduces_to_rtn_and_ours_beats_it(tmp_path_factory):
    """onnxruntime 1.32's bundled GPTQ (quantization/neural_compressor, the MatMul4BitsQuantizer
    GPTQ path) propagates the error with column ``Hinv[i:, i]`` of the *upper* Cholesky factor,
    which is zero below the diagonal: its codes equal round-to-nearest.  Same data, same grid
    (asymmetric uint4, groups of 32): ours equal its codes only where GPTQ keeps RTN's, and give
    a lower layer output error."""
    wo = pytest.importorskip("onnxruntime.quantization.neural_compressor.weight_only")
    import onnx
    from onnx import numpy_helper

    paths = built_models(tmp_path_factory)
    x = np.load(paths["x"])[:512]

    class Loader:
        batch_size = 64

        def __iter__(self):
            for i in range(0, len(x), 64):
                yield x[i : i + 64], None

    ref = wo.gptq_quantize(onnx.load(str(paths["res_float"])), Loader(), num_bits=4, group_size=32, scheme="asym",
                           n_samples=-1, percdamp=0.01, blocksize=128, actorder=False, mse=False, perchannel=True)
    ref = getattr(ref, "model", ref)
    inits = {t.name: numpy_helper.to_array(t) for t in ref.graph.initializer}
    node = next(n for n in ref.graph.node if n.op_type == "MatMulNBits")
    packed = inits[node.input[1]]
    codes = np.stack([packed & 15, packed >> 4], axis=-1).reshape(packed.shape[0], -1).T.astype(np.int64)
    w = numpy_helper.to_array(next(t for t in onnx.load(str(paths["res_float"])).graph.initializer if t.name == "wd"))
    q_rtn, s_rtn, z_rtn = rtn(w, 32, 4, False)
    assert np.array_equal(codes, q_rtn)

    proto = load_float_model(paths["res_float"])
    acts = ort_runner(proto, ["s_flat"])({"x": x})["s_flat"].astype(np.float64)
    q_g, s_g, z_g = gptq(w, 2 * acts.T @ acts, 32, 4, False)
    deq = lambda q, s, z: np.repeat(s, 32, axis=0) * (q - np.repeat(z, 32, axis=0))  # noqa: E731
    err = lambda wh: float(np.sum((acts @ w.astype(np.float64) - acts @ wh) ** 2))  # noqa: E731
    assert err(deq(q_g, s_g, z_g)) < err(deq(q_rtn, s_rtn, z_rtn)) / 2
