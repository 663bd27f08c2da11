"""Sub-byte code packing: documented layout, ONNX INT4/UINT4 and numpy.packbits as references."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.plugins.tensor.packing import pack_codes, packed_size, unpack_codes


def pack_ref(codes: list[int], bits: int) -> bytes:
    """The documented bit stream, built with Python integers: code i at bits [i*b, (i+1)*b)."""
    stream = 0
    for i, c in enumerate(codes):
        stream |= (c % (1 << bits)) << (i * bits)
    return stream.to_bytes((len(codes) * bits + 7) // 8, "little")


def test_hand_examples():
    assert pack_codes(np.array([1, 2, 3]), 4).tolist() == [0x21, 0x03]
    assert pack_codes(np.array([3, 0, 1, 2, 1]), 2).tolist() == [0b10010011, 0b01]
    assert pack_codes(np.array([-1, 1]), 4, signed=True).tolist() == [0x1F]
    assert pack_codes(np.array([5, 6, 7]), 3).tolist() == [0b11110101, 0b1]  # 5 | 6 << 3 | 7 << 6


@pytest.mark.parametrize("bits", range(1, 17))
@pytest.mark.parametrize("signed", [False, True])
def test_round_trip_and_layout(bits, signed):
    rng = np.random.default_rng(bits)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    for n in (0, 1, 7, 64, 101):
        codes = rng.integers(lo, hi + 1, n)
        packed = pack_codes(codes, bits, signed=signed)
        assert packed.dtype == np.uint8 and packed.size == packed_size(n, bits)
        assert packed.tobytes() == pack_ref(codes.tolist(), bits)
        assert unpack_codes(packed.tobytes(), bits, n, signed=signed).tolist() == codes.tolist()


def test_one_bit_matches_numpy_packbits_little():
    bits = np.random.default_rng(0).integers(0, 2, 77)
    assert np.array_equal(pack_codes(bits, 1), np.packbits(bits.astype(np.uint8), bitorder="little"))


@pytest.mark.parametrize("signed", [True, False])
def test_four_bit_matches_onnx_int4_tensor_packing(signed):
    helper = pytest.importorskip("onnx.helper")
    from onnx import TensorProto

    rng = np.random.default_rng(1)
    codes = rng.integers(-8, 8, 33) if signed else rng.integers(0, 16, 33)
    tensor = helper.make_tensor("t", TensorProto.INT4 if signed else TensorProto.UINT4, [33], codes.tolist())
    onnx_bytes = bytes(v & 0xFF for v in tensor.int32_data)
    assert pack_codes(codes, 4, signed=signed).tobytes() == onnx_bytes


def test_errors():
    with pytest.raises(InputError, match="code 16 at flat index 1"):
        pack_codes(np.array([0, 16]), 4)
    with pytest.raises(InputError, match="code -9"):
        pack_codes(np.array([-9]), 4, signed=True)
    with pytest.raises(InputError, match="integer array"):
        pack_codes(np.array([0.5]), 4)
    with pytest.raises(ParameterError, match="bits=17"):
        pack_codes(np.array([0]), 17)
    with pytest.raises(InputError, match="3 bytes hold fewer than 7 codes"):
        unpack_codes(b"\x00\x00\x00", 4, 7)
    with pytest.raises(ParameterError, match="count=-1"):
        unpack_codes(b"", 4, -1)


def test_ggml_layout_equals_gguf_q4_0_nibbles():
    """layout='ggml' reproduces the 16 code bytes of gguf's own Q4_0 blocks (codes = x/d + 8)."""
    gq = pytest.importorskip("gguf.quants", reason="gguf (test extra) is the reference")
    from gguf.constants import GGMLQuantizationType

    x = np.random.default_rng(5).standard_normal((6, 64)).astype(np.float32)
    blocks = gq.quantize(x, GGMLQuantizationType.Q4_0).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    vals = gq.dequantize(gq.quantize(x, GGMLQuantizationType.Q4_0), GGMLQuantizationType.Q4_0).reshape(-1, 32)
    codes = np.rint(vals / np.where(d == 0, 1, d)).astype(np.int64) + 8
    packed = pack_codes(codes, 4, layout="ggml")
    assert np.array_equal(packed.reshape(-1, 16), blocks[:, 2:])
    assert np.array_equal(unpack_codes(packed, 4, codes.size, layout="ggml"), codes.reshape(-1))
    # element j low, j + 16 high; with block=4: byte 0 = (e0, e2), byte 1 = (e1, e3)
    assert pack_codes(np.array([1, 2, 3, 4]), 4, layout="ggml", block=4).tolist() == [0x31, 0x42]


def test_bnb_layout_first_element_high():
    assert pack_codes(np.array([1, 2, 3]), 4, layout="bnb").tolist() == [0x12, 0x30]
    c = np.random.default_rng(0).integers(-8, 8, 101)
    assert np.array_equal(unpack_codes(pack_codes(c, 4, signed=True, layout="bnb"), 4, 101, signed=True, layout="bnb"), c)
    from inwhale_hw.plugins.bnb.model import BnB

    u = np.random.default_rng(1).integers(0, 16, 64)
    assert pack_codes(u, 4, layout="bnb").tobytes() == BnB().pack_codes(u)


def test_layout_errors():
    with pytest.raises(ParameterError, match="layout='gguf'"):
        pack_codes(np.array([1]), 4, layout="gguf")
    with pytest.raises(ParameterError, match="bits=3"):
        pack_codes(np.array([1]), 3, layout="bnb")
    with pytest.raises(InputError, match="multiple of block=32"):
        pack_codes(np.arange(16) % 16, 4, layout="ggml")
