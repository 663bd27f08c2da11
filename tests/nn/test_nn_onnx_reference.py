"""Profile "onnx-reference" against onnx.reference.ReferenceEvaluator (QLinearMatMul, QLinearConv).

The evaluator multiplies the int32 accumulator by the float32 multiplier in float64 and adds
the zero point before rounding; the crafted multipliers below (one float32 ulp around powers of
two, every accumulator in a range swept) make that differ from onnxruntime's float32 product,
and the test checks both that "onnx-reference" matches and that "onnxruntime" does not.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is in the test extra")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from inwhale_hw.nn import qlinear_conv, qlinear_matmul  # noqa: E402

ONNX_TYPE = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int8): TensorProto.INT8}
NAMES = ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"]


def _evaluator(op, names, out_type):
    graph = helper.make_graph(
        [helper.make_node(op, names, ["y"])], op,
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in names],
        [helper.make_tensor_value_info("y", out_type, None)],
    )
    return ReferenceEvaluator(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))


@pytest.mark.parametrize("ta,tb", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)], ids=["u8u8", "u8s8", "s8s8"])
def test_qlinear_matmul_matches_onnx_reference(ta, tb):
    rng = np.random.default_rng(99)
    ref_eval = _evaluator("QLinearMatMul", NAMES, ONNX_TYPE[np.dtype(ta)])
    za = np.asarray(0 if np.dtype(ta) == np.int8 else 128, dtype=ta)
    span = 3000
    accs = np.arange(-span, span + 1)
    v = np.floor_divide(accs + 63, 127)
    a = np.stack([accs - 127 * v + int(za), v + int(za)], axis=1).astype(ta)
    powers = (2.0 ** -np.arange(5, 12)).astype(np.float32)
    mults = np.concatenate([np.nextafter(powers, np.float32(1)), powers, np.nextafter(powers, np.float32(0)),
                            rng.uniform(2.0**-11, 2.0**-5, 20).astype(np.float32)])
    b = np.zeros((2, mults.size), dtype=tb)
    b[0], b[1] = 1, 127
    zb = np.zeros(mults.size, dtype=tb)
    one = np.asarray(1.0, np.float32)
    mismatches = differs = total = 0
    for zy_value in (0, 3, 100):
        zy = np.asarray(zy_value if np.dtype(ta) == np.int8 else zy_value + 27, dtype=ta)
        ref = ref_eval.run(None, dict(zip(NAMES, [a, one, za, b, mults, zb, one, zy])))[0]
        ours = qlinear_matmul(a, one, za, b, mults, zb, one, zy, profile="onnx-reference")
        mismatches += int(np.count_nonzero(ours != ref))
        differs += int(np.count_nonzero(qlinear_matmul(a, one, za, b, mults, zb, one, zy) != ref))
        total += ref.size
    # random data, random scales
    for _ in range(4):
        k = int(rng.integers(8, 100))
        a = rng.integers(np.iinfo(ta).min, np.iinfo(ta).max + 1, (64, k)).astype(ta)
        b = rng.integers(np.iinfo(tb).min, np.iinfo(tb).max + 1, (k, 48)).astype(tb)
        za = np.asarray(rng.integers(0, 100), dtype=ta)
        zb = np.asarray(rng.integers(0, 100, 48), dtype=tb)
        sa, sb = np.float32(rng.uniform(0.01, 0.1)), rng.uniform(0.01, 0.1, 48).astype(np.float32)
        sy = np.asarray(sa * sb.mean() * np.sqrt(k) * 127 * 127 / 3 / 50, np.float32)
        zy = np.asarray(rng.integers(0, 100), dtype=ta)
        ref = ref_eval.run(None, dict(zip(NAMES, [a, np.asarray(sa), za, b, sb, zb, sy, zy])))[0]
        ours = qlinear_matmul(a, np.asarray(sa), za, b, sb, zb, sy, zy, profile="onnx-reference")
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
    assert total > 500_000
    assert differs > 0, "float64 (reference) and float32 (onnxruntime) products must differ on the crafted ties"
    assert mismatches == 0


@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinear_conv_matches_onnx_reference(per_channel):
    rng = np.random.default_rng(5 + per_channel)
    x = rng.integers(0, 256, (2, 6, 13, 11)).astype(np.uint8)
    w = rng.integers(-128, 128, (8, 3, 3, 3)).astype(np.int8)
    bias = rng.integers(-5000, 5000, 8).astype(np.int32)
    x_scale, x_zp = np.float32(0.02), np.asarray(117, np.uint8)
    w_scale = rng.uniform(0.002, 0.01, 8 if per_channel else 1).astype(np.float32)
    w_scale = w_scale if per_channel else w_scale.reshape(())
    w_zp = np.zeros(8, np.int8) if per_channel else np.asarray(0, np.int8)
    y_scale, y_zp = np.float32(0.05), np.asarray(131, np.uint8)
    attrs = dict(group=2, strides=[2, 1], pads=[1, 2, 0, 1], dilations=[1, 2])
    init = [numpy_helper.from_array(np.asarray(v), n) for n, v in
            [("x_scale", x_scale), ("x_zero_point", x_zp), ("w", w), ("w_scale", w_scale),
             ("w_zero_point", w_zp), ("y_scale", y_scale), ("y_zero_point", y_zp), ("B", bias)]]
    names = ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point", "B"]
    graph = helper.make_graph(
        [helper.make_node("QLinearConv", names, ["y"], **attrs)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], initializer=init,
    )
    ref = ReferenceEvaluator(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])).run(None, {"x": x})[0]
    ours = qlinear_conv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias, profile="onnx-reference", **attrs)
    assert ours.shape == ref.shape
    assert np.count_nonzero(ours != ref) == 0
    assert len(np.unique(ref)) > 50
