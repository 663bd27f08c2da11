"""MS-ADPCM per-channel block loops, numba-compiled (``cache=True``) when available.

``INWHALE_HW_NUMBA=0`` (read at import) runs the same functions as plain Python (same bits).

Decoding one code ``n`` (signed nibble, -8..7) with predictor pair ``(c1, c2)`` and step ``delta``:

    p      = (s1 c1 + s2 c2) >> 8          (flavor 0; flavor 1 truncates toward zero)
    s      = clamp16(p + n delta)
    delta  = max(16, (ADAPTATION[n & 15] delta) >> 8);  s2, s1 = s1, s

The encoder (:func:`encode_block`) picks, per sample, the code whose reconstruction is nearest
the input (ties: the smaller code), and :func:`best_block` runs it for every predictor pair and
each candidate initial step, keeping the smallest squared error (ties: lower pair index, then
smaller step).  :func:`beam_block` then refines the chosen block: a beam search keeping the
``width`` lowest-error code sequences, each extended by the three codes nearest the input
(never worse than the greedy codes, which stay on the beam as long as they rank in it).

:func:`libsndfile_choose` / :func:`libsndfile_block` are libsndfile's ``choose_predictor`` and
``msadpcm_encode_block``: predictor from the first three predictions' mean absolute error
(integer ``/ 12``, at least 16), codes by truncating division ``(x - p) / delta``.
"""

from __future__ import annotations

import os

import numpy as np

from .tables import ADAPTATION, MIN_DELTA

__all__ = ["ENABLED", "decode_block", "encode_block", "best_block", "libsndfile_choose", "libsndfile_block", "beam_block"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")


def _predict(s1, s2, c1, c2, flavor):
    acc = s1 * c1 + s2 * c2
    if flavor == 1 and acc < 0:
        return -((-acc) >> 8)
    return acc >> 8


def _clamp16(v):
    return 32767 if v > 32767 else (-32768 if v < -32768 else v)


def _adapt(delta, code):
    d = (ADAPTATION[code & 15] * delta) >> 8
    return MIN_DELTA if d < MIN_DELTA else d


def decode_block(codes, s1, s2, delta, c1, c2, flavor, out):
    """Decode unsigned 4-bit ``codes`` into ``out`` (same length) from the header state."""
    for k in range(codes.size):
        c = np.int64(codes[k])
        n = c - 16 if c >= 8 else c
        s = _clamp16(_predict(s1, s2, c1, c2, flavor) + n * delta)
        delta = _adapt(delta, c)
        s2 = s1
        s1 = s
        out[k] = s


def encode_block(x, delta, c1, c2, flavor, codes):
    """Greedy-encode ``x[2:]`` after the exact header samples ``x[0]`` (s2), ``x[1]`` (s1);
    writes unsigned codes into ``codes`` and returns the squared error."""
    s2 = x[0]
    s1 = x[1]
    err = 0
    for k in range(2, x.size):
        p = _predict(s1, s2, c1, c2, flavor)
        target = x[k] - p
        n0 = (2 * target + delta) // (2 * delta)
        best_n = 0
        best_s = 0
        best_e = -1
        for n in range(n0 - 1, n0 + 2):
            if n < -8 or n > 7:
                continue
            s = _clamp16(p + n * delta)
            e = (x[k] - s) * (x[k] - s)
            if best_e < 0 or e < best_e:
                best_e = e
                best_n = n
                best_s = s
        if best_e < 0:  # n0 far outside: the nearest in-range code
            best_n = -8 if n0 < -8 else 7
            best_s = _clamp16(p + best_n * delta)
            best_e = (x[k] - best_s) * (x[k] - best_s)
        code = best_n & 15
        codes[k - 2] = code
        err += best_e
        delta = _adapt(delta, code)
        s2 = s1
        s1 = best_s
    return err


def best_block(x, coefs, deltas, flavor, codes):
    """The (pair index, initial step) of least error over all ``coefs`` rows and ``deltas``;
    leaves that choice's codes in ``codes``."""
    trial = np.empty(codes.size, dtype=np.uint8)
    best_err = -1
    best_pair = 0
    best_delta = deltas[0]
    for i in range(coefs.shape[0]):
        for j in range(deltas.size):
            err = encode_block(x, deltas[j], coefs[i, 0], coefs[i, 1], flavor, trial)
            if best_err < 0 or err < best_err:
                best_err = err
                best_pair = i
                best_delta = deltas[j]
                codes[:] = trial
    return best_pair, best_delta


def libsndfile_choose(x):
    """(pair index, initial step) libsndfile picks from the block's first five samples ``x``."""
    best_pred = 0
    best_delta = 0
    for pred in range(7):
        c1 = (256, 512, 0, 192, 240, 460, 392)[pred]
        c2 = (0, -256, 0, 64, 0, -208, -232)[pred]
        total = 0
        for k in range(2, 5):
            total += abs(x[k] - ((x[k - 1] * c1 + x[k - 2] * c2) >> 8))
        total //= 12
        if pred == 0 or total < best_delta:
            best_pred = pred
            best_delta = total
        if total == 0:
            best_pred = pred
            best_delta = 16
            break
    return best_pred, (16 if best_delta < 16 else best_delta)


def libsndfile_block(x, delta, c1, c2, codes, recon):
    """libsndfile's coder for one channel: ``codes[k - 2]`` for ``x[2:]``; ``recon`` receives
    the samples its buffer holds afterwards (the header samples, then the reconstruction)."""
    s2 = x[0]
    s1 = x[1]
    recon[0] = s2
    recon[1] = s1
    for k in range(2, x.size):
        p = (s1 * c1 + s2 * c2) >> 8
        diff = x[k] - p
        e = abs(diff) // delta
        if diff < 0:
            e = -e
        e = -8 if e < -8 else (7 if e > 7 else e)
        s = _clamp16(p + delta * e)
        recon[k] = s
        code = e & 15
        codes[k - 2] = code
        delta = _adapt(delta, code)
        s2 = s1
        s1 = s


def beam_block(x, delta0, c1, c2, flavor, width, codes):
    """Beam search over codes for ``x[2:]`` from the fixed header; writes the best codes and
    returns their squared error."""
    steps = x.size - 2
    cand = 3 * width
    s1 = np.empty(width, dtype=np.int64)
    s2 = np.empty(width, dtype=np.int64)
    dl = np.empty(width, dtype=np.int64)
    err = np.empty(width, dtype=np.int64)
    n1 = np.empty(cand, dtype=np.int64)
    n2 = np.empty(cand, dtype=np.int64)
    nd = np.empty(cand, dtype=np.int64)
    ne = np.empty(cand, dtype=np.int64)
    parent = np.empty(cand, dtype=np.int64)
    ncode = np.empty(cand, dtype=np.uint8)
    back = np.zeros((steps, width), dtype=np.int64)
    bcode = np.zeros((steps, width), dtype=np.uint8)
    alive = 1
    s1[0] = x[1]
    s2[0] = x[0]
    dl[0] = delta0
    err[0] = 0
    for k in range(steps):
        m = 0
        for j in range(alive):
            p = _predict(s1[j], s2[j], c1, c2, flavor)
            d = dl[j]
            n0 = (2 * (x[k + 2] - p) + d) // (2 * d)
            n0 = -7 if n0 < -7 else (6 if n0 > 6 else n0)
            for n in range(n0 - 1, n0 + 2):
                s = _clamp16(p + n * d)
                code = n & 15
                n1[m] = s
                n2[m] = s1[j]
                nd[m] = _adapt(d, code)
                ne[m] = err[j] + (x[k + 2] - s) * (x[k + 2] - s)
                parent[m] = j
                ncode[m] = code
                m += 1
        order = np.argsort(ne[:m], kind="mergesort")
        kept = 0
        for i in range(m):
            c = order[i]
            dup = False  # drop exact duplicates of a kept state (same future, higher or equal error)
            for q in range(kept):
                if s1[q] == n1[c] and s2[q] == n2[c] and dl[q] == nd[c]:
                    dup = True
                    break
            if dup:
                continue
            s1[kept] = n1[c]
            s2[kept] = n2[c]
            dl[kept] = nd[c]
            err[kept] = ne[c]
            back[k, kept] = parent[c]
            bcode[k, kept] = ncode[c]
            kept += 1
            if kept == width:
                break
        alive = kept
    j = 0
    for k in range(steps - 1, -1, -1):
        codes[k] = bcode[k, j]
        j = back[k, j]
    return err[0]


if ENABLED:
    _jit = numba.njit(cache=True, nogil=True)
    _predict = _jit(_predict)
    _clamp16 = _jit(_clamp16)
    _adapt = _jit(_adapt)
    decode_block = _jit(decode_block)
    encode_block = _jit(encode_block)
    best_block = _jit(best_block)
    libsndfile_choose = _jit(libsndfile_choose)
    libsndfile_block = _jit(libsndfile_block)
    beam_block = _jit(beam_block)
