"""OKI ADPCM loops (12-bit samples), numba-compiled (``cache=True``) when available;
``INWHALE_HW_NUMBA=0`` (read at import) runs the same functions as plain Python (same bits).

Decoding code ``c`` (sign bit 8, magnitude ``m = c & 7``) at step ``q = STEPS[i]``:

    diff = ((2 m + 1) q) >> 3;   y = clamp(y -+ diff, -2048, 2047);   i = clamp(i + ADJ[m], 0, 48)

and the 16-bit output is ``16 y`` (flavor 0: Dialogic, ffmpeg's ``adpcm_ima_oki``).  Flavor 1
(libsndfile's VOX_ADPCM, and sox) keeps the state in 16-bit units, ``Y = clamp16(Y -+ 16 diff)``,
and outputs ``Y``: the same until the positive rail, where it holds 32767 instead of 32752 and
carries that +15 offset until the negative rail clears it.  The encoder picks the code whose
16-bit output is nearest the input (ties: the smaller magnitude).
"""

from __future__ import annotations

import os

import numpy as np

from .tables import INDEX_ADJUST, MAX_INDEX, SAMPLE_MAX, SAMPLE_MIN, STEPS

__all__ = ["ENABLED", "decode", "encode"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")


def _step(y, i, c, flavor):
    q = STEPS[i]
    diff = ((2 * (c & 7) + 1) * q) >> 3
    if flavor == 1:
        diff <<= 4
        lo, hi = -32768, 32767
    else:
        lo, hi = SAMPLE_MIN, SAMPLE_MAX
    y = y - diff if c & 8 else y + diff
    y = lo if y < lo else (hi if y > hi else y)
    i = i + INDEX_ADJUST[c & 7]
    i = 0 if i < 0 else (MAX_INDEX if i > MAX_INDEX else i)
    return y, i


def _output(y, flavor):
    return y if flavor == 1 else y << 4


def decode(codes, y, i, flavor, out):
    """16-bit samples of ``codes`` into ``out``; returns the final (state sample, index)."""
    for k in range(codes.size):
        y, i = _step(y, i, codes[k], flavor)
        out[k] = _output(y, flavor)
    return y, i


def encode(x, y, i, flavor, codes):
    """Codes for int16 ``x`` into ``codes``; returns the final (state sample, index)."""
    for k in range(x.size):
        best = 0
        best_e = -1
        sign = 8 if x[k] < _output(y, flavor) else 0
        for m in range(8):
            ny, _ = _step(y, i, sign | m, flavor)
            e = abs(x[k] - _output(ny, flavor))
            if best_e < 0 or e < best_e:
                best_e = e
                best = sign | m
        codes[k] = best
        y, i = _step(y, i, best, flavor)
    return y, i


if ENABLED:
    _jit = numba.njit(cache=True, nogil=True)
    _step = _jit(_step)
    _output = _jit(_output)
    decode = _jit(decode)
    encode = _jit(encode)
