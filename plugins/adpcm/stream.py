"""The IMA ADPCM stream codec: one 4-bit code per 16-bit sample, state carried throughout.

State is the pair (predictor, step index): predictor an int16 value, step index 0..88
(IMA Recommended Practices rev 3.00, the ADPCM algorithm; identical to CPython's
``audioop.lin2adpcm`` / ``adpcm2lin`` and to the per-block coder of WAVE format 0x0011).

Encoder, per sample ``x`` with ``s = STEP[index]``::

    d = x - predictor;  sign = 8 if d < 0 else 0;  |d| coded by successive approximation
    against s, s >> 1, s >> 2 into magnitude m (0..7);  code = sign | m
    predictor = clamp(predictor +- vpdiff(s, code), -32768, 32767)
    index = clamp(index + INDEX_ADJUST[code], 0, 88)

The decoder runs the same two updates from the codes alone.  Encoding is inherently
sequential (each code depends on the reconstructed predictor): with the optional numba
extra it runs compiled (:mod:`.kernels`, measured 0.5-1x audioop's C ``lin2adpcm``),
otherwise as a pure-Python loop over table look-ups (measured 1-4 M samples/s, 0.02-0.04x;
``benchmarks/bench_adpcm.py``).  Decoding is vectorized: the step-index recursion is a
saturating prefix sum that needs no predictor, and, with every step size then known, the
predictor recursion is another (:mod:`.scan`); measured 0.35-1x audioop's ``adpcm2lin``.
With numba the decoder runs as a compiled loop instead (same bits).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from inwhale_hw.errors import InputError
from inwhale_hw.scan import clamp_add_scan

from . import kernels
from .tables import (
    INDEX_ADJUST,
    MAX_INDEX,
    NEXT_INDEX,
    SIGNED_DIFF,
    SIGNED_DIFF_FFMPEG,
    magnitude_thresholds,
)

__all__ = ["ImaState", "encode_stream", "decode_stream", "check_state"]

_THRESHOLDS = [row.tolist() for row in magnitude_thresholds()]
_THRESHOLDS8 = np.concatenate([np.zeros((MAX_INDEX + 1, 1), np.int32), magnitude_thresholds()], axis=1).reshape(-1)
#: per index: the 16 signed differences and next indices, as Python lists for the loop
_DIFF_ROWS = [SIGNED_DIFF[i * 16 : i * 16 + 16].tolist() for i in range(MAX_INDEX + 1)]
_NEXT_ROWS = [NEXT_INDEX[i * 16 : i * 16 + 16].tolist() for i in range(MAX_INDEX + 1)]
_ADJUST8 = INDEX_ADJUST.astype(np.int8)
_DIFF_LIMIT = int(max(np.abs(SIGNED_DIFF).max(), np.abs(SIGNED_DIFF_FFMPEG).max()))

#: codes decoded per vectorized pass of :func:`decode_stream`
SEGMENT = 1 << 15


@dataclass(frozen=True)
class ImaState:
    """Coder state between samples: ``predictor`` in [-32768, 32767], ``index`` in [0, 88]."""

    predictor: int = 0
    index: int = 0

    def __post_init__(self) -> None:
        check_state(self.predictor, self.index, "ImaState")


def check_state(predictor: int, index: int, where: str) -> None:
    """Raise :class:`InputError` unless the state is a valid (int16 predictor, 0..88 index)."""
    if not -32768 <= predictor <= 32767:
        raise InputError(f"{where}: predictor {predictor} is outside the int16 range [-32768, 32767]")
    if not 0 <= index <= MAX_INDEX:
        raise InputError(f"{where}: step index {index} is outside [0, {MAX_INDEX}]")


def encode_stream(
    samples: np.ndarray, state: ImaState = ImaState(), use_kernels: bool = True
) -> tuple[np.ndarray, ImaState]:
    """Encode 1-D int16-range samples from ``state``; return (uint8 codes 0..15, end state).

    Runs the compiled loop of :mod:`.kernels` when numba is available and ``use_kernels``
    (same bits), else the pure-Python loop.
    """
    if kernels.ENABLED and use_kernels:
        codes, predictor, index = kernels.stream_encode(
            np.asarray(samples).astype(np.int64), state.predictor, state.index, _THRESHOLDS8, SIGNED_DIFF, NEXT_INDEX
        )
        return codes, ImaState(int(predictor), int(index))
    values = np.asarray(samples).astype(np.int64, copy=False).tolist()
    codes = bytearray(len(values))
    predictor, index = state.predictor, state.index
    thresholds, diffs, nexts = _THRESHOLDS[index], _DIFF_ROWS[index], _NEXT_ROWS[index]
    for k, value in enumerate(values):
        d = value - predictor
        code = bisect_right(thresholds, -d) | 8 if d < 0 else bisect_right(thresholds, d)
        predictor += diffs[code]
        if predictor > 32767:
            predictor = 32767
        elif predictor < -32768:
            predictor = -32768
        index = nexts[code]
        thresholds, diffs, nexts = _THRESHOLDS[index], _DIFF_ROWS[index], _NEXT_ROWS[index]
        codes[k] = code
    return np.frombuffer(bytes(codes), dtype=np.uint8).copy(), ImaState(predictor, index)


def decode_stream(
    codes: np.ndarray, state: ImaState = ImaState(), flavor: str = "standard", use_kernels: bool = True
) -> tuple[np.ndarray, ImaState]:
    """Decode 1-D codes 0..15 from ``state``; return (int16 samples, end state).

    Runs the compiled loop of :mod:`.kernels` when numba is available and ``use_kernels``
    (same bits), else the vectorized scans below.
    ``flavor`` "ffmpeg" reconstructs with ``((2 m + 1) s) >> 3`` instead of the shift sum.
    The stream is processed in segments of :data:`SEGMENT` codes (the state carries), which
    keeps the prefix sums in int32 and the working set in cache.
    """
    codes = np.asarray(codes, dtype=np.uint8)
    table = SIGNED_DIFF_FFMPEG if flavor == "ffmpeg" else SIGNED_DIFF
    if kernels.ENABLED and use_kernels:
        out, predictor, index = kernels.stream_decode(codes, state.predictor, state.index, table, NEXT_INDEX)
        return out, ImaState(int(predictor), int(index))
    out = np.empty(codes.size, dtype=np.int16)
    predictor, index = state.predictor, state.index
    for first in range(0, codes.size, SEGMENT):
        part = codes[first : first + SEGMENT]
        after = clamp_add_scan(np.take(_ADJUST8, part)[None, :], [index], 0, MAX_INDEX, limit=8)[0]
        keys = np.empty(part.size, dtype=np.int32)
        keys[0] = index * 16
        np.multiply(after[:-1], 16, out=keys[1:])
        keys += part
        samples = clamp_add_scan(np.take(table, keys)[None, :], [predictor], -32768, 32767, limit=_DIFF_LIMIT)[0]
        out[first : first + part.size] = samples
        predictor, index = int(samples[-1]), int(after[-1])
    return out, ImaState(predictor, index)
