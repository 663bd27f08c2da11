"""PyTorch profiles against torch's quantized kernels (fbgemm and qnnpack engines).

``torch.ao.nn.quantized.functional.linear`` / ``conv2d`` with a float bias: fbgemm adds
``bias / (s_in s_w)`` to the float accumulator, qnnpack rounds that to int32 first.  Optional:
skipped when torch is not installed (it is not a test dependency).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (CPU wheel: pip install torch)")
qF = pytest.importorskip("torch.ao.nn.quantized.functional", reason="this torch build has no quantized ops")

from inwhale_hw.nn import PROFILES, conv2d, matmul  # noqa: E402

ENGINES = {"pytorch-fbgemm": "fbgemm", "pytorch-qnnpack": "qnnpack"}


@pytest.fixture
def engine(request):
    name = ENGINES[request.param]
    if name not in torch.backends.quantized.supported_engines:
        pytest.skip(f"torch quantized engine {name} is not built in")
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield request.param
    torch.backends.quantized.engine = previous


def _qt(values, scale, zero_point):
    return torch._make_per_tensor_quantized_tensor(torch.from_numpy(values), float(scale), int(zero_point))


def _cases(rng, k):
    """(x range radius, s_in, s_w, s_out, tie): random scales, then m = 2^-p ties."""
    out = []
    for _ in range(3):
        s_in, s_w = np.float32(rng.uniform(0.01, 0.05)), np.float32(rng.uniform(0.001, 0.01))
        out.append((127, s_in, s_w, np.float32(s_in * s_w * np.sqrt(k) * 127 * 127 / 3 / 50), False))
    for p in (1, 2, 3):
        out.append((3, np.float32(1.0), np.float32(2.0**-p), np.float32(1.0), True))
    return out


@pytest.mark.parametrize("engine", list(ENGINES), indirect=True)
def test_linear_matches_torch(engine):
    rng = np.random.default_rng(123)
    fn = PROFILES[engine]
    other = PROFILES["pytorch-qnnpack" if engine == "pytorch-fbgemm" else "pytorch-fbgemm"]
    mismatches = total = differs = 0
    k, n = 64, 48
    for radius, s_in, s_w, s_out, tie in _cases(rng, k):
        z_in, z_out = int(rng.integers(100, 156)), int(rng.integers(100, 156))
        x = np.clip(rng.integers(-radius, radius + 1, (1024, k)) + z_in, 0, 255).astype(np.uint8)
        w = rng.integers(-radius, radius + 1, (n, k)).astype(np.int8)
        # float bias; for ties a multiple of s_in*s_w/4 so bias/(s_in s_w) lands on quarters and halves
        bias = (rng.integers(-40, 40, n) * (s_in * s_w / 4)).astype(np.float32) if tie else \
            rng.uniform(-2, 2, n).astype(np.float32)
        ref = qF.linear(_qt(x, s_in, z_in), _qt(w, s_w, 0), torch.from_numpy(bias), float(s_out), z_out)
        ref = ref.int_repr().numpy()
        acc = matmul(x.astype(np.int32) - z_in, w.T).values
        ours = fn(acc, s_in, s_w, s_out, z_out, np.uint8, float_bias=bias)
        mismatches += int(np.count_nonzero(ours != ref))
        differs += int(np.count_nonzero(other(acc, s_in, s_w, s_out, z_out, np.uint8, float_bias=bias) != ref))
        total += ref.size
    assert differs > 0, "fbgemm and qnnpack bias handling must differ on the crafted ties"
    assert mismatches == 0, f"{mismatches} of {total} outputs differ from torch {engine}"


@pytest.mark.parametrize("engine", list(ENGINES), indirect=True)
def test_conv2d_matches_torch(engine):
    rng = np.random.default_rng(321)
    fn = PROFILES[engine]
    mismatches = total = 0
    for radius, s_in, s_w, s_out, _tie in _cases(rng, 72):
        z_in, z_out = int(rng.integers(100, 156)), int(rng.integers(100, 156))
        x = np.clip(rng.integers(-radius, radius + 1, (2, 8, 12, 11)) + z_in, 0, 255).astype(np.uint8)
        w = rng.integers(-radius, radius + 1, (16, 8, 3, 3)).astype(np.int8)
        bias = rng.uniform(-1, 1, 16).astype(np.float32)
        ref = qF.conv2d(_qt(x, s_in, z_in), _qt(w, s_w, 0), torch.from_numpy(bias), stride=(2, 1), padding=(1, 1),
                        scale=float(s_out), zero_point=z_out)
        ref = ref.int_repr().numpy()
        # torch pads with the input zero point, i.e. real 0: zero padding after subtracting z_in
        acc = conv2d(x.astype(np.int32) - z_in, w, stride=(2, 1), padding=1).values
        ours = fn(acc, s_in, s_w, s_out, z_out, np.uint8, float_bias=bias.reshape(1, -1, 1, 1))
        mismatches += int(np.count_nonzero(ours != ref))
        total += ref.size
    assert mismatches == 0, f"{mismatches} of {total} outputs differ from torch {engine}"
