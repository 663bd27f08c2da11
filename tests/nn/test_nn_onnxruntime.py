"""Profile "onnxruntime" against onnxruntime's own QLinearMatMul and QLinearConv (CPU, MLAS).

Over 1M outputs in total, random data plus crafted ties: power-of-two multipliers that put
``acc * m`` exactly on .5, multipliers one float32 ulp either side of a power of two, and a
digit trick (K = 2, b = [1, 127]) that makes the accumulator take every integer in a range,
so each output column sweeps all accumulators nearest to every tie ``(n + 1/2) / m``.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is in the test extra")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extra")
from onnx import TensorProto, helper  # noqa: E402

from inwhale_hw.nn import PROFILES, qlinear_conv, qlinear_matmul  # noqa: E402

ONNX_TYPE = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int8): TensorProto.INT8}
COMBOS = [(np.uint8, np.uint8, np.uint8), (np.uint8, np.int8, np.uint8), (np.int8, np.int8, np.int8)]


def _session(model):
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def matmul_session(ta, tb, per_column: int):
    """QLinearMatMul with every operand (scales and zero points included) a graph input."""
    bshape = [per_column] if per_column else []
    names = ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"]
    types = [ONNX_TYPE[np.dtype(ta)], TensorProto.FLOAT, ONNX_TYPE[np.dtype(ta)], ONNX_TYPE[np.dtype(tb)],
             TensorProto.FLOAT, ONNX_TYPE[np.dtype(tb)], TensorProto.FLOAT, ONNX_TYPE[np.dtype(ta)]]
    shapes = [None, [], [], None, bshape, bshape, [], []]
    inputs = [helper.make_tensor_value_info(n, t, s) for n, t, s in zip(names, types, shapes)]
    graph = helper.make_graph(
        [helper.make_node("QLinearMatMul", names, ["y"])], "qlinear_matmul", inputs,
        [helper.make_tensor_value_info("y", ONNX_TYPE[np.dtype(ta)], None)],
    )
    return _session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])), names


def _int_range(dtype):
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _centered(rng, dtype, shape, radius, zero_point):
    lo, hi = _int_range(dtype)
    return np.clip(rng.integers(-radius, radius + 1, shape) + np.asarray(zero_point, dtype=np.int64), lo, hi).astype(dtype)


def _zp(rng, dtype, shape=()):
    lo, hi = _int_range(dtype)
    return np.asarray(rng.integers(lo // 2, hi // 2 + 1, shape), dtype=dtype)


def _digit_case(ta, tb, multipliers, span=4096):
    """K = 2 operands whose accumulators take every integer in [-span, span].

    Every column has b = [1, 127] (zero point 0) and its own multiplier m_j (a_scale = y_scale
    = 1, b_scale = m_j), so each column sees every accumulator nearest each tie (n + 1/2) / m_j
    for |n + 1/2| <= span * m_j."""
    za = 0 if np.dtype(ta) == np.int8 else 128
    accs = np.arange(-span, span + 1)
    v = np.floor_divide(accs + 63, 127)
    u = accs - 127 * v
    a = np.stack([u + za, v + za], axis=1).astype(ta)
    b = np.zeros((2, len(multipliers)), dtype=tb)
    b[0], b[1] = 1, 127
    return a, np.asarray(za, dtype=ta), b, np.zeros(len(multipliers), dtype=tb), np.asarray(multipliers, np.float32)


def _run_both(sess, names, a, sa, za, b, sb, zb, sy, zy, profile="onnxruntime"):
    feed = dict(zip(names, [a, sa, za, b, sb, zb, sy, zy]))
    ref = sess.run(None, feed)[0]
    ours = qlinear_matmul(a, sa, za, b, sb, zb, sy, zy, profile=profile)
    return ours, ref


@pytest.mark.parametrize("ta,tb,ty", COMBOS, ids=["u8u8", "u8s8", "s8s8"])
def test_qlinear_matmul_matches_onnxruntime(ta, tb, ty):
    rng = np.random.default_rng(20260601 + COMBOS.index((ta, tb, ty)))
    total = mismatches = ties_seen = 0
    other_profile_differs = 0
    sess_t, names = matmul_session(ta, tb, 0)
    n_cols = 256
    sess_c, names_c = matmul_session(ta, tb, n_cols)
    # 1. random data, random scales, per-tensor and per-column
    for trial in range(3):
        k = int(rng.integers(16, 200))
        za, zb = _zp(rng, ta), _zp(rng, tb)
        a = _centered(rng, ta, (256, k), 127, za)
        b = _centered(rng, tb, (k, n_cols), 127, zb)
        sa = np.float32(rng.uniform(0.001, 0.1))
        sb = np.float32(rng.uniform(0.001, 0.1))
        sigma = np.sqrt(k) * 127 * 127 / 3
        sy = np.float32(sa * sb * sigma / rng.uniform(20, 60))
        zy = _zp(rng, ty)
        ours, ref = _run_both(sess_t, names, a, np.asarray(sa), za, b, np.asarray(sb), zb, np.asarray(sy), zy)
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
        sbc = rng.uniform(0.001, 0.1, n_cols).astype(np.float32)
        zbc = _zp(rng, tb, n_cols)
        b = _centered(rng, tb, (k, n_cols), 127, zbc)
        syc = np.asarray(sa * sbc.mean() * sigma / rng.uniform(20, 60), dtype=np.float32)
        ours, ref = _run_both(sess_c, names_c, a, np.asarray(sa), za, b, sbc, zbc, syc, zy)
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
    # 2. exact ties: m = 2^-p (a_scale = y_scale = 1), small operands so outputs stay in range
    for p in range(1, 6):
        k = 64
        radius = int(np.sqrt(3 * 40 * 2**p / np.sqrt(k))) + 1
        za, zb = _zp(rng, ta), _zp(rng, tb)
        a = _centered(rng, ta, (512, k), radius, za)
        b = _centered(rng, tb, (k, n_cols), radius, zb)
        sb = np.asarray(2.0**-p, dtype=np.float32)
        one = np.asarray(1.0, dtype=np.float32)
        zy = _zp(rng, ty)
        ours, ref = _run_both(sess_t, names, a, one, za, b, sb, zb, one, zy)
        acc = (a.astype(np.int64) - za) @ (b.astype(np.int64) - zb)
        ties_seen += int(np.count_nonzero(acc % 2**p == 2 ** (p - 1)))
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
    # 3. multipliers within one float32 ulp of powers of two, and random ones; every acc swept
    powers = (2.0 ** -np.arange(5, 13)).astype(np.float32)
    mults = np.concatenate([
        np.nextafter(powers, np.float32(1)), powers, np.nextafter(powers, np.float32(0)),
        rng.uniform(2.0**-12, 2.0**-5, 40).astype(np.float32),
    ])
    a, za, b, zb, sb = _digit_case(ta, tb, mults)
    one = np.asarray(1.0, dtype=np.float32)
    zy = np.asarray(0 if np.dtype(ty) == np.int8 else 128, dtype=ty)
    sess_d, names_d = matmul_session(ta, tb, len(mults))
    ours, ref = _run_both(sess_d, names_d, a, one, za, b, sb, zb, one, zy)
    mismatches += int(np.count_nonzero(ours != ref))
    total += ref.size
    for other in ("tflite-reference", "onnx-reference"):
        alt = qlinear_matmul(a, one, za, b, sb, zb, one, zy, profile=other)
        other_profile_differs += int(np.count_nonzero(alt != ref))
    assert total >= 1_000_000
    assert ties_seen > 10_000
    assert other_profile_differs > 0, "the crafted ties must separate the profiles"
    assert mismatches == 0


def conv_session(x, w, bias, attrs, per_channel_scales, x_scale, x_zp, w_zp, y_scale, y_zp):
    init = [
        onnx.numpy_helper.from_array(np.asarray(x_scale, np.float32), "x_scale"),
        onnx.numpy_helper.from_array(np.asarray(x_zp), "x_zero_point"),
        onnx.numpy_helper.from_array(w, "w"),
        onnx.numpy_helper.from_array(np.asarray(per_channel_scales, np.float32), "w_scale"),
        onnx.numpy_helper.from_array(np.asarray(w_zp), "w_zero_point"),
        onnx.numpy_helper.from_array(np.asarray(y_scale, np.float32), "y_scale"),
        onnx.numpy_helper.from_array(np.asarray(y_zp), "y_zero_point"),
    ]
    inputs = ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point"]
    if bias is not None:
        init.append(onnx.numpy_helper.from_array(bias, "B"))
        inputs.append("B")
    node = helper.make_node("QLinearConv", inputs, ["y"], **attrs)
    graph = helper.make_graph(
        [node], "qlinear_conv", [helper.make_tensor_value_info("x", ONNX_TYPE[x.dtype], list(x.shape))],
        [helper.make_tensor_value_info("y", ONNX_TYPE[np.asarray(y_zp).dtype], None)], initializer=init,
    )
    return _session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))


CONV_CASES = [
    # (x shape, w shape, attrs)
    ((2, 8, 20, 20), (16, 8, 3, 3), dict(pads=[1, 1, 1, 1])),
    ((1, 16, 17, 19), (32, 16, 3, 3), dict(strides=[2, 2], pads=[1, 0, 2, 1])),
    ((2, 8, 15, 15), (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1])),
    ((1, 12, 16, 16), (12, 3, 3, 3), dict(group=4, dilations=[2, 2], pads=[2, 1, 2, 3])),
    ((1, 6, 11, 13), (6, 6, 3, 4), dict(auto_pad="SAME_LOWER", strides=[2, 2])),
    ((1, 6, 11, 13), (6, 6, 4, 3), dict(auto_pad="SAME_UPPER", strides=[2, 3])),
    ((1, 4, 30, 30), (20, 4, 5, 5), dict(strides=[3, 2], auto_pad="VALID")),
    ((3, 32, 9, 9), (64, 32, 1, 1), dict()),
    ((2, 6, 40), (10, 6, 5), dict(pads=[2, 2], strides=[2])),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
@pytest.mark.parametrize("tx,tw", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)], ids=["u8u8", "u8s8", "s8s8"])
def test_qlinear_conv_matches_onnxruntime(case, tx, tw):
    rng = np.random.default_rng(7000 + case)
    x_shape, w_shape, attrs = CONV_CASES[case]
    out_ch = w_shape[0]
    x_zp = _zp(rng, tx)
    w_zp = np.asarray(0, dtype=tw) if tw == np.int8 else _zp(rng, tw)
    x = _centered(rng, tx, x_shape, 127, x_zp)
    w = _centered(rng, tw, w_shape, 127, w_zp)
    bias = rng.integers(-20000, 20000, out_ch).astype(np.int32)
    fan_in = int(np.prod(w_shape[1:]))
    mismatches = total = differs = 0
    for per_channel, tie in [(False, False), (True, False), (False, True), (True, True)]:
        x_scale = np.float32(1.0) if tie else np.float32(rng.uniform(0.005, 0.05))
        xc, wc, bc = x, w, bias
        if tie:  # small operands and m = 2^-p: a large share of accumulators sit exactly on .5
            xc = _centered(rng, tx, x_shape, 2, x_zp)
            wc = _centered(rng, tw, w_shape, 2, w_zp)
            bc = rng.integers(-40, 40, out_ch).astype(np.int32)
            w_scale = (2.0 ** -rng.integers(1, 4, out_ch if per_channel else 1)).astype(np.float32)
            y_scale = np.float32(1.0)
        else:
            w_scale = rng.uniform(0.001, 0.02, out_ch if per_channel else 1).astype(np.float32)
            y_scale = np.float32(x_scale * w_scale.max() * np.sqrt(fan_in) * 127 * 127 / 3 / 40)
        w_scale = w_scale if per_channel else w_scale.reshape(())
        y_zp = _zp(rng, tx)
        sess = conv_session(xc, wc, bc, attrs, w_scale, x_scale, x_zp, w_zp, y_scale, y_zp)
        ref = sess.run(None, {"x": xc})[0]
        ours = qlinear_conv(xc, x_scale, x_zp, wc, w_scale, w_zp, y_scale, y_zp, bc, **attrs)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
        if tie:
            alt = qlinear_conv(xc, x_scale, x_zp, wc, w_scale, w_zp, y_scale, y_zp, bc, profile="tflite-reference", **attrs)
            differs += int(np.count_nonzero(alt != ref))
    assert differs > 0, "ties rounded half away (tflite-reference) must differ from onnxruntime somewhere"
    assert mismatches == 0, f"{mismatches} of {total} outputs differ"


def test_profiles_registry_lists_the_runtimes():
    assert {"onnxruntime", "onnx-reference", "tflite-reference", "tflite-ruy", "xnnpack", "gemmlowp",
            "pytorch-fbgemm", "pytorch-qnnpack", "shift-only", "dyadic"} <= set(PROFILES)
    for name, fn in PROFILES.items():
        assert fn.__doc__ and "y = " in fn.__doc__.replace("``", ""), name
