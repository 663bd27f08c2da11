"""Seeded mutation fuzzing of every container reader: only typed errors, no hang, bounded memory.

Seeds are valid files of every container the tool reads: PCM WAV (libsndfile path), G.711 WAV
(mu-law and A-law), IMA-ADPCM WAV, ``.iwc`` for every audio codec, raw ``.ul``/``.al``.  Each
case mutates one seed: a header field (every fixed RIFF/fmt/fact/data field, every ``.iwc``
JSON key and codec parameter, the ``.iwc`` preamble) set to a boundary or random value, a
truncation, an extension, or random byte flips.  Each case must

* succeed or raise an :class:`~inwhale_hw.errors.InwhaleError` subclass (nothing else), through
  both the one-shot reader (``decode_blob``) and the streaming one the CLI uses (``open_coded``),
* take under 5 s (after one warm-up decode per seed, so numba compilation does not count),
* allocate at most ``64 x file size + 32 MiB`` (tracemalloc peak; a 1-bit codec decodes one
  payload byte into 8 int16 samples = 16 bytes, plus int64 temporaries).

The default run does a few hundred cases; the ``slow`` run 12,000.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.audio import coded
from inwhale_hw.audio.coded_stream import open_coded
from inwhale_hw.audio.pcm import read_audio
from inwhale_hw.errors import InwhaleError

CASE_SECONDS = 5.0
QUICK_CASES = 400
SLOW_CASES = 12_000

_U32 = (0, 1, 2, 255, 999, 1000, 8000, 65535, 65536, 768000, 768001, 2**31 - 1, 2**31, 2**32 - 1)
_U16 = (0, 1, 2, 3, 4, 7, 8, 16, 17, 255, 256, 257, 1024, 2**15, 65535)
_JSON_VALUES = (
    None, True, False, -1, 0, 1, 2, 3, 4, 7, 255, 256, 257, 999, 1000, 8000, 768000, 768001,
    2**20, 2**27, 2**31, 10**18, 10**30, 1.5, -0.0, 1e308, "x", "", "itu", [4], [], {}, {"a": 1},
)

#: (offset, struct format) of every fixed header field of a canonical WAV with a fact chunk
_WAV_FIELDS = [
    (0, "4s"), (4, "<I"), (8, "4s"), (12, "4s"), (16, "<I"), (20, "<H"), (22, "<H"), (24, "<I"),
    (28, "<I"), (32, "<H"), (34, "<H"), (36, "<H"),
]


def _pcm(frames: int, channels: int, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    return (np.sin(t * 0.03 * (1 + np.arange(channels))) * 12000 + rng.normal(0, 300, (frames, channels))).astype(np.int16)


def _seeds(tmp: Path) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of every container, small enough for thousands of cases."""
    seeds = []
    mono, stereo = _pcm(700, 1, 8000), _pcm(520, 2, 16000, 1)
    for name, audio in (("pcm_mono.wav", mono), ("pcm_stereo.wav", stereo)):
        sf.write(str(tmp / name), audio, 8000 if audio is mono else 16000, subtype="PCM_16")
        seeds.append(("pcm", name, (tmp / name).read_bytes()))
    from inwhale_hw.audio.pcm import Audio

    for codec, ext in (("mulaw", ".wav"), ("alaw", ".wav"), ("ima-adpcm", ".wav"), ("mulaw", ".ul"), ("alaw", ".al")):
        for label, audio, rate in (("m", mono, 8000), ("s", stereo, 16000)):
            if ext != ".wav" and label == "s":
                continue
            blob, _ = coded.encode_to_bytes(Audio(audio, rate), coded.make_codec(codec), coded.container_of(Path("x" + ext)))
            seeds.append(("coded", f"{codec}_{label}{ext}", blob))
    for codec in coded.audio_codecs():
        audio, rate = (mono, 8000) if codec != "cvsd" else (_pcm(300, 1, 64000), 64000)
        blob, _ = coded.encode_to_bytes(Audio(audio, rate), coded.make_codec(codec), "iwc")
        seeds.append(("coded", f"{codec}.iwc", blob))
    return seeds


def _mutate_wav(rng: np.random.Generator, blob: bytearray) -> bytearray:
    offset, fmt = _WAV_FIELDS[rng.integers(len(_WAV_FIELDS))]
    if fmt == "4s":
        value = bytes(rng.choice([b"RIFF", b"RIFX", b"RF64", b"WAVE", b"data", b"fact", b"fmt ", b"\0\0\0\0"]))
    else:
        pool = _U16 if fmt == "<H" else _U32
        value = int(pool[rng.integers(len(pool))]) if rng.random() < 0.7 else int(rng.integers(0, 2 ** (8 * struct.calcsize(fmt))))
    struct.pack_into(fmt, blob, offset, value)
    # also the sizes of the fact and data chunks, wherever they are
    for ckid in (b"fact", b"data"):
        pos = blob.find(ckid, 12)
        if pos > 0 and rng.random() < 0.25:
            struct.pack_into("<I", blob, pos + 4, int(_U32[rng.integers(len(_U32))]))
    return blob


def _mutate_iwc(rng: np.random.Generator, blob: bytearray) -> bytearray:
    (n,) = struct.unpack_from("<I", blob, 8)
    doc = json.loads(blob[12 : 12 + n])
    payload = bytes(blob[12 + n :])
    choice = rng.random()
    if choice < 0.6:
        keys = list(doc) + ["params." + k for k in doc["params"]] + ["params.unknown"]
        key = keys[rng.integers(len(keys))]
        value = _JSON_VALUES[rng.integers(len(_JSON_VALUES))]
        if key.startswith("params."):
            doc["params"][key[7:]] = value
        elif rng.random() < 0.1:
            del doc[key]
        else:
            doc[key] = value
        if key in ("frames", "channels") and rng.random() < 0.5 and isinstance(value, int):
            doc["payload_bytes"] = len(payload)  # keep the size check consistent: reach the decoder
        if key == "channels" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            doc["frames"] = int(rng.choice([0, 1, len(payload) // value]))  # tiny frame counts, huge widths
    elif choice < 0.8:
        doc["payload_bytes"] = int(_U32[rng.integers(len(_U32))])
    text = json.dumps(doc).encode()
    header_len = len(text) if rng.random() < 0.9 else int(_U32[rng.integers(len(_U32))])
    return bytearray(blob[:8] + struct.pack("<I", header_len) + text + payload)


def _mutate(rng: np.random.Generator, name: str, blob: bytes) -> bytes:
    out = bytearray(blob)
    roll = rng.random()
    if roll < 0.6:
        if name.endswith(".iwc"):
            out = _mutate_iwc(rng, out)
        elif name.endswith(".wav"):
            out = _mutate_wav(rng, out)
        else:
            out = out[: rng.integers(0, len(out) + 1)]
    elif roll < 0.75:
        out = out[: rng.integers(0, len(out) + 1)]
    elif roll < 0.85:
        out += bytes(rng.integers(0, 256, rng.integers(1, 600), dtype=np.uint8))
    else:
        for _ in range(rng.integers(1, 9)):
            pos = int(rng.integers(0, min(len(out), 96 if rng.random() < 0.7 else len(out))))
            out[pos] = int(rng.integers(0, 256))
    return bytes(out)


def _decode(kind: str, name: str, blob: bytes, tmp: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "pcm":
            path = tmp / name
            path.write_bytes(blob)
            read_audio(path)
        else:
            path = tmp / name
            path.write_bytes(blob)
            typed = []
            # both readers run on every case: the one-shot one and the streaming one the CLI uses
            for read in (lambda: coded.decode_blob(blob, name), lambda: [b for b in open_coded(path).blocks(4096)]):
                try:
                    read()
                except InwhaleError as exc:
                    typed.append(exc)
            if typed:
                raise typed[0]


def _fuzz(tmp_path: Path, cases: int, seed: int) -> dict[str, int]:
    seeds = _seeds(tmp_path)
    for kind, name, blob in seeds:  # warm-up: one-time imports and numba compilation
        _decode(kind, name, blob, tmp_path)
    rng = np.random.default_rng(seed)
    tally = {"ok": 0, "typed": 0}
    tracemalloc.start()
    try:
        for case in range(cases):
            kind, name, blob = seeds[case % len(seeds)]
            mutated = _mutate(rng, name, blob)
            tracemalloc.reset_peak()
            start = time.perf_counter()
            try:
                _decode(kind, name, mutated, tmp_path)
                tally["ok"] += 1
            except InwhaleError:
                tally["typed"] += 1
            except Exception as exc:  # noqa: BLE001 - the point of the test
                raise AssertionError(f"case {case} ({name}, seed {seed}): untyped {type(exc).__name__}: {exc}") from exc
            elapsed = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            assert elapsed < CASE_SECONDS, f"case {case} ({name}): {elapsed:.1f} s"
            bound = 64 * len(mutated) + (32 << 20)
            assert peak <= bound, f"case {case} ({name}): peak {peak} bytes > {bound} for a {len(mutated)}-byte file"
    finally:
        tracemalloc.stop()
    return tally


def test_fuzz_containers_quick(tmp_path):
    tally = _fuzz(tmp_path, QUICK_CASES, seed=20261206)
    assert tally["typed"] > QUICK_CASES // 4 and tally["ok"] > 0, tally


@pytest.mark.slow
def test_fuzz_containers_12000_cases(tmp_path):
    tally = _fuzz(tmp_path, SLOW_CASES, seed=11)
    assert tally["typed"] + tally["ok"] == SLOW_CASES and tally["typed"] > SLOW_CASES // 4, tally
