"""Both implementations of the sequential IMA loops: NumPy/pure Python and the numba kernels.

The pure paths are checked against audioop and libsndfile here directly; the compiled ones
(when the optional numba extra is installed) must give the same bits.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.plugins.adpcm import kernels
from inwhale_hw.plugins.adpcm.blocks import encode_lanes, frames_to_lanes, samples_per_block
from inwhale_hw.plugins.adpcm.search import carried_start_indices, search_start_indices
from inwhale_hw.plugins.adpcm.stream import ImaState, encode_stream

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

needs_numba = pytest.mark.skipif(not kernels.ENABLED, reason="numba (optional extra) not installed or disabled")


def _signal(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = 12000 * np.sin(0.02 * t * np.arange(1, channels + 1)) * (1 + np.sin(0.001 * t)) / 2
    x += rng.normal(0, 400, (n, channels))
    if n >= 1000:
        x[n // 3 : n // 3 + 50] = rng.integers(-32768, 32768, (50, channels))  # bursts hit the rails
        x[n // 2 : n // 2 + 300] = 0  # silence drives the step index to 0
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("use_kernels", [False, pytest.param(True, marks=needs_numba)])
def test_stream_encoder_paths_match_audioop(use_kernels):
    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 999, 5000):
        x = _signal(n, 1, n)[:, 0]
        state = (int(rng.integers(-32768, 32768)), int(rng.integers(0, 89)))
        codes, end = encode_stream(x, ImaState(*state), use_kernels=use_kernels)
        ref, ref_state = audioop.lin2adpcm(x.tobytes(), 2, state)
        packed = ((codes[0::2][: len(ref)] << 4) | codes[1::2][: len(ref)]).astype(np.uint8).tobytes()
        assert packed == ref and (end.predictor, end.index) == ref_state


def _sf_codes(pcm: np.ndarray, rate: int) -> np.ndarray:
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format="WAV", subtype="IMA_ADPCM")
    return buffer.getvalue()


@pytest.mark.parametrize("channels", [1, 2])
def test_numpy_lane_encoder_reproduces_libsndfile(channels):
    """The pure NumPy path of the carried (libsndfile) rule gives libsndfile's data bytes."""
    pcm = _signal(3 * 505 + 100, channels, channels)
    align = 256 * channels
    spb = samples_per_block(align, channels)
    x = frames_to_lanes(pcm, spb)
    start = carried_start_indices(x, channels)
    codes, _ = encode_lanes(x[1:], x[0], start, use_kernels=False)
    reference = _sf_codes(pcm, 8000)
    data = reference[reference.index(b"data") + 8 :]
    blocks = x.shape[1] // channels
    for b in range(blocks - 1):  # whole blocks: header and every nibble
        block = data[b * align : (b + 1) * align]
        for ch in range(channels):
            lane = b * channels + ch
            assert int.from_bytes(block[4 * ch : 4 * ch + 2], "little", signed=True) == x[0, lane]
            assert block[4 * ch + 2] == start[lane]
            words = np.frombuffer(block[4 * channels :], dtype=np.uint8).reshape(-1, channels, 4)[:, ch]
            nibbles = np.stack([words & 15, words >> 4], axis=-1).reshape(-1)
            assert np.array_equal(nibbles, codes[:, lane])


@needs_numba
@pytest.mark.parametrize("channels,align", [(1, 256), (2, 512), (2, 2048), (1, 36)])
def test_lane_encoder_and_search_kernels_match_numpy(channels, align):
    pcm = _signal(6000, channels, align)
    x = frames_to_lanes(pcm, samples_per_block(align, channels))
    rng = np.random.default_rng(align)
    start = rng.integers(0, 89, x.shape[1])
    quantizer = rng.integers(0, 2, x.shape[1])
    fast = encode_lanes(x[1:], x[0], start, quantizer)
    slow = encode_lanes(x[1:], x[0], start, quantizer, use_kernels=False)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    found = search_start_indices(x, channels)
    expected = search_start_indices(x, channels, use_kernels=False)
    assert np.array_equal(found[0], expected[0]) and np.array_equal(found[1], expected[1])


def test_search_is_the_exhaustive_minimum():
    """The pruned NumPy search equals brute force over every (quantizer, start index) pair."""
    pcm = _signal(1200, 1, 5)
    x = frames_to_lanes(pcm, 257)
    start, quantizer = search_start_indices(x, use_kernels=False)
    lanes = x.shape[1]
    every_start = np.tile(np.arange(89), 2 * lanes)
    every_q = np.tile(np.repeat([0, 1], 89), lanes)
    wide = np.repeat(x, 178, axis=1)
    codes, _ = encode_lanes(wide[1:], wide[0], every_start, every_q, use_kernels=False)
    from inwhale_hw.plugins.adpcm.blocks import decode_blocks

    decoded = decode_blocks(wide[0][:, None], every_start[:, None], codes.T[:, None, :])[:, :, 0]
    error = ((decoded.astype(np.int64) - wide.T) ** 2).sum(axis=1).reshape(lanes, 178)
    best = np.argmin(error, axis=1)  # first minimum: standard before division, lower index first
    assert np.array_equal(start, best % 89) and np.array_equal(quantizer, best // 89)


@needs_numba
@pytest.mark.parametrize("encoder", ["libsndfile", "search", "exhaustive"])
@pytest.mark.parametrize("channels,align", [(1, 256), (2, 1024)])
def test_wav_payload_is_the_same_with_and_without_kernels(encoder, channels, align):
    from inwhale_hw.plugins.adpcm.wav import encode_payload

    pcm = _signal(5000, channels, 3 + channels)
    assert encode_payload(pcm, align, encoder) == encode_payload(pcm, align, encoder, use_kernels=False)


def test_trellis_pure_python_and_compiled_agree():
    from inwhale_hw.plugins.adpcm.trellis import trellis_encode

    pcm = _signal(300, 1, 8)
    x = frames_to_lanes(pcm, 33)
    slow = trellis_encode(x, 4, use_kernels=False)
    fast = trellis_encode(x, 4)  # compiled when numba is installed
    assert np.array_equal(slow[0], fast[0]) and np.array_equal(slow[1], fast[1])
