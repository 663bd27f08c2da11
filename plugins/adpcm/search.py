"""Choosing how each IMA WAV block starts: its starting step index (and per-sample quantizer).

A block header stores the block's first sample exactly and a starting step index; the
decoder is fixed, so the encoder is free to pick any index 0..88, and any code per sample.
Two rules here (the default ``search`` encoder, a cheaper start search followed by lookahead
coding, is :mod:`.lookahead`):

``carried`` (libsndfile, and the IMA/Microsoft reference encoder)
    the standard quantizer; the first block starts at index 0, every later block at the
    index the previous block ended with.  That makes blocks sequential; it is solved in
    parallel anyway by a fixed-point iteration: encode every block from a guessed start
    index, replace each guess with the end index of the block before, and re-encode only
    the blocks whose guess changed.  Block ``k`` is final after at most ``k + 1`` rounds
    (block 0 after the first); on audio the end index forgets the start index quickly and
    2-6 rounds suffice.
``exhaustive``
    every block independently takes the (quantizer, start index) pair, out of the two
    quantizers of :data:`~.blocks.QUANTIZERS` x 89 indices, that minimises the block's
    squared error (sum over the block's frames, the padding of a last partial block
    included; ties to the standard quantizer, then the lowest index).  The candidates
    include libsndfile's choice (standard, carried index) and sox's (``ImaMashS``: division
    quantizer, best of +-9 around the carried index), so for the same block size every
    mono block's error is at most theirs (in stereo, sox starts the right channel from the
    left channel's first sample, a handicap our headers do not have).  All (block, channel, candidate)
    combinations run as parallel lanes.  Two candidates of one lane that reach the same
    state (quantizer, predictor, step index) have identical futures, so at checkpoints only
    the one with the smaller error so far survives -- an exact pruning.  Measured on speech
    and music: 40-80 % of the 178 candidates are still distinct after 64 samples, 4-30 %
    after 500, so a search costs 12-34 greedy encodes of the block (the numba kernel adds an
    exact bound, :mod:`.kernels`); ``benchmarks/bench_adpcm.py`` gives the throughput.
    Its guarantee is per block and against those two rules; :mod:`.lookahead` codes better on
    average (+0.9 dB over sox against +0.65 dB on the excerpts measured there) at a fraction
    of the cost, but promises nothing per block.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .blocks import _DIFF, _NEXT16, _ROWS, _THRESHOLDS, _ZERO, QUANTIZERS, _code_table, encode_lanes
from .tables import NEXT_INDEX

__all__ = ["carried_start_indices", "search_start_indices", "MERGE_AT"]

#: sample positions (within a block) after which equal-state candidates are merged; then
#: every 64 samples (the compiled path also prunes by its bound every 4 samples up to 64)
MERGE_AT = (16, 32, 64)


def carried_start_indices(x: np.ndarray, channels: int, use_kernels: bool = True) -> np.ndarray:
    """Start indices of the ``carried`` rule for lanes ``x`` (spb, blocks * C), int32 (blocks * C,)."""
    lanes = x.shape[1]
    guess = np.zeros(lanes, dtype=np.int32)
    end = np.zeros(lanes, dtype=np.int32)
    todo = np.arange(lanes)
    while todo.size:
        _, end[todo] = encode_lanes(x[1:, todo], x[0, todo], guess[todo], use_kernels=use_kernels)
        follow = np.concatenate([np.zeros(channels, dtype=np.int32), end[:-channels]])
        todo = np.flatnonzero(follow != guess)
        guess = follow
    return guess


def search_start_indices(x: np.ndarray, channels: int = 1, use_kernels: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The ``exhaustive`` rule for lanes ``x`` (spb, blocks * channels): (start index, quantizer), int32 each.

    With numba (:mod:`.kernels`) and ``use_kernels`` the compiled search runs; same result.
    """
    steps, lanes = x.shape
    table = _code_table()
    if kernels.ENABLED and use_kernels:
        prune_at = np.zeros(steps, dtype=np.bool_)
        prune_at[4:64:4] = True
        merge_at = np.zeros(steps, dtype=np.bool_)
        merge_at[[t for t in MERGE_AT if t < steps]] = True
        merge_at[MERGE_AT[-1] :: 64] = True
        return kernels.lanes_search(
            np.ascontiguousarray(x, dtype=np.int32), channels, prune_at, merge_at, _THRESHOLDS.reshape(-1), _DIFF,
            NEXT_INDEX, _ROWS,
        )
    count = len(QUANTIZERS) * _ROWS
    lane = np.repeat(np.arange(lanes, dtype=np.int64), count)
    row_of = np.tile(np.arange(count, dtype=np.int32), lanes)
    quantizer = row_of // _ROWS
    start = row_of % _ROWS
    base = quantizer * (_ROWS << 17) + _ZERO
    pred = np.repeat(x[0].astype(np.int32), count)
    index16 = start * 16
    sse = np.zeros(lane.size, dtype=np.int64)
    merge_at = set(MERGE_AT) | set(range(MERGE_AT[-1] + 64, steps, 64))
    for t in range(1, steps):
        sample = np.take(x[t], lane)
        key = sample - pred
        key += index16 << 13
        key += base
        code = np.take(table, key)
        key = index16 + code
        pred += np.take(_DIFF, key)
        np.maximum(pred, -32768, out=pred)
        np.minimum(pred, 32767, out=pred)
        np.take(_NEXT16, key, out=index16)
        miss = (sample - pred).astype(np.int64)
        miss *= miss
        sse += miss
        if t in merge_at:
            state = (lane << 26) | (quantizer.astype(np.int64) << 25) | ((pred.astype(np.int64) + 32768) << 8)
            state |= index16 >> 4
            order = np.lexsort((sse, state))
            ordered = state[order]
            keep = order[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
            keep.sort()
            lane, quantizer, start, base = lane[keep], quantizer[keep], start[keep], base[keep]
            pred, index16, sse = pred[keep], index16[keep], sse[keep]
    order = np.lexsort((start, quantizer, sse, lane))
    first = order[np.concatenate([[True], lane[order][1:] != lane[order][:-1]])]
    return start[first].astype(np.int32), quantizer[first].astype(np.int32)
