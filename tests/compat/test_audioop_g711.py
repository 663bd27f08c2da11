"""The audioop drop-in's G.711 functions against CPython 3.11's own audioop, every width."""

from __future__ import annotations

import array
import warnings

import numpy as np
import pytest

from inwhale_hw.compat import audioop as ours
from inwhale_hw.errors import InputError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop as cpython

ENCODERS = ("lin2ulaw", "lin2alaw")
DECODERS = ("ulaw2lin", "alaw2lin")
TOP16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int64)


def _same(name: str, fragment, width: int) -> None:
    expected = getattr(cpython, name)(fragment, width)
    got = getattr(ours, name)(fragment, width)
    assert type(got) is bytes
    assert len(got) == len(expected), f"{name} width {width}: {len(got)} bytes, audioop {len(expected)}"
    bad = np.flatnonzero(np.frombuffer(got, np.uint8) != np.frombuffer(expected, np.uint8))
    assert bad.size == 0, f"{name} width {width}: {bad.size} bytes differ, first at {bad[0]}"


def _samples(values: np.ndarray, width: int) -> bytes:
    """Native-order ``width``-byte samples of integer ``values``."""
    if width == 3:
        le = values.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        return np.ascontiguousarray(le if np.little_endian else le[:, ::-1]).tobytes()
    return values.astype({1: np.int8, 2: np.int16, 4: np.int32}[width]).tobytes()


@pytest.mark.parametrize("name", ENCODERS)
def test_encoders_exhaustive_for_widths_1_and_2(name):
    _same(name, _samples(TOP16, 2), 2)
    _same(name, _samples(np.arange(-128, 128), 1), 1)


@pytest.mark.parametrize("name", ENCODERS)
@pytest.mark.parametrize("width", (3, 4))
def test_encoders_wide_samples_every_top_half_with_edge_low_bits_and_random(name, width):
    low_bits = 8 * (width - 2)
    lows = (0, 1, (1 << (low_bits - 1)) - 1, 1 << (low_bits - 1), (1 << low_bits) - 1)
    edges = np.concatenate([(TOP16 << low_bits) + low for low in lows])
    _same(name, _samples(edges, width), width)
    rng = np.random.default_rng(width)
    lo, hi = -(1 << (8 * width - 1)), 1 << (8 * width - 1)
    _same(name, _samples(rng.integers(lo, hi, size=300_000), width), width)


@pytest.mark.parametrize("name", DECODERS)
@pytest.mark.parametrize("width", (1, 2, 3, 4))
def test_decoders_all_codes_every_width(name, width):
    codes = bytes(range(256))
    _same(name, codes, width)
    _same(name, codes[::-1] * 3 + codes[:7], width)


@pytest.mark.parametrize("name", ENCODERS + DECODERS)
def test_bytes_like_inputs_and_empty(name):
    pcm = array.array("h", [0, 1, -1, 32767, -32768, 1234, -4321])
    for fragment in (pcm, bytearray(pcm.tobytes()), memoryview(pcm.tobytes()), np.frombuffer(pcm, np.int16)):
        assert getattr(ours, name)(fragment, 2) == getattr(cpython, name)(pcm.tobytes(), 2)
    assert getattr(ours, name)(b"", 2) == getattr(cpython, name)(b"", 2) == b""
    # an unaligned view into a buffer
    _same(name, memoryview(b"\x07" + pcm.tobytes())[1:], 2)


@pytest.mark.parametrize("name", ENCODERS + DECODERS)
@pytest.mark.parametrize("width", (0, 5, -2))
def test_bad_width_raises_module_error_like_audioop(name, width):
    with pytest.raises(cpython.error):
        getattr(cpython, name)(b"\0" * 20, width)
    with pytest.raises(ours.error, match=rf"width {width} .*1, 2, 3 or 4"):
        getattr(ours, name)(b"\0" * 20, width)


@pytest.mark.parametrize("name", ENCODERS)
@pytest.mark.parametrize(("length", "width"), [(3, 2), (5, 4), (4, 3)])
def test_fragment_not_whole_samples(name, length, width):
    with pytest.raises(cpython.error):
        getattr(cpython, name)(b"\0" * length, width)
    with pytest.raises(ours.error, match=rf"{length} bytes .* {width}-byte"):
        getattr(ours, name)(b"\0" * length, width)


@pytest.mark.parametrize("name", DECODERS)
def test_decoders_accept_any_code_count(name):
    _same(name, b"\x00\x81\xff", 4)


@pytest.mark.parametrize("name", ENCODERS + DECODERS)
def test_type_errors_like_audioop(name):
    for fragment, width in (("text", 2), (b"\0\0", 2.0)):
        with pytest.raises(TypeError):
            getattr(cpython, name)(fragment, width)
        with pytest.raises(TypeError):
            getattr(ours, name)(fragment, width)


def test_error_is_an_input_error():
    assert issubclass(ours.error, InputError) and issubclass(ours.error, ValueError)
    assert {"error", "lin2ulaw", "ulaw2lin", "lin2alaw", "alaw2lin"} <= set(ours.__all__)
