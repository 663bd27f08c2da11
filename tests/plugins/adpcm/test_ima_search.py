"""The ``search`` IMA WAV encoder (:mod:`inwhale_hw.plugins.adpcm.lookahead`).

Its rule is restated here as plain Python straight from the IMA algorithm (step table,
shift-sum reconstruction, index adjustment) and the module's definition; the NumPy path must
give the same start indices and codes, the compiled coder the same bytes, and libsndfile
must decode the files as we do.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.plugins.adpcm import kernels
from inwhale_hw.plugins.adpcm.blocks import frames_to_lanes, samples_per_block
from inwhale_hw.plugins.adpcm.lookahead import (
    LOOKAHEAD,
    PREFIX,
    RADIUS,
    RECIPROCAL,
    WARM,
    lookahead_codes,
    search_payload,
    start_indices,
)
from inwhale_hw.plugins.adpcm.tables import STEP
from ima_files import build_ima_wav, parse_ima_wav

needs_numba = pytest.mark.skipif(not kernels.ENABLED, reason="numba (optional extra) not installed or disabled")

STEPS = [int(s) for s in STEP]
ADJUST = [-1, -1, -1, -1, 2, 4, 6, 8]


def _apply(p: int, i: int, negative: bool, m: int) -> tuple[int, int]:
    """IMA reconstruction (shift sum) and index update for magnitude m."""
    s = STEPS[i]
    v = (s >> 3) + (s if m & 4 else 0) + (s >> 1 if m & 2 else 0) + (s >> 2 if m & 1 else 0)
    return max(-32768, min(32767, p - v if negative else p + v)), max(0, min(88, i + ADJUST[m]))


def _step(x: int, p: int, i: int) -> tuple[bool, int, int, int]:
    """sox's division quantizer: (negative, magnitude, new predictor, new index)."""
    d = x - p
    m = min(7, 4 * abs(d) // STEPS[i])
    return (d < 0, m) + _apply(p, i, d < 0, m)


def _reference_codes(lane: list[int], start: int) -> list[int]:
    """The lookahead rule, sample by sample, with full (unpruned) costs."""
    xs = lane + [lane[-1]] * LOOKAHEAD
    p, i, codes = lane[0], start, []

    def cost(t: int, q: int, j: int) -> int:
        total = (xs[t] - q) ** 2
        for v in range(t + 1, t + LOOKAHEAD + 1):
            _, _, q, j = _step(xs[v], q, j)
            total += (xs[v] - q) ** 2
        return total

    for t in range(1, len(lane)):
        negative, m, qg, jg = _step(xs[t], p, i)
        error = xs[t] - qg
        m2 = m + 1 if m == 0 or (m < 7 and error != 0 and (error < 0) == (xs[t] - p < 0)) else m - 1
        qa, ja = _apply(p, i, negative, m2)
        if cost(t, qa, ja) < cost(t, qg, jg):
            m, qg, jg = m2, qa, ja
        codes.append(8 * negative + m)
        p, i = qg, jg
    return codes


def _reference_starts(lanes: list[list[int]], channels: int) -> list[int]:
    starts = []
    for k, lane in enumerate(lanes):
        if k < channels:
            candidates = range(89)
        else:
            prev = lanes[k - channels]
            w = min(WARM, len(prev))
            p, i = prev[-w], 0
            for x in prev[len(prev) - w + 1 :]:
                _, _, p, i = _step(x, p, i)
            candidates = range(max(0, i - RADIUS), min(88, i + RADIUS) + 1)
        errors = []
        for c in candidates:
            p, i, e = lane[0], c, 0
            for x in lane[1 : min(PREFIX, len(lane))]:
                _, _, p, i = _step(x, p, i)
                e += (x - p) ** 2
            errors.append((e, c))
        starts.append(min(errors)[1])
    return starts


def _signal(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = 12000 * np.sin(0.021 * t * np.arange(1, channels + 1)) * (1 + np.sin(0.002 * t)) / 2
    x += rng.normal(0, 600, (n, channels))
    if n >= 900:
        x[n // 4 : n // 4 + 60] = rng.integers(-32768, 32768, (60, channels))  # bursts hit the rails
        x[n // 2 : n // 2 + 250] = 0  # silence walks the step index down to 0
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def test_reciprocal_quantizer_is_the_division_for_every_difference():
    magnitude = np.arange(1 << 16, dtype=np.int64)
    for s, r in zip(STEPS, RECIPROCAL):
        assert np.array_equal(np.minimum((magnitude * r) >> 31, 7), np.minimum(4 * magnitude // s, 7)), s


@pytest.mark.parametrize("channels,block_align,n", [(1, 256, 1400), (2, 72, 700), (1, 8, 200), (3, 48, 150)])
def test_numpy_path_follows_the_rule(channels, block_align, n):
    pcm = _signal(n, channels, block_align + n)
    x = frames_to_lanes(pcm, samples_per_block(block_align, channels))
    lanes = [x[:, k].tolist() for k in range(x.shape[1])]
    starts = start_indices(x, channels)
    assert starts.tolist() == _reference_starts(lanes, channels)
    codes = lookahead_codes(x, starts)
    for k, lane in enumerate(lanes):
        assert codes[:, k].tolist() == _reference_codes(lane, int(starts[k])), k


def test_lookahead_takes_the_other_option_sometimes_and_gains():
    """Not a restatement of greedy coding: on noisy speech-like input some codes differ, and
    the decoded error drops below plain quantizer coding from the same start indices."""
    pcm = _signal(5000, 1, 3)
    x = frames_to_lanes(pcm, 505)
    starts = start_indices(x, 1)
    codes = lookahead_codes(x, starts)
    greedy = np.empty_like(codes)
    for k in range(x.shape[1]):
        p, i = int(x[0, k]), int(starts[k])
        for t in range(1, x.shape[0]):
            negative, m, p, i = _step(int(x[t, k]), p, i)
            greedy[t - 1, k] = 8 * negative + m
    assert 0.01 < np.mean(codes != greedy) < 0.5

    def error(c: np.ndarray) -> int:
        from inwhale_hw.plugins.adpcm.blocks import decode_blocks

        decoded = decode_blocks(x[0][:, None], starts[:, None], c.T[:, None, :])[:, :, 0]
        return int(((decoded.astype(np.int64) - x.T) ** 2).sum())

    assert error(codes) < 0.95 * error(greedy)


@pytest.mark.parametrize("channels,rate,n", [(1, 8000, 4093), (2, 44100, 5001), (2, 8000, 1)])
def test_libsndfile_decodes_search_files_as_we_do(channels, rate, n):
    pcm = _signal(n, channels, n)
    blob = build_ima_wav(pcm, rate, encoder="search")
    ours = parse_ima_wav(blob).pcm
    assert np.array_equal(sf.read(io.BytesIO(blob), dtype="int16", always_2d=True)[0][:n], ours)
    assert (np.abs(ours.astype(np.int64) - pcm) < 8000).mean() > 0.95  # a coding of pcm, not noise


@needs_numba
@pytest.mark.parametrize("channels,block_align,n", [(1, 256, 9000), (2, 2048, 12000), (2, 16, 333), (1, 8, 77), (3, 60, 1000)])
def test_compiled_coder_gives_the_numpy_bytes_for_any_split(channels, block_align, n):
    pcm = _signal(n, channels, 5 * n + channels)
    expected = search_payload(pcm, block_align, use_kernels=False)
    for pieces in (1, 3, 8):
        assert search_payload(pcm, block_align, pieces=pieces) == expected, pieces


@needs_numba
def test_large_inputs_are_split_over_threads_with_the_same_bytes():
    from inwhale_hw.plugins.adpcm import lookahead

    pcm = _signal(lookahead.PARALLEL_MIN // 2 + 999, 2, 9)
    assert search_payload(pcm, 2048) == search_payload(pcm, 2048, pieces=1)


def test_pieces_run_once_each_and_errors_reach_the_caller():
    from inwhale_hw.plugins.adpcm.lookahead import _run_pieces

    bounds = list(range(0, 101, 5))
    seen = []
    _run_pieces(lambda a, b: seen.append((a, b)), bounds)
    assert sorted(seen) == list(zip(bounds[:-1], bounds[1:]))

    def fail_on_40(a: int, b: int) -> None:
        if a == 40:
            raise ValueError("piece 40")

    with pytest.raises(ValueError, match="piece 40"):
        _run_pieces(fail_on_40, bounds)
