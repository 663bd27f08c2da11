"""IMA ADPCM raw stream: bit-exact with CPython 3.11 audioop, state in and out."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import AudioFormatError, InputError
from inwhale_hw.plugins.adpcm.model import ImaAdpcm
from inwhale_hw.plugins.adpcm.raw import RawDecoder, RawEncoder, pack_nibbles, unpack_nibbles
from inwhale_hw.plugins.adpcm.stream import ImaState, decode_stream, encode_stream
from inwhale_hw.testing import check_quantizer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def _signal(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:  # full-scale noise: predictor and step index hit both rails
        x = rng.integers(-32768, 32768, n)
    elif kind == 1:  # random walk
        x = np.cumsum(rng.normal(0, 600, n))
    elif kind == 2:  # loud tone
        x = 32000 * np.sin(np.arange(n) * 0.03)
    else:  # near silence: step index sits at 0
        x = rng.integers(-3, 4, n)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _audioop_codes(data: bytes) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8)
    return np.stack([raw >> 4, raw & 15], axis=1).reshape(-1)


@pytest.mark.parametrize("kind", range(4))
def test_encode_and_decode_match_audioop_with_state(kind):
    rng = np.random.default_rng(kind)
    for _ in range(25):
        n = int(rng.integers(0, 1500))
        x = _signal(kind, n, rng)
        state = (int(rng.integers(-32768, 32768)), int(rng.integers(0, 89)))
        ref, ref_state = audioop.lin2adpcm(x.tobytes(), 2, state)
        codes, end = encode_stream(x, ImaState(*state))
        # audioop keeps all but a final odd code; its state has advanced past every sample
        assert np.array_equal(codes[: 2 * len(ref)], _audioop_codes(ref))
        assert (end.predictor, end.index) == ref_state
        dec_ref, dec_state = audioop.adpcm2lin(ref, 2, state)
        samples, dec_end = decode_stream(codes[: 2 * len(ref)], ImaState(*state))
        assert samples.tobytes() == dec_ref
        assert (dec_end.predictor, dec_end.index) == dec_state


def test_decode_random_codes_matches_audioop():
    """Random nibbles drive the step index to both rails and the predictor into saturation."""
    rng = np.random.default_rng(7)
    for n in (1, 2, 1000, 70000):  # 70000 > one decode segment of 32768
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        for state in ((0, 0), (32767, 88), (-32768, 40)):
            ref, ref_state = audioop.adpcm2lin(data, 2, state)
            samples, end = decode_stream(unpack_nibbles(data), ImaState(*state))
            assert samples.tobytes() == ref and (end.predictor, end.index) == ref_state


def test_ima_state_rejects_bad_values():
    with pytest.raises(InputError, match="predictor 40000"):
        ImaState(40000, 0)
    with pytest.raises(InputError, match="step index 89"):
        ImaState(0, 89)


@pytest.mark.parametrize(
    "params", [{}, {"flavor": "ffmpeg"}, {"method": "libsndfile", "block_size": 512}]
)
def test_conformance(params):
    report = check_quantizer(ImaAdpcm, params)
    assert any(c.startswith("streaming") for c in report.checks)


def test_registered_with_aliases():
    assert isinstance(get_quantizer("ima-adpcm"), ImaAdpcm)
    assert isinstance(get_quantizer("ima"), ImaAdpcm)


def test_quantizer_channels_are_independent_audioop_streams():
    rng = np.random.default_rng(3)
    x = np.stack([_signal(1, 801, rng), _signal(2, 801, rng)], axis=1)
    q = ImaAdpcm()
    codes = q.encode(x)
    decoded = q.decode(codes)
    for ch in range(2):
        ref, _ = audioop.lin2adpcm(x[:, ch].tobytes(), 2, None)
        assert np.array_equal(codes[:800, ch], _audioop_codes(ref))
        dec_ref, _ = audioop.adpcm2lin(ref, 2, None)
        assert decoded[:800, ch].tobytes() == dec_ref


def test_pack_codes_is_audioop_layout_and_keeps_the_odd_code():
    rng = np.random.default_rng(4)
    x = _signal(1, 1001, rng)
    q = ImaAdpcm()
    packed = q.pack_codes(q.encode(x))
    ref, _ = audioop.lin2adpcm(x.tobytes(), 2, None)
    assert len(packed) == len(ref) + 1 and packed[: len(ref)] == ref
    assert packed[-1] & 15 == 0 and packed[-1] >> 4 == encode_stream(x)[0][-1]
    assert np.array_equal(q.unpack_codes(packed, 1001, 1), q.encode(x))
    with pytest.raises(AudioFormatError, match="500 bytes, 501 needed"):
        q.unpack_codes(packed[:500], 1001, 1)


def test_raw_encoder_streams_without_losing_the_odd_sample():
    rng = np.random.default_rng(5)
    x = _signal(1, 2001, rng)
    encoder = RawEncoder()
    cuts = [0, 1, 4, 7, 500, 1333, 2001]
    out = b"".join(encoder.encode(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])) + encoder.flush()
    ref, ref_state = audioop.lin2adpcm(x.tobytes(), 2, None)
    assert out[:-1] == ref and len(out) == len(ref) + 1
    assert (encoder.state.predictor, encoder.state.index) == ref_state
    assert out == pack_nibbles(encode_stream(x)[0])
    decoder = RawDecoder()
    pieces = [decoder.decode(out[:3]), decoder.decode(out[3:400]), decoder.decode(out[400:])]
    dec_ref, _ = audioop.adpcm2lin(out, 2, None)
    assert np.concatenate(pieces).tobytes() == dec_ref


def test_raw_encoder_rejects_bad_samples():
    with pytest.raises(InputError, match="40000"):
        RawEncoder().encode(np.array([0, 40000]))
    with pytest.raises(InputError, match="shape"):
        RawEncoder().encode(np.zeros((3, 2), dtype=np.int16))


@pytest.mark.parametrize("flavor", ["standard", "ffmpeg"])
def test_compiled_decoder_equals_the_vectorized_scans(flavor):
    from inwhale_hw.plugins.adpcm import kernels

    if not kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    rng = np.random.default_rng(9)
    for _ in range(20):
        codes = rng.integers(0, 16, int(rng.integers(0, 70_000)), dtype=np.uint8)
        if rng.random() < 0.3:
            codes[: codes.size // 2] = rng.choice([7, 15], codes.size // 2)  # rails
        start = ImaState(int(rng.integers(-32768, 32768)), int(rng.integers(0, 89)))
        compiled, end_c = decode_stream(codes, start, flavor)
        scanned, end_s = decode_stream(codes, start, flavor, use_kernels=False)
        assert end_c == end_s
        np.testing.assert_array_equal(compiled, scanned)
