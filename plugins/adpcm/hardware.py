"""IMA-ADPCM's hardware: block wiring, golden vectors and reference (:mod:`inwhale_hw.hdl.ima_adpcm`).

:func:`datapath` builds the encoder or the ``flavor``'s decoder with the family's step table
(:data:`~inwhale_hw.plugins.adpcm.tables.STEP`) as a constructor argument.  :func:`golden`
adds the coverage counters ``index_max`` / ``index_min`` (elements whose step index after the
element is 88 / 0), ``rail_high`` / ``rail_low`` (predictor on an int16 rail) and ``loads``.

:func:`encoder_segments` / :func:`decoder_segments` build the default verification inputs as
named segments, each a dict of per-element arrays keyed like the stream harness
(:mod:`inwhale_hw.hdlsim.ports`): ``"i"`` (PCM or codes), ``"load"``, ``"load_predictor"`` and
``"load_index"``.  :func:`reference` gives, for any such inputs, the golden outputs after
every element -- ``"o"``, ``"predictor"``, ``"index"`` -- from the plugin's bit-accurate
model (:func:`~inwhale_hw.plugins.adpcm.stream.encode_stream`,
:func:`~inwhale_hw.plugins.adpcm.stream.decode_stream`), restarted from the loaded state at
every element with ``load`` set.

Encoder segments (decoder segments use the golden encoder's codes for the first three):

``speech``
    The first second of the bundled ``audio_samples/speech_8k.wav`` (8000 samples), from the
    reset state, with a WAV-style block start every 505 samples (libsndfile's block at 8 kHz
    mono): the block's first sample as predictor, a random step index.
``music``
    0.2 s of the left channel of ``audio_samples/music_44k.wav`` from 0.5 s (8820 samples),
    block starts every 2041 samples (libsndfile's block at 44.1 kHz mono).
``square``
    A full-scale square wave (32767 / -32768, period 100) from state (0, 0): the step index
    reaches 88 and the predictor saturates at both rails.
``thresholds`` (encoder)
    For every step index, both signs, every decision threshold ``T`` of the magnitude
    quantizer (see :func:`~inwhale_hw.plugins.adpcm.tables.magnitude_thresholds`), a
    difference of ``T - 1`` and ``T``; plus zero difference and the largest ones (+-65535).
``every_code`` (decoder)
    Every (step index, code) pair from the predictors -32768, -32767, -1, 0, 1, 32766, 32767.
``random``
    Uniform random samples or codes, a random state loaded before about one element in ten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

import inwhale_hw
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.hardware import Golden
from inwhale_hw.hdl.ima_adpcm import ImaAdpcmDecoder, ImaAdpcmEncoder
from inwhale_hw.scan import clamp_add_scan

from .stream import ImaState, check_state, decode_stream, encode_stream
from .tables import (
    FLAVORS,
    INDEX_ADJUST,
    MAX_INDEX,
    NEXT_INDEX,
    SIGNED_DIFF,
    SIGNED_DIFF_FFMPEG,
    STEP,
    magnitude_thresholds,
)

__all__ = [
    "KEYS",
    "datapath",
    "golden",
    "encoder_segments",
    "decoder_segments",
    "concat",
    "default_inputs",
    "reference",
    "bundled_sample",
]

#: input keys of both blocks (the stream payload and the sideband load port)
KEYS = ("i", "load", "load_predictor", "load_index")

SPEECH_SAMPLES = 8000
SPEECH_BLOCK = 505
MUSIC_START, MUSIC_SAMPLES, MUSIC_BLOCK = 22050, 8820, 2041
SQUARE_SAMPLES, SQUARE_HALF_PERIOD = 1000, 50
RANDOM_SAMPLES = 1000
EDGE_PREDICTORS = (-32768, -32767, -1, 0, 1, 32766, 32767)
SEED = 20240605


def bundled_sample(name: str) -> np.ndarray:
    """A bundled sample from the repository's ``audio_samples/`` as int16 (frames, channels)."""
    import soundfile

    path = Path(inwhale_hw.__file__).resolve().parent.parent / "audio_samples" / name
    if not path.is_file():
        raise InputError(
            f"the IMA-ADPCM hardware vectors need the bundled sample {path}, which is missing; "
            "run from a checkout of the repository (audio_samples/make_samples.py recreates it)"
        )
    data, _ = soundfile.read(str(path), dtype="int16", always_2d=True)
    return data


def _segment(values, loads: Mapping[int, tuple[int, int]] | None = None) -> dict[str, np.ndarray]:
    """Per-element arrays for ``values`` with the given ``{position: (predictor, index)}`` loads."""
    values = np.asarray(values, dtype=np.int64)
    load = np.zeros(values.size, dtype=np.int64)
    predictor = np.zeros(values.size, dtype=np.int64)
    index = np.zeros(values.size, dtype=np.int64)
    for position, (p, i) in (loads or {}).items():
        load[position], predictor[position], index[position] = 1, p, i
    return {"i": values, "load": load, "load_predictor": predictor, "load_index": index}


def _loaded(values, predictors, indices) -> dict[str, np.ndarray]:
    """Every element loaded with its own state."""
    values = np.asarray(values, dtype=np.int64)
    return {
        "i": values,
        "load": np.ones(values.size, dtype=np.int64),
        "load_predictor": np.asarray(predictors, dtype=np.int64),
        "load_index": np.asarray(indices, dtype=np.int64),
    }


def _block_starts(pcm: np.ndarray, block: int, rng: np.random.Generator) -> dict[int, tuple[int, int]]:
    """WAV-style block starts: element ``k`` is coded from (``pcm[k - 1]``, a random index)."""
    return {k: (int(pcm[k - 1]), int(rng.integers(0, MAX_INDEX + 1))) for k in range(block, pcm.size, block)}


def _random(rng: np.random.Generator, lo: int, hi: int) -> dict[str, np.ndarray]:
    values = rng.integers(lo, hi + 1, RANDOM_SAMPLES)
    starts = np.flatnonzero(rng.random(RANDOM_SAMPLES) < 0.1)
    loads = {int(k): (int(rng.integers(-32768, 32768)), int(rng.integers(0, MAX_INDEX + 1))) for k in starts}
    return _segment(values, loads)


def _signal_segments(rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    speech = bundled_sample("speech_8k.wav")[:SPEECH_SAMPLES, 0].astype(np.int64)
    music = bundled_sample("music_44k.wav")[MUSIC_START : MUSIC_START + MUSIC_SAMPLES, 0].astype(np.int64)
    square = np.where(np.arange(SQUARE_SAMPLES) // SQUARE_HALF_PERIOD % 2 == 0, 32767, -32768)
    return {
        "speech": _segment(speech, _block_starts(speech, SPEECH_BLOCK, rng)),
        "music": _segment(music, {0: (0, 0), **_block_starts(music, MUSIC_BLOCK, rng)}),
        "square": _segment(square, {0: (0, 0)}),
    }


def _threshold_segment() -> dict[str, np.ndarray]:
    """Differences at and just below every decision threshold, for every index and sign."""
    thresholds = magnitude_thresholds().astype(np.int64)  # (89, 7)
    index = np.repeat(np.arange(MAX_INDEX + 1), 7 * 4)
    magnitude = (np.repeat(thresholds, 4, axis=1) - np.tile([1, 0, 1, 0], 7)).reshape(-1)
    sign = np.tile([1, 1, -1, -1], (MAX_INDEX + 1) * 7)
    extremes = [(32767, -32768), (-32768, 32767), (0, 0), (-32768, -32768), (32767, 32767)]
    edge_index = np.repeat([0, 1, 44, 87, 88], len(extremes))
    edge_x, edge_p = np.array(extremes * 5).T
    difference = sign * magnitude
    predictor = np.clip(-(difference // 2), -32768, 32767)
    return _loaded(
        np.concatenate([predictor + difference, edge_x]),
        np.concatenate([predictor, edge_p]),
        np.concatenate([index, edge_index]),
    )


def _every_code_segment() -> dict[str, np.ndarray]:
    """Every (index, code) pair from each of :data:`EDGE_PREDICTORS`."""
    pairs = (MAX_INDEX + 1) * 16
    code = np.tile(np.arange(16), (MAX_INDEX + 1) * len(EDGE_PREDICTORS))
    index = np.tile(np.repeat(np.arange(MAX_INDEX + 1), 16), len(EDGE_PREDICTORS))
    predictor = np.repeat(EDGE_PREDICTORS, pairs)
    return _loaded(code, predictor, index)


def encoder_segments(seed: int = SEED) -> dict[str, dict[str, np.ndarray]]:
    """The encoder's default vectors as named segments (see the module docstring)."""
    rng = np.random.default_rng(seed)
    segments = _signal_segments(rng)
    segments["thresholds"] = _threshold_segment()
    segments["random"] = _random(rng, -32768, 32767)
    return segments


def decoder_segments(seed: int = SEED) -> dict[str, dict[str, np.ndarray]]:
    """The decoder's default vectors: the golden encoder's codes of the signals, then edges."""
    rng = np.random.default_rng(seed)
    segments = {}
    for name, seg in _signal_segments(rng).items():
        segments[name] = dict(seg, i=reference("encoder", seg)["o"])
    segments["every_code"] = _every_code_segment()
    segments["random"] = _random(rng, 0, 15)
    return segments


def concat(segments: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One input dict from named segments, in order."""
    return {key: np.concatenate([np.asarray(seg[key], dtype=np.int64) for seg in segments.values()]) for key in KEYS}


def datapath(block: str, flavor: str = "standard", **params: Any) -> ImaAdpcmEncoder | ImaAdpcmDecoder:
    """The component for ``block`` ("encoder" or "decoder"); ``flavor`` picks the decoder.

    The encoder is the same for both flavors (the plugin's encoder always tracks the
    standard reconstruction).  The datapath has no hardware-only options.
    """
    if block not in ("encoder", "decoder"):
        raise ParameterError(f"ima-adpcm: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if params:
        raise ParameterError(
            f"ima-adpcm {block}: hardware parameter {sorted(params)[0]!r} is not allowed; the datapath "
            "has no hardware-only options"
        )
    if flavor not in FLAVORS:
        raise ParameterError(
            f"ima-adpcm {block}: flavor={flavor!r} is not allowed; expected one of "
            + ", ".join(repr(f) for f in FLAVORS)
        )
    return ImaAdpcmEncoder(STEP) if block == "encoder" else ImaAdpcmDecoder(STEP, flavor)


def golden(block: str, inputs: Mapping[str, np.ndarray], flavor: str = "standard") -> Golden:
    """:func:`reference` with the coverage counters of the module docstring."""
    outputs = reference(block, inputs, flavor)
    index, predictor = outputs["index"], outputs["predictor"]
    return Golden(outputs, {
        "index_max": int(np.count_nonzero(index == MAX_INDEX)),
        "index_min": int(np.count_nonzero(index == 0)),
        "rail_high": int(np.count_nonzero(predictor == 32767)),
        "rail_low": int(np.count_nonzero(predictor == -32768)),
        "loads": int(np.count_nonzero(np.asarray(inputs["load"]))),
    })


def default_inputs(block: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """All default segments of ``block`` ("encoder" or "decoder") concatenated."""
    if block == "encoder":
        return concat(encoder_segments(seed))
    if block == "decoder":
        return concat(decoder_segments(seed))
    raise ParameterError(f"ima-adpcm: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")


def reference(block: str, inputs: Mapping[str, np.ndarray], flavor: str = "standard") -> dict[str, np.ndarray]:
    """Golden ``"o"``, ``"predictor"`` and ``"index"`` after every element of ``inputs``.

    The state starts at (0, 0) (the reset) and is replaced by (``load_predictor``,
    ``load_index``) before every element whose ``load`` is set (those values must be a valid
    state: InputError otherwise).  The encoder's predictor is the standard reconstruction
    of its codes; the decoder reconstructs with ``flavor``.  Runs between loads go through
    the plugin's stream codec; a loaded element followed by another load is one step of
    the same codec, evaluated for all such elements at once from its tables.
    """
    if block not in ("encoder", "decoder"):
        raise ParameterError(f"ima-adpcm: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if flavor not in FLAVORS:
        raise ParameterError(f"ima-adpcm: flavor {flavor!r} is not allowed; expected one of {FLAVORS}")
    values, load, load_p, load_i = (np.asarray(inputs[key], dtype=np.int64) for key in KEYS)
    n = values.size
    out = np.empty(n, dtype=np.int64)
    predictor = np.empty(n, dtype=np.int64)
    index = np.empty(n, dtype=np.int64)
    starts = np.unique(np.concatenate([[0], np.flatnonzero(load)]))
    stops = np.append(starts[1:], n)
    single = load[starts].astype(bool) & (stops - starts == 1)
    steps = starts[single]
    loaded = np.flatnonzero(load)
    bad = loaded[(load_p[loaded] < -32768) | (load_p[loaded] > 32767) | (load_i[loaded] < 0) | (load_i[loaded] > MAX_INDEX)]
    if bad.size:
        check_state(int(load_p[bad[0]]), int(load_i[bad[0]]), f"ima-adpcm {block}: load at element {bad[0]}")
    if steps.size:
        codes, predictor[steps], index[steps] = _one_step(block, values[steps], load_p[steps], load_i[steps], flavor)
        out[steps] = codes if block == "encoder" else predictor[steps]
    for start, stop in zip(starts[~single], stops[~single]):
        if load[start]:
            state = ImaState(int(load_p[start]), int(load_i[start]))
        else:
            state = ImaState(int(predictor[start - 1]), int(index[start - 1])) if start else ImaState()
        part = values[start:stop]
        if block == "encoder":
            codes, _ = encode_stream(part, state)
            out[start:stop] = codes
            predictor[start:stop], _ = decode_stream(codes, state, "standard")
        else:
            codes = part.astype(np.uint8)
            out[start:stop] = predictor[start:stop] = decode_stream(codes, state, flavor)[0]
        adjust = INDEX_ADJUST[codes.astype(np.intp)][None, :]
        index[start:stop] = clamp_add_scan(adjust, [state.index], 0, MAX_INDEX, limit=8)[0]
    return {"o": out, "predictor": predictor, "index": index}


def _one_step(block: str, values: np.ndarray, p: np.ndarray, i: np.ndarray, flavor: str):
    """One codec step from each state (``p``, ``i``): the stream codec's per-sample rule.

    Encoder: the magnitude is the number of decision thresholds of index ``i`` at or below
    ``|x - p|`` (:func:`~inwhale_hw.plugins.adpcm.tables.magnitude_thresholds`, the
    encoder's successive approximation); then, as in both stream codecs,
    ``p' = clamp(p + SIGNED_DIFF[16 i + code])`` and ``i' = NEXT_INDEX[16 i + code]``.
    """
    if block == "encoder":
        d = values - p
        magnitude = (magnitude_thresholds()[i] <= np.abs(d)[:, None]).sum(axis=1)
        codes = magnitude | np.where(d < 0, 8, 0)
        table = SIGNED_DIFF
    else:
        codes = values
        table = SIGNED_DIFF_FFMPEG if flavor == "ffmpeg" else SIGNED_DIFF
    key = i * 16 + codes
    return codes, np.clip(p + table[key], -32768, 32767), NEXT_INDEX[key].astype(np.int64)
