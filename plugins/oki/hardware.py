"""OKI ADPCM hardware: decoder wiring, golden vectors and reference (:mod:`inwhale_hw.hdl.oki_adpcm`).

Vectors (keys of the stream harness: ``"i"`` codes, ``"load"``, ``"load_predictor"``,
``"load_index"``): the golden encoder's codes of 1 s of the bundled speech at 8 kHz (a state
load every 500 samples), codes of a full-scale square wave (both rails, index 48), every (index,
code) pair from the edge states (both rails, zero, +-1) and random codes with random loads.
:func:`reference` gives ``"o"``, ``"predictor"`` and ``"index"`` after every element from the
plugin's kernels, restarted from the loaded state where ``load`` is set.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from inwhale_hw.errors import ParameterError
from inwhale_hw.hardware import Golden
from inwhale_hw.hdl.oki_adpcm import OkiAdpcmDecoder

from . import kernels
from .tables import MAX_INDEX, STEPS

__all__ = ["KEYS", "datapath", "default_inputs", "golden", "reference"]

KEYS = ("i", "load", "load_predictor", "load_index")
SEED = 1366


def _rails(flavor: str) -> tuple[int, int]:
    return (-32768, 32767) if flavor == "libsndfile" else (-2048, 2047)


def datapath(block: str, flavor: str = "standard", **params: Any) -> OkiAdpcmDecoder:
    if block != "decoder":
        raise ParameterError(f"oki-adpcm: block {block!r} is not allowed; expected 'decoder'")
    if params:
        raise ParameterError(f"oki-adpcm decoder: hardware parameter {sorted(params)[0]!r} is not allowed; none exist")
    return OkiAdpcmDecoder(STEPS, flavor)


def _segment(codes, loads: Mapping[int, tuple[int, int]]) -> dict[str, np.ndarray]:
    n = len(codes)
    load, predictor, index = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    for k, (p, i) in loads.items():
        load[k], predictor[k], index[k] = 1, p, i
    return {"i": np.asarray(codes, dtype=np.int64), "load": load, "load_predictor": predictor, "load_index": index}


def default_inputs(flavor: str = "standard", seed: int = SEED) -> dict[str, np.ndarray]:
    from inwhale_hw.plugins.adpcm.hardware import bundled_sample

    rng = np.random.default_rng(seed)
    lo, hi = _rails(flavor)
    fl = 1 if flavor == "libsndfile" else 0

    def encode(pcm):
        codes = np.empty(pcm.size, dtype=np.uint8)
        kernels.encode(np.asarray(pcm, dtype=np.int64), 0, 0, fl, codes)
        return codes

    speech = np.asarray(bundled_sample("speech_8k.wav")).reshape(-1)[:8000]
    states = lambda n: (int(rng.integers(lo, hi + 1)), int(rng.integers(0, MAX_INDEX + 1)))  # noqa: E731
    segments = [_segment(encode(speech), {k: states(k) for k in range(500, 8000, 500)})]
    square = np.where(np.arange(2000) % 100 < 50, 32767, -32768).astype(np.int16)
    segments.append(_segment(encode(square), {0: (0, 0)}))
    edges = [lo, lo + 1, -1, 0, 1, hi - 1, hi]
    pairs = [(p, i, c) for p in edges for i in range(MAX_INDEX + 1) for c in range(16)]
    segments.append({
        "i": np.array([c for _, _, c in pairs]), "load": np.ones(len(pairs), np.int64),
        "load_predictor": np.array([p for p, _, _ in pairs]), "load_index": np.array([i for _, i, _ in pairs]),
    })
    random = rng.integers(0, 16, 6000)
    segments.append(_segment(random, {k: states(k) for k in np.flatnonzero(rng.random(6000) < 0.05)}))
    return {key: np.concatenate([np.asarray(s[key], dtype=np.int64) for s in segments]) for key in KEYS}


def reference(inputs: Mapping[str, np.ndarray], flavor: str = "standard") -> dict[str, np.ndarray]:
    codes = np.asarray(inputs["i"], dtype=np.uint8)
    load = np.asarray(inputs["load"]).astype(bool)
    fl = 1 if flavor == "libsndfile" else 0
    out = np.empty(codes.size, dtype=np.int64)
    state_y = np.empty(codes.size, dtype=np.int64)
    state_i = np.empty(codes.size, dtype=np.int64)
    y, i = 0, 0
    starts = np.concatenate([[0], np.flatnonzero(load), [codes.size]])
    for a, b in zip(starts[:-1], starts[1:]):  # one kernel call per run between loads
        if a == b:
            continue
        if load[a]:
            y, i = int(inputs["load_predictor"][a]), int(inputs["load_index"][a])
        for k in range(a, b):  # per element: the state after it is observed too
            y, i = kernels.decode(codes[k:k + 1], y, i, fl, out[k:k + 1])
            state_y[k], state_i[k] = y, i
    return {"o": out, "predictor": state_y, "index": state_i}


def golden(inputs: Mapping[str, np.ndarray], flavor: str = "standard") -> Golden:
    outputs = reference(inputs, flavor)
    lo, hi = _rails(flavor)
    return Golden(outputs, {
        "index_max": int(np.count_nonzero(outputs["index"] == MAX_INDEX)),
        "index_min": int(np.count_nonzero(outputs["index"] == 0)),
        "rail_high": int(np.count_nonzero(outputs["predictor"] == hi)),
        "rail_low": int(np.count_nonzero(outputs["predictor"] == lo)),
        "loads": int(np.count_nonzero(np.asarray(inputs["load"]))),
    })
