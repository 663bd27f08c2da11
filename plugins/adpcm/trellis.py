"""The ``trellis`` IMA WAV encoder: a beam search over code sequences, block by block.

The greedy coder picks each code to minimise the current sample's error; a smaller or
larger magnitude can serve the following samples better (it changes the step index).  Per
block and channel this encoder keeps the ``nodes`` best partial code sequences (by squared
error so far): it starts from the block's first sample at every step index 0..88, and at
each sample extends every kept sequence by the greedy magnitude and its two neighbours
(same sign), keeps the ``nodes`` cheapest distinct states (predictor, step index) -- ties by
order of creation -- and finally takes the cheapest sequence.  The decoder is the standard
one, so the file plays everywhere.  ffmpeg's ``-trellis N`` does the same with 2**N nodes.

Cost per sample is about ``3 * nodes`` coder steps plus a sort of them; it runs compiled
when numba is installed (:mod:`.kernels` pattern: the very same function, so the same
bits) and as plain Python otherwise (slow: tens of thousands of samples per second).
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .tables import MAX_INDEX, NEXT_INDEX, SIGNED_DIFF, magnitude_thresholds

__all__ = ["trellis_encode", "DEFAULT_NODES"]

DEFAULT_NODES = 16
#: table indices are cast to unsigned: compiled, numba then skips its wraparound test
_u = np.uint64
_THRESHOLDS8 = np.concatenate([np.zeros((MAX_INDEX + 1, 1), np.int64), magnitude_thresholds()], axis=1).reshape(-1)
_DIFFS = SIGNED_DIFF.astype(np.int64)
_NEXTS = NEXT_INDEX.astype(np.int64)


def _trellis_lane(column, nodes, thresholds, diffs, nexts):
    """Beam search for one lane: ``column`` (T,) int64 -> (start index, codes (T - 1,) uint8)."""
    steps = column.shape[0]
    rows = diffs.shape[0] // 16
    width = max(nodes, rows)
    pred = np.empty(width, np.int64)
    index = np.empty(width, np.int64)
    cost = np.empty(width, np.int64)
    cand_pred = np.empty(3 * width, np.int64)
    cand_index = np.empty(3 * width, np.int64)
    cand_cost = np.empty(3 * width, np.int64)
    cand_parent = np.empty(3 * width, np.int64)
    cand_code = np.empty(3 * width, np.int64)
    parent = np.zeros((steps, width), np.int64)
    chosen = np.zeros((steps, width), np.uint8)
    alive = rows
    for k in range(rows):
        pred[k] = column[0]
        index[k] = k
        cost[k] = 0
    for t in range(1, steps):
        sample = column[t]
        made = 0
        for j in range(alive):
            d = sample - pred[j]
            sign = 8 if d < 0 else 0
            magnitude = -d if d < 0 else d
            row = index[j] * 8
            m = 4 if magnitude >= thresholds[_u(row + 4)] else 0
            if magnitude >= thresholds[_u(row + m + 2)]:
                m += 2
            if magnitude >= thresholds[_u(row + m + 1)]:
                m += 1
            for option in range(m - 1, m + 2):
                if 0 <= option <= 7:
                    code = sign | option
                    key = index[j] * 16 + code
                    p = pred[j] + diffs[_u(key)]
                    p = 32767 if p > 32767 else (-32768 if p < -32768 else p)
                    miss = sample - p
                    cand_pred[made] = p
                    cand_index[made] = nexts[_u(key)]
                    cand_cost[made] = cost[j] + miss * miss
                    cand_parent[made] = j
                    cand_code[made] = code
                    made += 1
        order = np.argsort(cand_cost[:made], kind="mergesort")
        alive = 0
        for o in range(made):
            c = order[o]
            duplicate = False
            for k in range(alive):
                if pred[k] == cand_pred[c] and index[k] == cand_index[c]:
                    duplicate = True
                    break
            if duplicate:
                continue
            pred[alive] = cand_pred[c]
            index[alive] = cand_index[c]
            cost[alive] = cand_cost[c]
            parent[t, alive] = cand_parent[c]
            chosen[t, alive] = cand_code[c]
            alive += 1
            if alive == nodes:
                break
    codes = np.empty(steps - 1, np.uint8)
    best = 0
    for t in range(steps - 1, 0, -1):
        codes[t - 1] = chosen[t, best]
        best = parent[t, best]
    return best, codes


_compiled = kernels.numba.njit(cache=True, nogil=True)(_trellis_lane) if kernels.ENABLED else None


def trellis_encode(x: np.ndarray, nodes: int = DEFAULT_NODES, use_kernels: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Trellis-code lanes ``x`` (spb, lanes) int32: (start index (lanes,), codes (spb - 1, lanes))."""
    lane_coder = _compiled if _compiled is not None and use_kernels else _trellis_lane
    steps, lanes = x.shape
    start = np.empty(lanes, dtype=np.int32)
    codes = np.empty((steps - 1, lanes), dtype=np.uint8)
    for lane in range(lanes):
        start[lane], codes[:, lane] = lane_coder(
            np.ascontiguousarray(x[:, lane], dtype=np.int64), nodes, _THRESHOLDS8, _DIFFS, _NEXTS
        )
    return start, codes
