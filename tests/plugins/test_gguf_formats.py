"""``gguf`` quantizer: bytes identical to ``gguf.quants.quantize``, values to ``gguf.quants.dequantize``."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import InputError, UnsupportedError
from inwhale_hw.plugins.gguf.model import ENCODABLE, GGUF, GGUF_TYPES
from inwhale_hw.testing import check_quantizer

gq = pytest.importorskip("gguf.quants", reason="the gguf package (test extra) is the reference")
from gguf.constants import GGMLQuantizationType  # noqa: E402


def _ref_quantize(x, name):
    with np.errstate(over="ignore"):  # heavy tails: a scale beyond 65504 becomes inf in binary16, in both
        return gq.quantize(x, GGMLQuantizationType[name])


def _ref_dequantize(b, name):
    with np.errstate(invalid="ignore", over="ignore"):
        return gq.dequantize(b, GGMLQuantizationType[name])


def _inputs(n: int, block: int, seed: int) -> dict[str, np.ndarray]:
    """Normal, heavy-tailed, all-zero blocks, ties and +-max blocks; ``n`` values each, rows of 2 blocks."""
    rng = np.random.default_rng(seed)
    row = 2 * block
    rows = n // row
    normal = rng.standard_normal((rows, row))
    heavy = rng.standard_t(2, (rows, row)) * 10.0 ** rng.integers(-4, 4, (rows, 1))
    edge = rng.standard_normal((rows, row))
    k = rows // 4
    edge[:k] = 0.0  # all-zero blocks
    grid = rng.integers(-8, 9, (k, row)) * 0.25  # values on a grid: ties of x/d at .5
    edge[k:2 * k] = grid
    pm = rng.standard_normal((k, row))
    pm[:, ::block] = 3.0
    pm[:, 1::block] = -3.0  # +max and -max in one block (argmax picks the first)
    edge[2 * k:3 * k] = pm
    edge[3 * k:, :4] = np.float32(np.finfo(np.float16).max)  # the largest binary16 scale
    return {"normal": normal, "heavy": heavy, "edges": edge}


@pytest.mark.parametrize("name", ENCODABLE)
def test_encode_bytes_equal_gguf(name):
    block = GGUF_TYPES[name][0]
    q = GGUF(type=name)
    for kind, x in _inputs(40_000, block, seed=len(name)).items():
        x32 = x.astype(np.float32)
        got, ref = q.encode(x), _ref_quantize(x32, name)
        assert got.dtype == np.uint8 and got.shape == ref.shape, kind
        bad = np.flatnonzero(got != ref)
        assert bad.size == 0, f"{name} {kind}: {bad.size} bytes differ, first at {bad[:5]}"
        assert np.array_equal(q.decode(got), _ref_dequantize(ref, name), equal_nan=True), kind


@pytest.mark.slow
@pytest.mark.parametrize("name", ENCODABLE)
def test_encode_bytes_equal_gguf_1e6(name):
    block = GGUF_TYPES[name][0]
    q = GGUF(type=name)
    for kind, x in _inputs(1_000_000 // 3, block, seed=7).items():
        x32 = x.astype(np.float32)
        assert np.array_equal(q.encode(x32), _ref_quantize(x32, name)), f"{name} {kind}"


@pytest.mark.parametrize("name", list(GGUF_TYPES))
def test_decode_random_blocks_equal_gguf(name):
    """Every byte pattern is a valid block: random bytes (binary16 scales drawn finite, plus some inf/NaN)."""
    block, size = GGUF_TYPES[name][:2]
    rng = np.random.default_rng(size)
    raw = rng.integers(0, 256, (300, 4 * size), dtype=np.uint8)
    got, ref = GGUF(type=name).decode(raw), _ref_dequantize(raw, name)
    assert got.dtype == np.float32 and got.shape == ref.shape == (300, 4 * block)
    assert np.array_equal(got, ref, equal_nan=True)
    finite = np.isfinite(ref).mean()
    assert finite > 0.8  # most blocks have finite scales, so values (not only NaN) are compared


@pytest.mark.parametrize("name", list(GGUF_TYPES))
def test_bits_per_weight(name):
    block, size = GGUF_TYPES[name][:2]
    assert GGUF(type=name).bits_per_weight == 8 * size / block
    assert GGUF(type="Q4_0").bits_per_weight == 4.5 and GGUF(type="MXFP4").bits_per_weight == 4.25


def test_q4_0_layout_by_hand():
    """Q4_0: byte j holds element j (low nibble) and element j + 16 (high nibble)."""
    x = np.zeros(32, np.float32)
    x[0], x[16], x[5] = -8.0, 4.0, 1.0  # d = -8 / -8 = 1; codes x/d + 8
    b = GGUF(type="Q4_0").encode(x)
    assert b[:2].view("<f2")[0] == 1.0
    assert b[2] == (0 | 12 << 4) and b[2 + 5] == (9 | 8 << 4) and b[2 + 1] == (8 | 8 << 4)


def test_mxfp4_tie_goes_to_lower_code():
    """gguf's argmin keeps the first of equal errors: 1.75 * 2**e gives 1.5, not OCP's 2.0."""
    x = np.zeros(32, np.float32)
    x[0], x[1] = 6.0, 1.75  # e = floor(log2 6) + 125 = 127: scale 1
    b = GGUF(type="MXFP4").encode(x)
    assert GGUF(type="MXFP4").decode(b)[1] == 1.5
    assert np.array_equal(b, _ref_quantize(x, "MXFP4"))


def test_streaming_1d_any_chunking_and_conformance():
    q = GGUF(type="Q4_1")
    x = np.random.default_rng(1).standard_normal(32 * 9)
    whole = q.encode(x)
    enc = q.encoder()
    parts = [enc.encode(x[a:b]) for a, b in [(0, 5), (5, 70), (70, 71), (71, 288)]] + [enc.flush()]
    assert np.array_equal(np.concatenate(parts), whole)
    enc = q.encoder()
    enc.encode(x[:40])
    with pytest.raises(InputError, match="left over"):
        enc.flush()
    for name in ENCODABLE:
        block = GGUF_TYPES[name][0]
        check_quantizer(GGUF, {"type": name}, signal=np.random.default_rng(2).standard_normal((12, 2 * block)))


def test_errors():
    with pytest.raises(InputError, match="multiple of the block size 32"):
        GGUF(type="Q8_0").encode(np.zeros(48))
    with pytest.raises(InputError, match="not finite"):
        GGUF(type="Q8_0").encode(np.array([np.nan] * 32))
    with pytest.raises(UnsupportedError, match="decode-only"):
        GGUF(type="Q4_K").encode(np.zeros(256))
    with pytest.raises(InputError, match="18 bytes"):
        GGUF(type="Q4_0").decode(np.zeros(17, np.uint8))
    with pytest.raises(InputError, match="300"):
        GGUF(type="Q4_0").decode(np.full(18, 300))
