"""``affine``: against exact rational arithmetic, plain-Python scale formulas and onnxruntime."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import InputError, ParameterError, UnsupportedError
from inwhale_hw.fixed import Rounding
from inwhale_hw.plugins.tensor.affine import Affine
from inwhale_hw.testing import check_quantizer

HALF = Fraction(1, 2)


def round_ref(v: Fraction, mode: Rounding) -> int:
    """Rounding of an exact rational, written out case by case."""
    f = math.floor(v)
    r = v - f
    if mode is Rounding.FLOOR:
        return f
    if mode is Rounding.CEIL:
        return math.ceil(v)
    if mode is Rounding.TOWARD_ZERO:
        return int(v)
    if mode is Rounding.AWAY_FROM_ZERO:
        return math.ceil(v) if v > 0 else math.floor(v)
    if r != HALF:
        return f if r < HALF else f + 1
    tie = {
        Rounding.HALF_UP: f + 1,
        Rounding.HALF_DOWN: f,
        Rounding.HALF_TOWARD_ZERO: f if v > 0 else f + 1,
        Rounding.HALF_AWAY: f + 1 if v > 0 else f,
        Rounding.HALF_EVEN: f if f % 2 == 0 else f + 1,
        Rounding.HALF_ODD: f if f % 2 == 1 else f + 1,
    }
    return tie[mode]


def code_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return lo + int(narrow), hi


def encode_ref(x: float, s: float, z: int, qmin: int, qmax: int, mode: Rounding, d: Fraction) -> int:
    q = round_ref(Fraction(x) / Fraction(s) - d, mode) + z
    return min(max(q, qmin), qmax)


def decode_ref(q: int, s: float, z: int, d: Fraction) -> float:
    return float(Fraction(s) * (q - z + d))


# -- conformance ---------------------------------------------------------------------------

CONFIGS = [
    {},
    {"bits": 4, "observer": "mse"},
    {"bits": 3, "symmetric": False, "signed": False},
    {"bits": 1, "mid_rise": True},
    {"bits": 16, "signed": False, "mid_rise": True},
    {"granularity": "channel"},
    {"granularity": "channel", "axis": -1, "observer": "mse", "bits": 5},
    {"granularity": "group", "group_size": 4, "symmetric": False},
    {"granularity": "group", "group_size": 2, "axis": 0, "observer": "percentile", "percentile": 99.0},
    {"observer": "moving-average", "rounding": "half_away"},
    {"precision": "float32", "symmetric": False, "narrow_range": True},
]


@pytest.mark.parametrize("params", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_conforms(params):
    report = check_quantizer(Affine, params)
    assert "bad input errors" in report.checks


def test_registered_with_alias():
    assert type(get_quantizer("int", bits=4)) is Affine


# -- the quantization math against Fraction ------------------------------------------------

MATH_CASES = [
    dict(bits=4, signed=True, symmetric=True),
    dict(bits=8, signed=False, symmetric=False),
    dict(bits=3, signed=True, symmetric=True, mid_rise=True),
    dict(bits=5, signed=False, symmetric=True),
    dict(bits=6, signed=True, symmetric=False, narrow_range=True),
]


@pytest.mark.parametrize("mode", [m for m in Rounding if m is not Rounding.STOCHASTIC])
@pytest.mark.parametrize("case", MATH_CASES, ids=[str(c) for c in MATH_CASES])
def test_encode_decode_match_fraction_reference(case, mode):
    rng = np.random.default_rng(7)
    q = Affine(rounding=mode, **case)
    qmin, qmax = code_range(case["bits"], case["signed"], q.narrow_range)
    d = HALF if case.get("mid_rise") else Fraction(0)
    # a power-of-two scale makes x/s exact, so crafted ties really are ties
    s = 0.25
    z = (qmin + qmax + 1) // 2 if case["symmetric"] and not case["signed"] else (0 if case["symmetric"] else qmin + 3)
    q.set_scale(s, z)
    ks = np.arange(qmin - z - 3, qmax - z + 3)
    ties = np.concatenate([(ks + 0.5) * s, ks * s, np.nextafter((ks + 0.5) * s, np.inf), np.nextafter((ks + 0.5) * s, -np.inf)])
    x = np.concatenate([rng.normal(0, 1.5 * s * (qmax - qmin) / 2, 400), ties])
    codes = q.encode(x)
    expect = [encode_ref(float(v), s, z, qmin, qmax, mode, d) for v in x]
    assert codes.tolist() == expect
    assert q.decode(codes).tolist() == [decode_ref(c, s, z, d) for c in expect]


def test_non_dyadic_scale_matches_fraction_on_random_data():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 3000)
    q = Affine(bits=8, symmetric=False, signed=False).fit(x)
    s, z = float(q.scale), int(q.zero_point)
    codes = q.encode(x)
    assert codes.tolist() == [encode_ref(float(v), s, z, 0, 255, Rounding.HALF_EVEN, Fraction(0)) for v in x]


# -- scale and zero point from the observed range ----------------------------------------

def test_symmetric_max_abs_scale():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, 1000)
    q = Affine(bits=8).fit(x)
    amax = max(abs(float(v)) for v in x)
    assert float(q.scale) == amax / 127 and int(q.zero_point) == 0
    assert q.encode(x).min() >= -127 and int(np.abs(q.encode(x)).max()) == 127
    assert Affine(bits=8, signed=False).fit(x).zero_point == 128


def test_asymmetric_scale_and_zero_point_as_pytorch_formula():
    rng = np.random.default_rng(2)
    x = rng.uniform(-0.3, 2.0, 500)
    for signed, (qmin, qmax) in ((False, (0, 255)), (True, (-128, 127))):
        q = Affine(bits=8, symmetric=False, signed=signed).fit(x)
        lo, hi = min(min(x.tolist()), 0.0), max(max(x.tolist()), 0.0)
        s = (hi - lo) / (qmax - qmin)
        z = min(max(qmin - round(lo / s), qmin), qmax)  # Python round(): half to even
        assert float(q.scale) == s and int(q.zero_point) == z
    positive = Affine(bits=8, symmetric=False, signed=False).fit(np.array([1.0, 3.0]))
    assert int(positive.zero_point) == 0 and float(positive.scale) == 3.0 / 255


def test_mid_rise_levels_tile_the_range():
    x = np.array([-2.0, -0.1, 0.0, 0.1, 1.0, 2.0])
    q = Affine(bits=1, mid_rise=True).fit(x)
    assert q.levels().tolist() == [-1.0, 1.0]  # ±c/2 with c = 2
    assert q.decode(q.encode(x)).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0, 1.0]  # 0 is a tie: half-even -> +
    q3 = Affine(bits=3, mid_rise=True).fit(np.array([-4.0, 4.0]))
    assert q3.levels().tolist() == [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]


def test_all_zero_tensor_gets_unit_scale():
    q = Affine(bits=4, symmetric=False).fit(np.zeros(5))
    assert float(q.scale) == 1.0
    assert q.decode(q.encode(np.zeros(5))).tolist() == [0.0] * 5


def test_unfitted_encode_fits_on_its_input():
    x = np.array([0.5, -1.5, 3.0])
    q = Affine(bits=8)
    codes = q.encode(x)
    assert float(q.scale) == 3.0 / 127
    assert np.array_equal(q.encode(np.array([1.0])), Affine(bits=8).fit(x).encode(np.array([1.0])))
    assert codes.dtype == np.int8


def test_code_dtypes():
    x = np.linspace(-1, 1, 9)
    assert Affine(bits=4).encode(x).dtype == np.int8
    assert Affine(bits=9).encode(x).dtype == np.int16
    assert Affine(bits=8, signed=False).encode(x).dtype == np.uint8
    assert Affine(bits=16, signed=False).encode(x).dtype == np.uint16


# -- per-channel and per-group -------------------------------------------------------------

def test_per_channel_any_axis_matches_per_slice_reference():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (5, 7, 3)) * np.array([0.1, 1.0, 10.0])
    for axis in (0, 1, -1):
        q = Affine(bits=6, granularity="channel", axis=axis).fit(x)
        moved = np.moveaxis(x, axis, 0)
        assert q.scale.shape == (moved.shape[0],)
        codes = np.moveaxis(q.encode(x), axis, 0)
        for c in range(moved.shape[0]):
            vals = moved[c].reshape(-1).tolist()
            s = max(abs(v) for v in vals) / 31
            assert float(q.scale[c]) == s
            expect = [encode_ref(v, s, 0, -31, 31, Rounding.HALF_EVEN, Fraction(0)) for v in vals]
            assert codes[c].reshape(-1).tolist() == expect


def test_per_group_matches_per_group_reference():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (3, 8))
    q = Affine(bits=4, symmetric=False, signed=False, granularity="group", group_size=4, axis=1).fit(x)
    assert q.scale.shape == (3, 2)
    codes = q.encode(x)
    for r in range(3):
        for g in range(2):
            vals = x[r, 4 * g:4 * g + 4].tolist()
            lo, hi = min(min(vals), 0.0), max(max(vals), 0.0)
            s = (hi - lo) / 15
            z = min(max(-round(lo / s), 0), 15)
            assert float(q.scale[r, g]) == s and int(q.zero_point[r, g]) == z
            assert codes[r, 4 * g:4 * g + 4].tolist() == [encode_ref(v, s, z, 0, 15, Rounding.HALF_EVEN, Fraction(0)) for v in vals]


def test_layout_errors():
    x = np.ones((4, 6))
    with pytest.raises(InputError, match="group_size=4"):
        Affine(granularity="group", group_size=4, axis=1).fit(x)
    with pytest.raises(InputError, match="axis=2"):
        Affine(granularity="channel", axis=2).fit(x)
    q = Affine(granularity="channel", axis=1).fit(x)
    with pytest.raises(InputError, match="6 channels"):
        q.encode(np.ones((4, 5)))
    with pytest.raises(InputError, match="outside"):
        q.decode(np.full((4, 6), 200))


def test_streaming_follows_channel_rows():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (10, 3)) * np.arange(1, 11)[:, None]
    q = Affine(bits=4, granularity="channel", axis=0).fit(x)
    enc = q.encoder()
    parts = [enc.encode(x[a:b]) for a, b in ((0, 1), (1, 4), (4, 10))] + [enc.flush()]
    assert np.array_equal(np.concatenate(parts), q.encode(x))
    with pytest.raises(InputError, match="row 11"):
        q.encoder().encode(np.ones((11, 3)))


# -- parameters and input errors -----------------------------------------------------------

@pytest.mark.parametrize(
    "params, text",
    [
        (dict(mid_rise=True, symmetric=False), "mid_rise=True needs symmetric"),
        (dict(mid_rise=True, narrow_range=True), "narrow_range=True"),
        (dict(bits=1), "bits=1"),
        (dict(bits=1, symmetric=False, signed=False, narrow_range=True), "single code"),
        (dict(rounding="stochastic"), "rounding=.stochastic. is not allowed"),
        (dict(momentum=0.0), "momentum=0.0"),
        (dict(bits=17), "bits=17"),
    ],
)
def test_bad_parameters(params, text):
    with pytest.raises(ParameterError, match=text):
        Affine(**params)


def test_bad_inputs_and_states():
    with pytest.raises(InputError, match="no scale yet"):
        Affine().decode(np.zeros(3, dtype=np.int8))
    with pytest.raises(InputError, match="empty"):
        Affine().fit(np.zeros(0))
    with pytest.raises(InputError, match="flat index 1"):
        Affine().encode(np.array([1.0, np.inf]))
    with pytest.raises(InputError, match="dtype complex"):
        Affine().encode(np.array([1j]))
    with pytest.raises(UnsupportedError, match="partial_fit"):
        Affine(observer="mse").fit(np.ones(4)).partial_fit(np.ones(4))
    with pytest.raises(ParameterError, match="zero_point=300"):
        Affine(bits=8, signed=False).set_scale(0.1, 300)
    with pytest.raises(ParameterError, match="scale=-1"):
        Affine().set_scale(-1.0)


def test_packing_round_trip_through_quantizer():
    rng = np.random.default_rng(8)
    x = rng.normal(0, 1, 37)
    for params in (dict(bits=4), dict(bits=3, signed=False, symmetric=False), dict(bits=12)):
        q = Affine(**params).fit(x)
        codes = q.encode(x)
        data = q.pack_codes(codes)
        assert len(data) == math.ceil(37 * params["bits"] / 8)
        assert np.array_equal(q.unpack_codes(data, 37), codes)


# -- onnxruntime QuantizeLinear / DequantizeLinear -----------------------------------------

def _ort_session(elem_type, zero_point, scale_shape, shape, axis):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    attrs = {} if axis is None else {"axis": axis}
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
        helper.make_tensor_value_info("s", TensorProto.FLOAT, scale_shape),
    ]
    zp = helper.make_tensor("zp", elem_type, scale_shape, np.asarray(zero_point).reshape(-1).tolist())
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], **attrs),
        helper.make_node("Cast", ["y"], ["codes"], to=TensorProto.INT32),  # int4 outputs cannot leave ORT as numpy
        helper.make_node("DequantizeLinear", ["y", "s", "zp"], ["xr"], **attrs),
    ]
    outputs = [
        helper.make_tensor_value_info("codes", TensorProto.INT32, shape),
        helper.make_tensor_value_info("xr", TensorProto.FLOAT, shape),
    ]
    graph = helper.make_graph(nodes, "qdq", inputs, outputs, initializer=[zp])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _tensor_type(bits, signed):
    from onnx import TensorProto

    return {
        (4, True): TensorProto.INT4, (4, False): TensorProto.UINT4,
        (8, True): TensorProto.INT8, (8, False): TensorProto.UINT8,
        (16, True): TensorProto.INT16, (16, False): TensorProto.UINT16,
    }[(bits, signed)]


def _crafted(scale: np.ndarray, zp: np.ndarray, qmin: int, qmax: int, rng) -> np.ndarray:
    """float32 values on and next to the rounding ties of code range [qmin, qmax]."""
    k = rng.integers(qmin - 2, qmax + 3, scale.shape).astype(np.float64) - zp
    tie = ((k + 0.5) * scale).astype(np.float32)
    return np.stack([tie, np.nextafter(tie, np.float32(np.inf)), np.nextafter(tie, np.float32(-np.inf))])


@pytest.mark.parametrize("bits, signed", [(4, True), (4, False), (8, True), (8, False), (16, True), (16, False)])
def test_per_tensor_matches_onnxruntime(bits, signed):
    rng = np.random.default_rng(bits * 2 + signed)
    qmin, qmax = code_range(bits, signed, False)
    for scale in (np.float32(0.0625), np.float32(0.0137), np.float32(3.3e-3)):
        zp = np.array(qmin + (qmax - qmin) // 3, dtype=np.int64)
        q = Affine(bits=bits, signed=signed, symmetric=False, precision="float32").set_scale(scale, zp)
        span = float(scale) * (qmax - qmin)
        x = np.concatenate([
            rng.uniform(-0.7 * span, 0.7 * span, 20000).astype(np.float32),
            _crafted(np.full(3000, scale, dtype=np.float64), zp, qmin, qmax, rng).reshape(-1),
        ]).reshape(-1, 1)
        sess = _ort_session(_tensor_type(bits, signed), zp, [], list(x.shape), None)
        codes_ref, values_ref = sess.run(None, {"x": x, "s": np.array(scale, dtype=np.float32)})
        codes = q.encode(x)
        assert np.array_equal(codes.astype(np.int32), codes_ref), f"{np.count_nonzero(codes != codes_ref)} codes differ"
        values = q.decode(codes)
        assert values.dtype == np.float32
        assert np.array_equal(values.view(np.int32), values_ref.view(np.int32))


@pytest.mark.parametrize("bits, signed, axis", [(8, True, 0), (8, False, 1), (4, True, 1), (4, False, 0)])
def test_per_axis_matches_onnxruntime(bits, signed, axis):
    rng = np.random.default_rng(11 + axis)
    qmin, qmax = code_range(bits, signed, False)
    shape = (6, 5, 3, 2) if axis == 0 else (400, 6)
    n = shape[axis]
    scale = (rng.uniform(0.5, 2.0, n) * 2.0 ** rng.integers(-8, 0, n)).astype(np.float32)
    zp = rng.integers(qmin, qmax + 1, n)
    q = Affine(bits=bits, signed=signed, symmetric=False, granularity="channel", axis=axis, precision="float32")
    q.set_scale(scale, zp)
    bshape = [n if i == axis else 1 for i in range(len(shape))]
    s_full = np.broadcast_to(scale.reshape(bshape).astype(np.float64), shape)
    z_full = np.broadcast_to(zp.reshape(bshape), shape)
    x = rng.uniform(-1, 1, shape) * s_full * (qmax - qmin)
    crafted = _crafted(s_full, z_full, qmin, qmax, rng)
    for data in (x.astype(np.float32), *crafted):
        sess = _ort_session(_tensor_type(bits, signed), zp, [n], list(shape), axis)
        codes_ref, values_ref = sess.run(None, {"x": data, "s": scale})
        codes = q.encode(data)
        assert np.array_equal(codes.astype(np.int32), codes_ref)
        assert np.array_equal(q.decode(codes).view(np.int32), values_ref.view(np.int32))
