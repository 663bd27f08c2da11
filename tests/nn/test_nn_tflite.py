"""TFLite profiles against the LiteRT interpreter (PyPI ``ai-edge-litert``) on int8 models.

No converter is needed: the models (one FULLY_CONNECTED or CONV_2D, int8 activations, int8
weights per-tensor or per-channel, int32 bias) are written with the flatbuffer schema module
the package ships.  The interpreter runs each model three ways, and each way is one profile:

* ``BUILTIN_REF`` (reference kernels): FULLY_CONNECTED -> "tflite-reference",
  CONV_2D -> "gemmlowp" (the two reference kernels requantize differently)
* ``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` (optimized kernels, ruy) -> "tflite-ruy"
* ``BUILTIN`` (XNNPACK delegate applied by default)               -> "xnnpack"

Data: every accumulator in [-4096, 4096] (K = 2 digit trick) against multipliers one float32
ulp around powers of two, plus random operands and scales.
"""

from __future__ import annotations

import numpy as np
import pytest

litert = pytest.importorskip(
    "ai_edge_litert.interpreter", reason="ai-edge-litert (LiteRT) is not installed: pip install ai-edge-litert"
)
import flatbuffers  # noqa: E402
from ai_edge_litert import schema_py_generated as S  # noqa: E402

from inwhale_hw.nn import PROFILES, conv2d, matmul  # noqa: E402

RESOLVERS = {
    "tflite-reference": "BUILTIN_REF",
    "tflite-ruy": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
    "xnnpack": "BUILTIN",
}
CONV_RESOLVERS = {
    "gemmlowp": "BUILTIN_REF",
    "tflite-ruy": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
    "xnnpack": "BUILTIN",
}


def _quant(scale, zero_point, dim=0):
    q = S.QuantizationParametersT()
    q.scale = [float(s) for s in np.atleast_1d(scale)]
    q.zeroPoint = [int(z) for z in np.atleast_1d(zero_point)]
    q.quantizedDimension = dim
    return q


def _tensor(shape, ttype, buffer, name, quant):
    t = S.TensorT()
    t.shape, t.type, t.buffer, t.name, t.quantization = list(shape), ttype, buffer, name, quant
    return t


def _model(op_code, options_type, options, x_shape, w, bias, y_shape, s_in, z_in, s_w, s_out, z_out):
    buffers = [S.BufferT() for _ in range(5)]
    buffers[2].data = w.astype(np.int8).view(np.uint8).ravel()
    buffers[3].data = bias.astype(np.int32).view(np.uint8).ravel()
    n_scales = np.size(s_w)
    tensors = [
        _tensor(x_shape, S.TensorType.INT8, 1, "x", _quant(s_in, z_in)),
        _tensor(w.shape, S.TensorType.INT8, 2, "w", _quant(s_w, np.zeros(n_scales, int))),
        _tensor(bias.shape, S.TensorType.INT32, 3, "b",
                _quant(np.float32(s_in) * np.asarray(s_w, np.float32), np.zeros(n_scales, int))),
        _tensor(y_shape, S.TensorType.INT8, 4, "y", _quant(s_out, z_out)),
    ]
    op = S.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, 2], [3]
    op.builtinOptionsType, op.builtinOptions = options_type, options
    graph = S.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [0], [3], [op]
    code = S.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = op_code
    code.version = 5 if n_scales > 1 else 4
    model = S.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [graph], buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _run(content, x, resolver):
    interp = litert.Interpreter(
        model_content=content, num_threads=1,
        experimental_op_resolver_type=getattr(litert.OpResolverType, resolver),
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def _fc(x, w, bias, s_in, z_in, s_w, s_out, z_out):
    options = S.FullyConnectedOptionsT()
    return _model(S.BuiltinOperator.FULLY_CONNECTED, S.BuiltinOptions.FullyConnectedOptions, options,
                  x.shape, w, bias, (x.shape[0], w.shape[0]), s_in, z_in, s_w, s_out, z_out)


def _digit_operands():
    accs = np.arange(-4096, 4097)
    v = np.floor_divide(accs + 63, 127)
    x = np.stack([accs - 127 * v, v], axis=1).astype(np.int8)
    return x


def _tie_multipliers(rng):
    powers = (2.0 ** -np.arange(5, 13)).astype(np.float32)
    return np.concatenate([np.nextafter(powers, np.float32(1)), powers, np.nextafter(powers, np.float32(0)),
                           rng.uniform(2.0**-12, 2.0**-5, 40).astype(np.float32)])


@pytest.mark.parametrize("profile", list(RESOLVERS))
def test_fully_connected_matches_litert(profile):
    rng = np.random.default_rng(31)
    fn = PROFILES[profile]
    mismatches = total = 0
    others = {name: 0 for name in RESOLVERS if name != profile}
    mults = _tie_multipliers(rng)
    x = _digit_operands()
    w = np.zeros((mults.size, 2), np.int8)
    w[:, 0], w[:, 1] = 1, 127
    cases = [(mults, 0, np.zeros(mults.size, np.int32))]  # per-channel, ties
    cases += [(mults[i : i + 1], z, rng.integers(-99, 99, mults.size).astype(np.int32)) for i, z in ((3, 5), (17, -7), (50, 0))]
    for s_w, z_out, bias in cases:
        one = np.float32(1.0)
        ref = _run(_fc(x, w, bias, one, 0, s_w, one, z_out), x, RESOLVERS[profile])
        acc = matmul(x, w.T, bias).values
        scale = s_w if s_w.size > 1 else s_w[0]
        mismatches += int(np.count_nonzero(fn(acc, one, scale, one, z_out, np.int8) != ref))
        total += ref.size
        for name in others:
            others[name] += int(np.count_nonzero(PROFILES[name](acc, one, scale, one, z_out, np.int8) != ref))
    for trial in range(4):  # random operands and scales, per-channel
        k, n = int(rng.integers(8, 300)), 64
        x_r = rng.integers(-128, 128, (256, k)).astype(np.int8)
        w_r = rng.integers(-127, 128, (n, k)).astype(np.int8)
        bias = rng.integers(-30000, 30000, n).astype(np.int32)
        s_in, z_in = np.float32(rng.uniform(0.005, 0.05)), int(rng.integers(-20, 20))
        s_w = rng.uniform(0.001, 0.01, n).astype(np.float32)
        s_out = np.float32(s_in * s_w.mean() * np.sqrt(k) * 127 * 127 / 3 / 50)
        z_out = int(rng.integers(-20, 20))
        ref = _run(_fc(x_r, w_r, bias, s_in, z_in, s_w, s_out, z_out), x_r, RESOLVERS[profile])
        acc = matmul(x_r.astype(np.int32) - z_in, w_r.T, bias).values
        mismatches += int(np.count_nonzero(fn(acc, s_in, s_w, s_out, z_out, np.int8) != ref))
        total += ref.size
    assert total > 600_000
    assert all(count > 0 for count in others.values()), f"the other TFLite paths must differ somewhere: {others}"
    assert mismatches == 0, f"{mismatches} of {total} outputs differ from LiteRT {RESOLVERS[profile]}"


@pytest.mark.parametrize("profile", list(CONV_RESOLVERS))
def test_conv2d_matches_litert(profile):
    rng = np.random.default_rng(77)
    fn = PROFILES[profile]
    mismatches = total = 0
    others = {name: 0 for name in CONV_RESOLVERS if name != profile}
    for stride, padding, tie in [(1, S.Padding.VALID, False), (2, S.Padding.SAME, False), (1, S.Padding.VALID, True)]:
        radius = 3 if tie else 127
        x = rng.integers(-radius, radius + 1, (2, 14, 15, 8)).astype(np.int8)  # NHWC
        w = rng.integers(-radius, radius + 1, (16, 3, 3, 8)).astype(np.int8)  # O, kH, kW, I
        bias = rng.integers(-50, 50, 16).astype(np.int32)
        if tie:
            s_in, z_in, s_out = np.float32(1.0), 0, np.float32(1.0)
            s_w = (2.0 ** -rng.integers(1, 5, 16)).astype(np.float32)
        else:
            s_in, z_in = np.float32(0.02), int(rng.integers(-10, 10))
            s_w = rng.uniform(0.002, 0.01, 16).astype(np.float32)
            s_out = np.float32(s_in * s_w.mean() * np.sqrt(72) * 127 * 127 / 3 / 40)
        z_out = int(rng.integers(-10, 10))
        opts = S.Conv2DOptionsT()
        opts.padding, opts.strideH, opts.strideW = padding, stride, stride
        opts.dilationHFactor = opts.dilationWFactor = 1
        h_out = (14 - 3) // stride + 1 if padding == S.Padding.VALID else -(-14 // stride)
        w_out = (15 - 3) // stride + 1 if padding == S.Padding.VALID else -(-15 // stride)
        content = _model(S.BuiltinOperator.CONV_2D, S.BuiltinOptions.Conv2DOptions, opts, x.shape, w, bias,
                         (2, h_out, w_out, 16), s_in, z_in, s_w, s_out, z_out)
        ref = _run(content, x, CONV_RESOLVERS[profile])
        pads = 0
        if padding == S.Padding.SAME:  # TFLite SAME: total = max((out-1)*s + k - in, 0), extra at the end
            ph, pw = max((h_out - 1) * stride + 3 - 14, 0), max((w_out - 1) * stride + 3 - 15, 0)
            pads = (ph // 2, pw // 2, ph - ph // 2, pw - pw // 2)
        acc = conv2d((x.astype(np.int32) - z_in).transpose(0, 3, 1, 2), w.transpose(0, 3, 1, 2), bias,
                     stride=stride, padding=pads).values
        ours = fn(acc, s_in, s_w.reshape(1, -1, 1, 1), s_out, z_out, np.int8).transpose(0, 2, 3, 1)
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
        for name in others:
            alt = PROFILES[name](acc, s_in, s_w.reshape(1, -1, 1, 1), s_out, z_out, np.int8).transpose(0, 2, 3, 1)
            others[name] += int(np.count_nonzero(alt != ref))
    assert all(count > 0 for count in others.values()), f"the other TFLite paths must differ somewhere: {others}"
    assert mismatches == 0, f"{mismatches} of {total} outputs differ from LiteRT {CONV_RESOLVERS[profile]}"
