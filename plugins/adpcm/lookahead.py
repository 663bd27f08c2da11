"""The ``search`` IMA WAV encoder: a short start-index search, then two-option lookahead coding.

Every block header resets the coder, so each (block, channel) lane is coded on its own, from
its first sample (stored exactly in the header) and a start step index the encoder picks.
Two searches, both cheap; the decoder stays the standard one (IMA rev 3.00; libsndfile,
sox, ffmpeg's "standard" reconstruction and audioop decode the files).

Per-sample quantizer ("division", sox's ``ImaMashS``), for ``d = x - predictor`` and step
``s = STEP[i]``: magnitude ``m = min(7, floor(4 |d| / s))``, sign bit set when ``d < 0``;
computed as ``(|d| * RECIPROCAL[i]) >> 31`` with ``RECIPROCAL[i] = ceil(2**33 / s)``, which
is exact for every ``|d| < 2**16`` (the tests check all of them).  Reconstruction and
next index are the standard ones (:mod:`.tables`), read with the next index's reciprocal
from one :data:`TRANSITION` entry per (index, code).

Lookahead coding (a two-branch search over codes, depth :data:`LOOKAHEAD`).  At sample
``t`` (1 .. T-1 of a block of T samples) from the committed state (predictor, index):

* option G is the quantizer's code; option A keeps its sign and moves the magnitude one
  step towards the sample: ``m + 1`` when G's reconstruction fell short (its error
  ``x - reconstruction`` is nonzero with the sign of ``d``) and ``m < 7``, otherwise
  ``m - 1``; ``m = 0`` always goes to 1;
* the cost of an option is the squared error it makes at ``t`` plus the squared errors of
  quantizer coding from its state over the next LOOKAHEAD samples (past the block's end,
  copies of its last sample: the lane's padding);
* A is taken only when its cost is strictly lower.

The compiled coder (:mod:`.kernels`) gets the same codes with about ``1 + LOOKAHEAD / 6``
quantizer steps per sample instead of ``2 + 2 LOOKAHEAD``: G's lookahead path is the
quantizer coding that G's successor continues, so it is kept and extended by one step per
sample; A's lookahead is skipped when A's own error already reaches G's cost (errors only
add up), which leaves about one sample in six.

Start step index (first search).  Block 0 of each channel tries all 89 indices; a later
block tries ``g - RADIUS .. g + RADIUS`` (clipped to 0..88), where ``g`` is the index the
quantizer reaches coding the last :data:`WARM` samples of the previous block of that
channel from index 0 -- the step size the signal needed just before the block.  The
candidate with the smallest squared error of quantizer coding over the block's first
:data:`PREFIX` samples wins, ties to the lower index.  The step index forgets its start
within a few tens of samples, so a short prefix decides.

Quality (``tests/plugins/adpcm/test_ima_interop.py``: SNR >= sox's, sox run with ``-D`` at
the same block size).  Measured on 28 excerpts (espeak-ng speech in five voices at 8, 16
and 44.1 kHz; the bundled samples at 8, 22.05 and 44.1 kHz; synthetic music, mono and
stereo) the margin over sox was +0.07 to +5.4 dB, mean +0.9 dB; the ``exhaustive``
start-index search (:mod:`.search`) gave +0.02 to +5.1 dB, mean +0.65 dB, at 17-80 times
the cost.  Speech at 44.1 kHz has the smallest margins (+0.07 to +0.23 dB).  A lookahead
of 1 fell below sox on 44.1 kHz speech (about -0.06 dB), and so did skipping A unless its
own error was under half of G's cost (-0.05 dB, for 25 % more speed); a lookahead of 3
added 0.1-0.2 dB for about 20 % less speed.

Speed (``benchmarks/bench_adpcm.py``; a shared 2-core machine, load average 5-8).  On one
thread the compiled coder takes about 11 ns per sample (CPU time, as fast at 8 kHz as at
44.1 kHz): 0.7-1.0x audioop's ``lin2adpcm`` in CPU time, whose own speed depends on the
signal (it branches per bit; smooth 44.1 kHz music runs faster).  Of those 11 ns, about 5
are the quantizer path (a chain of dependent steps), 3 the mispredicted branch of the
pruning test, 2 the lookahead of A.  Interleaving two lanes in one loop, or computing
each block's path first and the decisions after, did not help (the branch dominates).
Inputs of at least :data:`PARALLEL_MIN` samples are split over the usable CPUs.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from inwhale_hw.threads import thread_count

from . import kernels
from .blocks import frames_to_lanes, lanes_to_frames, pack_blocks, samples_per_block
from .tables import MAX_INDEX, NEXT_INDEX, SIGNED_DIFF, STEP

__all__ = [
    "LOOKAHEAD", "RADIUS", "PREFIX", "WARM", "RECIPROCAL", "TRANSITION", "search_payload", "start_indices", "lookahead_codes",
]

#: samples after the current one that each option's cost looks at
LOOKAHEAD = kernels.LOOKAHEAD
#: start indices tried around the warm-up guess (block 0: all 89)
RADIUS = 2
#: samples of a block whose quantizer-coding error ranks the start candidates
PREFIX = 32
#: samples at the end of the previous block that the start guess is adapted on
WARM = 16
#: ``ceil(2**33 / STEP[i])``: ``(|d| * RECIPROCAL[i]) >> 31 == floor(4 |d| / STEP[i])`` for |d| < 2**16
RECIPROCAL = -(-(np.int64(1) << 33) // STEP.astype(np.int64))
#: ``TRANSITION[16 i + code]``, for step index i and a 4-bit code: bits 0..19 the standard
#: signed reconstruction difference plus :data:`~.kernels.DIFF_OFFSET`, bits 20..31 16 times
#: the next index (the next row), bits 32..62 the next index's reciprocal
TRANSITION = (
    (SIGNED_DIFF.astype(np.int64) + kernels.DIFF_OFFSET)
    | (NEXT_INDEX.astype(np.int64) << 24)
    | (RECIPROCAL[NEXT_INDEX] << 32)
)
for _table in (RECIPROCAL, TRANSITION):
    _table.flags.writeable = False
#: inputs of at least this many samples are split over threads (the kernels release the GIL)
PARALLEL_MIN = 1 << 18
#: pieces per worker thread: a thread that the OS deschedules holds up only a small piece
PIECES_PER_WORKER = 4
_pool: ThreadPoolExecutor | None = None


def _apply(p: np.ndarray, i: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard reconstruction and index update of ``code`` from (p, i), over lanes (int64)."""
    entry = TRANSITION[16 * i + code]
    return np.clip(p + (entry & 0xFFFFF) - kernels.DIFF_OFFSET, -32768, 32767), (entry >> 24) & 0xFF


def _step(s: np.ndarray, p: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One quantizer step over lanes (int64): (code, new predictor, new index, error ``s - new``)."""
    d = s - p
    code = np.minimum((np.abs(d) * RECIPROCAL[i]) >> 31, 7) | ((d < 0).astype(np.int64) << 3)
    q, j = _apply(p, i, code)
    return code, q, j, s - q


def start_indices(x: np.ndarray, channels: int) -> np.ndarray:
    """Start step index of every lane of ``x`` (T, blocks * channels), int64 (the first search)."""
    steps, lanes = x.shape
    x = x.astype(np.int64)
    warm, prefix = min(WARM, steps), min(PREFIX, steps)
    guess = np.zeros(lanes - channels, dtype=np.int64)
    p = x[steps - warm, : lanes - channels].copy()
    for t in range(steps - warm + 1, steps):
        _, p, guess, _ = _step(x[t, : lanes - channels], p, guess)
    lo = np.concatenate([np.zeros(min(channels, lanes), np.int64), np.maximum(guess - RADIUS, 0)])
    hi = np.concatenate([np.full(min(channels, lanes), MAX_INDEX), np.minimum(guess + RADIUS, MAX_INDEX)])
    count = hi - lo + 1
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    lane = np.repeat(np.arange(lanes), count)
    candidate = lo[lane] + np.arange(lane.size) - offset[lane]
    p, i = x[0, lane], candidate
    error = np.zeros(lane.size, dtype=np.int64)
    for t in range(1, prefix):
        _, p, i, miss = _step(x[t, lane], p, i)
        error += miss * miss
    best = np.minimum.reduceat(error, offset)
    winners = np.flatnonzero(error == best[lane])
    first = winners[np.concatenate([[True], lane[winners][1:] != lane[winners][:-1]])]
    return candidate[first]


def lookahead_codes(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Lookahead coding of lanes ``x`` (T, L) from their first samples and ``start``: codes (T - 1, L) uint8.

    NumPy over lanes, one sample position at a time, both options' lookahead computed in
    full (the compiled coder prunes; same codes).
    """
    steps, lanes = x.shape
    xs = np.concatenate([x, np.repeat(x[-1:], LOOKAHEAD, axis=0)]).astype(np.int64)
    p, i = xs[0].copy(), np.asarray(start, dtype=np.int64).copy()
    codes = np.empty((steps - 1, lanes), dtype=np.uint8)
    for t in range(1, steps):
        s = xs[t]
        g, pg, ig, rg = _step(s, p, i)
        m = g & 7
        up = ((rg != 0) & ((rg < 0) == (g >= 8)) & (m < 7)) | (m == 0)
        other = g - 1 + 2 * up
        pa, ia = _apply(p, i, other)
        ra = s - pa
        cost_g, cost_a = rg * rg, ra * ra
        qg, jg, qa, ja = pg, ig, pa, ia
        for v in range(t + 1, t + LOOKAHEAD + 1):
            _, qg, jg, miss = _step(xs[v], qg, jg)
            cost_g += miss * miss
            _, qa, ja, miss = _step(xs[v], qa, ja)
            cost_a += miss * miss
        take = cost_a < cost_g
        codes[t - 1] = np.where(take, other, g)
        p, i = np.where(take, pa, pg), np.where(take, ia, ig)
    return codes


def _worker_count() -> int:
    return thread_count(4)


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_worker_count() - 1, thread_name_prefix="ima-search")
    return _pool


def _run_pieces(encode: Callable[[int, int], None], bounds: list[int]) -> None:
    """Run ``encode(bounds[k], bounds[k + 1])`` for every piece k on the calling thread and
    the pool's threads, each taking the next unclaimed piece.  The caller works too and
    waits only for pieces, not for threads: on a busy machine, a pool thread the OS starts
    late finds nothing left and the call costs no more than on one thread."""
    pieces = len(bounds) - 1
    claim = itertools.count()
    finished = threading.Semaphore(0)
    errors: list[BaseException] = []

    def work() -> None:
        while (k := next(claim)) < pieces:
            try:
                encode(bounds[k], bounds[k + 1])
            except BaseException as error:  # re-raised on the calling thread
                errors.append(error)
            finally:
                finished.release()

    for _ in range(_worker_count() - 1):
        _thread_pool().submit(work)
    work()
    for _ in range(pieces):
        finished.acquire()
    if errors:
        raise errors[0]


def search_payload(pcm: np.ndarray, block_align: int, use_kernels: bool = True, pieces: int | None = None) -> bytes:
    """The WAV data chunk body for int16 frames ``pcm`` (n >= 1, C) coded by the ``search`` rule.

    Compiled (:func:`.kernels.search_encode`) or NumPy over lanes; the same bytes either way.
    The compiled coder codes ``pieces`` ranges of blocks on the calling thread and a shared
    pool of threads (together one per usable CPU, at most 4; :func:`_run_pieces`); None:
    :data:`PIECES_PER_WORKER` pieces per thread for inputs of at least :data:`PARALLEL_MIN`
    samples, else one piece.  Lanes are independent, so the split never changes a byte.
    """
    n, channels = pcm.shape
    spb = samples_per_block(block_align, channels)
    blocks = -(-n // spb)
    if not (kernels.ENABLED and use_kernels):
        x = frames_to_lanes(pcm, spb)
        start = start_indices(x, channels)
        codes = lookahead_codes(x, start)
        frames = lanes_to_frames(codes, blocks, channels)
        return pack_blocks(x[0].reshape(blocks, channels), start.reshape(blocks, channels), frames)
    frames = np.ascontiguousarray(pcm, dtype=np.int16)
    out = np.empty(blocks * block_align, dtype=np.uint8)
    if pieces is None:
        workers = _worker_count()
        pieces = workers * PIECES_PER_WORKER if workers > 1 and frames.size >= PARALLEL_MIN else 1
    pieces = max(1, min(pieces, blocks))
    bounds = [blocks * k // pieces for k in range(pieces + 1)]

    def encode(first: int, last: int) -> None:
        kernels.search_encode(frames, spb, block_align, first, last, out, RADIUS, PREFIX, WARM, RECIPROCAL, TRANSITION)

    if pieces == 1:
        encode(0, blocks)
    else:
        _run_pieces(encode, bounds)
    return out.tobytes()
