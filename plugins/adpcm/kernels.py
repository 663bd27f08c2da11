"""Optional numba kernels for the sequential IMA ADPCM loops (the ``numba`` extra).

Four loops cannot be vectorized along time (the raw-stream decoder, vectorized by
saturating scans in :mod:`.stream`, is compiled too: a plain loop beats the scans): the raw-stream encoder (each code depends on
the reconstruction so far), the lane encoder of :func:`~.blocks.encode_lanes`, the
start-index search of :func:`~.search.search_start_indices` (``exhaustive``) and the
``search`` encoder of :mod:`.lookahead` (vectorized across blocks in NumPy, but one NumPy call
per sample position).  When numba is installed these compiled versions run instead; they use
the same tables and give the same bits, which the tests check against both the NumPy paths
and the references (audioop, libsndfile).

``INWHALE_HW_NUMBA=0`` in the environment (read at import) forces the NumPy paths.  Kernels
are compiled on first use and cached on disk (numba ``cache=True``).

The ``exhaustive`` search kernel visits one lane (block, channel) at a time and all its candidates
(quantizer, start index) sample by sample, merging candidates in equal states as the NumPy
path does, and additionally drops a candidate once its partial error exceeds the complete
error of one greedy candidate of the lane (errors only grow, so this pruning is exact too);
the winner is the same (smallest error, then quantizer, then start index).

:func:`search_encode` is the whole ``search`` encoder for a range of blocks, from int16
frames to the finished block bytes (headers and packed nibbles), one lane at a time: start
index, then lookahead coding with the pruning that :mod:`.lookahead` describes.  It holds
no shared state, so ranges of blocks run on separate threads (it releases the GIL).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ENABLED", "LOOKAHEAD", "stream_encode", "stream_decode", "lanes_encode", "carried_encode", "lanes_search", "search_encode"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

#: table indices are cast to unsigned: numba then skips its negative-index wraparound test
_u = np.uint64
#: samples after the current one that the ``search`` encoder's two options are costed over
#: (:mod:`.lookahead`); a compile-time constant of the kernel, at most 7 (ring of 8 states)
LOOKAHEAD = 2
#: offset of the signed reconstruction difference in a ``search`` transition-table entry
DIFF_OFFSET = 1 << 19

if numba is not None:
    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _code(d, row, thresholds):
        """4-bit code for difference ``d``; ``thresholds[row + m]`` is the least magnitude
        coded >= m (m = 0..7, increasing): a three-step binary search, as the reference coder's
        successive approximation does."""
        sign = 0
        if d < 0:
            sign = 8
            d = -d
        m = 4 if d >= thresholds[_u(row + 4)] else 0
        if d >= thresholds[_u(row + m + 2)]:
            m += 2
        if d >= thresholds[_u(row + m + 1)]:
            m += 1
        return sign | m

    @_jit
    def _clamp16(v):
        return 32767 if v > 32767 else (-32768 if v < -32768 else v)

    @_jit
    def stream_encode(values, predictor, index, thresholds, diffs, nexts):
        """Raw-stream encoder (standard quantizer): int64 samples -> (uint8 codes, predictor, index)."""
        codes = np.empty(values.size, dtype=np.uint8)
        for k in range(values.size):
            code = _code(values[k] - predictor, index * 8, thresholds)
            predictor = _clamp16(predictor + diffs[_u(index * 16 + code)])
            index = nexts[_u(index * 16 + code)]
            codes[k] = code
        return codes, predictor, index

    @_jit
    def stream_decode(codes, predictor, index, diffs, nexts):
        """Raw-stream decoder: uint8 codes 0..15 -> (int16 samples, predictor, index); ``diffs``
        is the flavor's signed reconstruction table (standard or ffmpeg)."""
        out = np.empty(codes.size, dtype=np.int16)
        for k in range(codes.size):
            row = _u(index * 16 + codes[k])
            predictor = _clamp16(predictor + diffs[row])
            index = nexts[row]
            out[k] = predictor
        return out, predictor, index

    @_jit
    def lanes_encode(x, predictor, index, quantizer, thresholds, diffs, nexts, rows):
        """:func:`~.blocks.encode_lanes`: ``x`` (T, L) -> (codes (T, L), end step index (L,))."""
        steps, lanes = x.shape
        codes = np.empty((steps, lanes), dtype=np.uint8)
        pred = predictor.astype(np.int64)
        idx = index.astype(np.int64)
        for t in range(steps):
            for lane in range(lanes):
                code = _code(x[t, lane] - pred[lane], (quantizer[lane] * rows + idx[lane]) * 8, thresholds)
                key = idx[lane] * 16 + code
                pred[lane] = _clamp16(pred[lane] + diffs[_u(key)])
                idx[lane] = nexts[_u(key)]
                codes[t, lane] = code
        return codes, idx

    @_jit
    def carried_encode(lanes_major, channels, thresholds, diffs, nexts):
        """The ``carried`` (libsndfile) rule, sequentially: ``lanes_major`` (L, T) lanes of
        consecutive blocks -> (start index (L,), codes (L, T - 1))."""
        lanes, steps = lanes_major.shape
        codes = np.empty((lanes, steps - 1), dtype=np.uint8)
        start = np.empty(lanes, dtype=np.int32)
        for ch in range(channels):
            index = 0
            for lane in range(ch, lanes, channels):
                start[lane] = index
                pred = np.int64(lanes_major[lane, 0])
                for t in range(1, steps):
                    code = _code(lanes_major[lane, t] - pred, index * 8, thresholds)
                    pred = _clamp16(pred + diffs[_u(index * 16 + code)])
                    index = nexts[_u(index * 16 + code)]
                    codes[lane, t - 1] = code
        return start, codes

    @_jit
    def _greedy(column, first, last, index, thresholds, diffs, nexts):
        """Code ``column[first:last]`` (standard quantizer) from ``index``: (end index, squared error)."""
        pred = column[first]
        total = 0
        for t in range(first + 1, last):
            code = _code(column[t] - pred, index * 8, thresholds)
            pred = _clamp16(pred + diffs[_u(index * 16 + code)])
            index = nexts[_u(index * 16 + code)]
            miss = column[t] - pred
            total += miss * miss
        return index, total

    @_jit
    def lanes_search(x, channels, prune_at, merge_at, thresholds, diffs, nexts, rows):
        """:func:`~.search.search_start_indices` for lanes ``x`` (T, L): (start, quantizer) per lane.

        The bound is the error of coding the lane greedily from the step index that the last
        16 samples of the previous block (the lane's own first 16 for the first block) adapt
        to; ``prune_at`` and ``merge_at`` are bool masks over sample positions where
        candidates over the bound are dropped, and where equal-state candidates merge.
        """
        steps, lanes = x.shape
        count = 2 * rows
        best_start = np.empty(lanes, dtype=np.int32)
        best_quantizer = np.empty(lanes, dtype=np.int32)
        pred = np.empty(count, dtype=np.int64)
        index = np.empty(count, dtype=np.int64)
        sse = np.empty(count, dtype=np.int64)
        ident = np.empty(count, dtype=np.int64)
        qrow = np.empty(count, dtype=np.int64)
        state = np.empty(count, dtype=np.int64)
        warm = min(16, steps)
        for lane in range(lanes):
            column = x[:, lane].astype(np.int64)
            if lane >= channels:
                guess, _ = _greedy(x[:, lane - channels].astype(np.int64), steps - warm, steps, 0, thresholds, diffs, nexts)
            else:
                guess, _ = _greedy(column, 0, warm, 0, thresholds, diffs, nexts)
            _, bound = _greedy(column, 0, steps, guess, thresholds, diffs, nexts)
            alive = count
            for k in range(count):
                ident[k] = k
                pred[k] = column[0]
                index[k] = k % rows
                qrow[k] = (k // rows) * rows * 8
                sse[k] = 0
            for t in range(1, steps):
                sample = column[t]
                for k in range(alive):
                    i = index[k]
                    code = _code(sample - pred[k], qrow[k] + i * 8, thresholds)
                    key = i * 16 + code
                    p = _clamp16(pred[k] + diffs[_u(key)])
                    pred[k] = p
                    index[k] = nexts[_u(key)]
                    miss = sample - p
                    sse[k] += miss * miss
                if prune_at[t] or merge_at[t]:
                    kept = 0
                    for k in range(alive):
                        if sse[k] <= bound:
                            ident[kept], pred[kept], index[kept], sse[kept] = ident[k], pred[k], index[k], sse[k]
                            qrow[kept] = qrow[k]
                            kept += 1
                    alive = kept
                if merge_at[t] and alive > 1:
                    for k in range(alive):
                        state[k] = (qrow[k] << 25) | ((pred[k] + 32768) << 8) | index[k]
                    order = np.argsort(state[:alive])
                    keep = np.zeros(alive, dtype=np.bool_)
                    group = order[0]
                    for j in range(1, alive + 1):
                        if j == alive or state[order[j]] != state[group]:
                            keep[group] = True
                            if j < alive:
                                group = order[j]
                        else:
                            k = order[j]
                            if sse[k] < sse[group] or (sse[k] == sse[group] and ident[k] < ident[group]):
                                group = k
                    kept = 0
                    for k in range(alive):
                        if keep[k]:
                            ident[kept], pred[kept], index[kept], sse[kept] = ident[k], pred[k], index[k], sse[k]
                            qrow[kept] = qrow[k]
                            kept += 1
                    alive = kept
            winner = 0
            for k in range(1, alive):
                if sse[k] < sse[winner] or (sse[k] == sse[winner] and ident[k] < ident[winner]):
                    winner = k
            best_start[lane] = ident[winner] % rows
            best_quantizer[lane] = ident[winner] // rows
        return best_start, best_quantizer

    @numba.njit(inline="always")
    def _division_step(s, p, row, reciprocal, transition):
        """One division-quantizer step (:mod:`.lookahead`) from predictor ``p``, table row
        ``16 * index`` and that index's reciprocal: (code, predictor, row, reciprocal, error)."""
        d = s - p
        negative = d >> 63
        code = (negative & 8) | min((((d ^ negative) - negative) * reciprocal) >> 31, 7)
        e = transition[_u(row + code)]
        q = max(min(p + (e & 0xFFFFF) - DIFF_OFFSET, 32767), -32768)
        return code, q, (e >> 20) & 0xFFF, e >> 32, s - q

    @_jit
    def _start_index(x, prefix, lo, hi, reciprocals, transition):
        """Index in lo..hi whose division-quantizer coding of ``x[1:prefix]`` errs least (ties: lowest);
        a candidate stops as soon as its partial error exceeds the best complete one."""
        best, best_error = lo, -1
        for start in range(lo, hi + 1):
            p, row, rec, error = x[0], np.int64(16 * start), reciprocals[start], 0
            for t in range(1, prefix):
                _, p, row, rec, miss = _division_step(x[t], p, row, rec, transition)
                error += miss * miss
                if best_error >= 0 and error > best_error:
                    break
            if best_error < 0 or error < best_error:
                best, best_error = start, error
        return best

    @_jit
    def _lookahead_lane(x, steps, start, reciprocals, transition, codes, ring_p, ring_row, ring_r):
        """Lookahead coding of ``x[:steps]`` into ``codes[1:steps]``; the lookahead reads the
        LOOKAHEAD samples of padding after them (copies of the last one).

        Before sample t, (p, row) is the committed state and ``ring_*[u & 7]`` hold the
        quantizer path continuing it (predictor, table row and error after sample u) for
        u = t .. t+LOOKAHEAD-1; (q, j, rq), the state at its end, stays in registers (the
        loop-carried chain).  Per sample the path grows by one step, option A is costed only
        when its own error is below G's cost, and when A wins the path restarts from A.
        """
        p, row = x[0], np.int64(16 * start)
        q, j, rq = p, row, reciprocals[start]
        for v in range(1, LOOKAHEAD + 1):
            c, q, j, rq, r = _division_step(x[v], q, j, rq, transition)
            codes[v], ring_p[v & 7], ring_row[v & 7], ring_r[v & 7] = c, q, j, r
        for t in range(1, steps):
            c, q, j, rq, r = _division_step(x[t + LOOKAHEAD], q, j, rq, transition)
            k = (t + LOOKAHEAD) & 7
            codes[t + LOOKAHEAD], ring_p[k], ring_row[k], ring_r[k] = c, q, j, r
            near = ring_r[t & 7]
            cost_g = near * near
            for v in range(1, LOOKAHEAD + 1):
                miss = ring_r[(t + v) & 7]
                cost_g += miss * miss
            code = np.int64(codes[t])
            m = code & 7
            up = (np.int64(near != 0) & np.int64((near < 0) == (code >= 8)) & np.int64(m < 7)) | np.int64(m == 0)
            other = code - 1 + 2 * up
            e = transition[_u(row + other)]
            pa = max(min(p + (e & 0xFFFFF) - DIFF_OFFSET, 32767), -32768)
            cost_a = (x[t] - pa) * (x[t] - pa)
            if cost_a < cost_g:
                qa, ja, ra = pa, (e >> 20) & 0xFFF, e >> 32
                for v in range(1, LOOKAHEAD + 1):
                    _, qa, ja, ra, r = _division_step(x[t + v], qa, ja, ra, transition)
                    cost_a += r * r
                if cost_a < cost_g:
                    codes[t] = other
                    p, row = pa, (e >> 20) & 0xFFF
                    q, j, rq = p, row, e >> 32
                    for v in range(1, LOOKAHEAD + 1):
                        c, q, j, rq, r = _division_step(x[t + v], q, j, rq, transition)
                        k = (t + v) & 7
                        codes[t + v], ring_p[k], ring_row[k], ring_r[k] = c, q, j, r
                    continue
            p, row = ring_p[t & 7], ring_row[t & 7]

    @_jit
    def _lane_samples(frames, lane, spb, warm, prefix, radius, reciprocals, transition, x):
        """Copy lane ``lane`` (= block * C + channel) of ``frames`` into ``x`` (zeros past the end
        of the input, as libsndfile pads; then the block's last sample repeats for LOOKAHEAD
        samples of lookahead padding); return its start index."""
        n, channels = frames.shape
        b, ch = lane // channels, lane % channels
        base = b * spb
        have = min(spb, n - base)
        for t in range(have):
            x[t] = frames[base + t, ch]
        for t in range(have, spb):
            x[t] = 0
        for t in range(spb, spb + LOOKAHEAD):
            x[t] = x[spb - 1]
        if b == 0:
            return _start_index(x, prefix, 0, 88, reciprocals, transition)
        p, row, rec = np.int64(frames[base - warm, ch]), np.int64(0), reciprocals[0]
        for t in range(base - warm + 1, base):
            _, p, row, rec, _ = _division_step(np.int64(frames[t, ch]), p, row, rec, transition)
        return _start_index(x, prefix, max(row // 16 - radius, 0), min(row // 16 + radius, 88), reciprocals, transition)

    @_jit
    def _pack_lane(out, lane, channels, spb, block_align, first, start, codes):
        """Write a lane's header (first sample, start index) and nibbles into its block of ``out``:
        codes of samples 8 w + 1 .. 8 w + 8 go to word w of the channel, earlier in the low nibble."""
        header = 4 * channels
        at = (lane // channels) * block_align + 4 * (lane % channels)
        out[at] = first & 0xFF
        out[at + 1] = (first >> 8) & 0xFF
        out[at + 2] = start
        out[at + 3] = 0
        for w in range((spb - 1) // 8):
            at += header
            k = 8 * w
            out[at] = codes[k + 1] | (codes[k + 2] << 4)
            out[at + 1] = codes[k + 3] | (codes[k + 4] << 4)
            out[at + 2] = codes[k + 5] | (codes[k + 6] << 4)
            out[at + 3] = codes[k + 7] | (codes[k + 8] << 4)

    @_jit
    def search_encode(frames, spb, block_align, first, last, out, radius, prefix, warm, reciprocals, transition):
        """Blocks ``first .. last - 1`` of int16 ``frames`` (n, C), coded by the ``search`` rule into
        ``out[first * block_align : last * block_align]`` (uint8): headers, then packed nibbles."""
        channels = frames.shape[1]
        warm, prefix = min(warm, spb), min(prefix, spb)
        x = np.empty(spb + LOOKAHEAD, np.int64)
        codes = np.empty(spb + LOOKAHEAD, np.uint8)
        ring_p = np.empty(8, np.int64)
        ring_row = np.empty(8, np.int64)
        ring_r = np.empty(8, np.int64)
        for lane in range(first * channels, last * channels):
            start = _lane_samples(frames, lane, spb, warm, prefix, radius, reciprocals, transition, x)
            _lookahead_lane(x, spb, start, reciprocals, transition, codes, ring_p, ring_row, ring_r)
            _pack_lane(out, lane, channels, spb, block_align, x[0], start, codes)
