"""Verification vectors and stepwise golden references for the sequential codec blocks.

The stream blocks of DPCM, CVSD and delta modulation are checked on real signals and on edge
cases, with the codec state compared after every sample (see :mod:`inwhale_hw.hdlsim.ports`):

* :func:`bundled` reads the bundled samples (package data, :mod:`inwhale_hw.samples`) (speech at 8 kHz, music at
  44.1 kHz) through :func:`inwhale_hw.audio.pcm.read_audio`, resampled to the block's rate
  (``scipy.signal.resample_poly``, as that function documents), first channel only.
* :func:`square` and :func:`edge_pcm` make full-scale signals that drive a codec's step
  adaptation to its limits and its reconstruction into both rails.
* :func:`stepwise` runs a :class:`~inwhale_hw.codec.SequentialCodec` one sample
  at a time through its own chunk functions (``_encode_chunk`` / ``_decode_chunk``, the
  functions its streaming ``encode``/``decode`` use), loading a given state before chosen
  samples, and returns every output with the state after it.  Its cost is one model call per
  sample (10-200 µs), acceptable for the ~10^4-10^5 samples of a verification run.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from inwhale_hw.errors import InputError
from inwhale_hw.samples import sample_path

__all__ = ["bundled", "square", "edge_pcm", "stepwise", "load_points", "append_codes", "half_period"]

INT16_MIN, INT16_MAX = -32768, 32767
_FILES = {"speech": "speech_8k.wav", "music": "music_44k.wav"}


def bundled(name: str, rate: int, seconds: float, offset: float = 0.0) -> np.ndarray:
    """``seconds`` of the bundled ``name`` ("speech" or "music") from ``offset`` s, at ``rate``
    Hz, first channel, as int64."""
    from inwhale_hw.audio.pcm import read_audio

    if name not in _FILES:
        raise InputError(f"bundled sample {name!r} is not allowed; expected one of {sorted(_FILES)}")
    audio = read_audio(sample_path(_FILES[name]), rate=rate)
    start = int(round(offset * rate))
    return audio.samples[start : start + int(round(seconds * rate)), 0].astype(np.int64)


def square(half_period: int, periods: int, high: int = INT16_MAX, low: int = INT16_MIN) -> np.ndarray:
    """``periods`` periods of a square wave, ``half_period`` samples at ``high`` then at ``low``."""
    one = np.concatenate([np.full(half_period, high), np.full(half_period, low)])
    return np.tile(one, periods).astype(np.int64)


def edge_pcm(long_half_period: int, short: int = 512, seed: int = 5) -> np.ndarray:
    """Full-scale edge cases for a PCM input, in this order: three periods of a square wave
    with half-period ``long_half_period`` (long enough for the step to saturate and the
    reconstruction to sit on each rail), as long a silence (the step decays), the fastest
    full-scale square wave (period 2, ``short // 2`` samples), a full-range ramp up and down
    (``short`` samples each), seeded full-range white noise (``short`` samples) and each rail
    held for ``short // 4`` samples."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(INT16_MIN, INT16_MAX, short).round().astype(np.int64)
    return np.concatenate([
        square(long_half_period, 3),
        np.zeros(long_half_period, dtype=np.int64),
        square(1, short // 4),
        ramp,
        ramp[::-1],
        rng.integers(INT16_MIN, INT16_MAX + 1, short),
        np.full(short // 4, INT16_MAX),
        np.full(short // 4, INT16_MIN),
    ]).astype(np.int64)


def load_points(*segments: np.ndarray) -> np.ndarray:
    """Start index of each segment when the segments are concatenated."""
    return np.cumsum([0] + [len(s) for s in segments[:-1]]).astype(np.int64)


def half_period(largest_move: int, lo: int = 48, hi: int = 4096) -> int:
    """Samples per half-period of an edge square wave for a codec moving at most
    ``largest_move`` per sample: enough to cross the whole int16 range, within [lo, hi]."""
    return int(min(max(-(-(1 << 16) // max(largest_move, 1)) + 16, lo), hi))


def append_codes(ports: dict[str, np.ndarray], codes: np.ndarray, extra: np.ndarray) -> dict[str, np.ndarray]:
    """Decoder vectors from encoder vectors ``ports``: the input becomes ``codes`` (the encoder's
    output for them) followed by ``extra`` codes, the sideband ports are padded with zeros."""
    pad = len(extra)
    out = {key: np.concatenate([v, np.zeros(pad, dtype=np.int64)]) for key, v in ports.items()}
    out["i"] = np.concatenate([np.asarray(codes, dtype=np.int64), np.asarray(extra, dtype=np.int64)])
    return out


def stepwise(
    codec: Any,
    direction: str,
    values: np.ndarray,
    loads: Mapping[int, Any],
    observe: Callable[[Any], dict[str, int]],
) -> dict[str, np.ndarray]:
    """Run ``codec`` sample by sample (one channel) and record outputs and states.

    ``direction`` is "encode" or "decode"; ``loads`` maps a sample index to the model state
    (one channel's) to start that sample from; ``observe`` turns a model state into the
    block's state ports.  Returns ``{"o": outputs, port: values, ...}``, one entry per sample.
    """
    run = codec._encode_chunk if direction == "encode" else codec._decode_chunk
    state = codec._start(1)
    outputs = np.empty(len(values), dtype=np.int64)
    observed: dict[str, list[int]] = {}
    for n, value in enumerate(np.asarray(values, dtype=np.int64).tolist()):
        if n in loads:
            state = loads[n]
        out, state = run(np.array([[value]], dtype=np.int64), state)
        outputs[n] = int(out[0, 0])
        for key, port_value in observe(state).items():
            observed.setdefault(key, []).append(port_value)
    return {"o": outputs, **{key: np.asarray(v, dtype=np.int64) for key, v in observed.items()}}
