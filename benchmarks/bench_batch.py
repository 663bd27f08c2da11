"""Scale-out figures of ``inwhale-hw batch`` (issue: corpus evaluation on Dask).

1. **Speed-up**: 50 files of 10 s of 16 kHz speech (synthesized by espeak-ng, different voices
   and speeds, resampled to 16 kHz), codecs mulaw and ima-adpcm (default encoders): a serial
   run restricted to one thread (``INWHALE_HW_THREADS=1``, numba/BLAS threads 1) against a
   local cluster of 2 single-threaded worker processes, both as the CLI a user runs (cluster
   start-up included).  Goal >= 1.7x on this 2-core machine.
2. **Per-task overhead**: 200 tasks (100 files of 0.1 s x 2 codecs) on an already started local
   cluster of 2 workers; overhead per task = (wall time - serial compute time / 2) / 200, where
   the serial compute time is the same tasks run in one process.  Goal <= 50 ms.

Run: ``python benchmarks/bench_batch.py`` (needs espeak-ng and the cluster extra).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from inwhale_hw.audio.stream import read_audio
from inwhale_hw.scale import CodecConfig, discover, open_engine, run_batch

ONE_THREAD = {"INWHALE_HW_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
TEXT = ("The quick brown fox jumps over the lazy dog while the committee reviews the budget for the "
        "coming year and the weather turns cold over the northern hills. ")


def speech_corpus(folder: Path, count: int = 50, seconds: float = 10.0, rate: int = 16000) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("bench_batch needs espeak-ng (apt-get install espeak-ng)")
    folder.mkdir(parents=True, exist_ok=True)
    voices = ["en", "en-us", "en-gb-x-rp", "en-029", "en-gb-scotland"]
    for i in range(count):
        raw = folder / f"raw{i}.wav"
        subprocess.run([espeak, "-v", voices[i % len(voices)], "-s", str(140 + 7 * (i % 9)), "-p", str(30 + i % 40),
                        "-w", str(raw), TEXT * 3], check=True)
        audio = read_audio(raw, rate=rate)
        n = int(seconds * rate)
        x = np.resize(audio.samples[:, 0], n)  # repeat to exactly `seconds`
        sf.write(folder / f"speech{i:02d}.wav", x, rate, subtype="PCM_16")
        raw.unlink()
    return folder


def cli_time(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inwhale_hw", *args], check=True, env={**os.environ, **env},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def speedup(tmp: Path) -> None:
    corpus = speech_corpus(tmp / "speech")
    common = ["batch", str(corpus), "-c", "mulaw", "-c", "ima-adpcm", "--no-pages", "--force", "-q"]
    serial = cli_time([*common, "-o", str(tmp / "serial"), "--serial"], ONE_THREAD)
    cluster = cli_time([*common, "-o", str(tmp / "cluster"), "--workers", "2"], {})
    codec_metrics = ("snr_db", "segsnr_db", "segsnr_unclamped_db", "max_abs_error", "bitrate_bps", "payload_bitrate_bps")
    tables = [list(csv.DictReader(open(tmp / run / "results.csv"))) for run in ("serial", "cluster")]
    same = all(a[k] == b[k] for a, b in zip(*tables) for k in codec_metrics) and len(tables[0]) == len(tables[1])
    speech_cells = sum(a[k] != b[k] for a, b in zip(*tables) for k in ("pesq_nb", "pesq_wb", "stoi", "estoi"))
    with open_engine(workers=2, announce=lambda text: None) as engine:
        run_batch(discover(corpus)[:2], [CodecConfig("mulaw")], tmp / "warm3", engine)
        start = time.perf_counter()
        run_batch(discover(corpus), [CodecConfig("mulaw"), CodecConfig("ima-adpcm")], tmp / "warm-cluster", engine)
        warm = time.perf_counter() - start
    print(f"  codec metrics identical: {same}; speech-metric cells differing in the last digits (pystoi/pesq "
          f"float sums across processes): {speech_cells}; cluster already started: {warm:.1f} s -> {serial / warm:.2f}x")
    print(f"speed-up, 50 x 10 s 16 kHz speech, mulaw + ima-adpcm: serial 1 thread {serial:.1f} s, "
          f"local cluster 2 workers {cluster:.1f} s (start-up included) -> {serial / cluster:.2f}x (goal >= 1.7x)")


def overhead(tmp: Path) -> None:
    folder = tmp / "short"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(100):
        sf.write(folder / f"s{i:03d}.wav", (rng.standard_normal(1600) * 3000).astype(np.int16), 16000)
    items = discover(folder)
    configs = [CodecConfig("mulaw"), CodecConfig("ima-adpcm")]
    os.environ.update(ONE_THREAD)
    with open_engine(serial=True) as engine:
        run_batch(items[:2], configs, tmp / "warm", engine)  # imports and JIT outside the timing
        start = time.perf_counter()
        run_batch(items, configs, tmp / "o1", engine)
        serial = time.perf_counter() - start
    with open_engine(workers=2, announce=lambda text: None) as engine:
        engine.client.run(lambda: __import__("inwhale_hw.audio.roundtrip"))
        run_batch(items[:4], configs, tmp / "warm2", engine)
        start = time.perf_counter()
        run_batch(items, configs, tmp / "o2", engine)
        wall = time.perf_counter() - start
    per_task = (wall - serial / 2) / 200
    print(f"per-task overhead, 200 tasks on 0.1 s files: serial compute {serial:.2f} s, 2 workers wall {wall:.2f} s "
          f"-> {per_task * 1000:.1f} ms per task (goal <= 50 ms)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as name:
        tmp = Path(name)
        overhead(tmp)
        speedup(tmp)


if __name__ == "__main__":
    main()
