"""Peak memory of the audio commands on long inputs (issue 11: audio at real scale).

    python benchmarks/bench_memory.py [--minutes 60] [--listen-minutes 10] [--codecs mulaw,...]
                                      [--compare-seconds 60] [--workdir DIR]

Generates, block by block into a temporary directory, ``--minutes`` of 44.1 kHz stereo int16
(seeded tones plus noise; 60 min = 635 MB) and runs, each as its own process
(``python -m inwhale_hw ... --quiet``):

* ``encode`` and ``decode`` for every codec of ``--codecs`` (default mulaw, ima-adpcm, dpcm,
  cvsd) and ``roundtrip``: goal peak RSS < 300 MB each;
* ``listen`` with every built-in codec on ``--listen-minutes`` of the same signal: goal < 600 MB.

Peak RSS is the ``ru_maxrss`` of the command's process (``resource.getrusage`` of a wrapper
that only spawns it), so it counts everything in the process: Python, NumPy, SciPy,
matplotlib, numba and its compiled kernels (cached on disk after the first run).

Wall time: the streaming path (:func:`inwhale_hw.audio.pipeline.encode_file`) against the
one-shot path it replaced (``read_audio`` + ``encode_to_bytes`` + an atomic write) in this
process on ``--compare-seconds`` of the signal, best of 3, as a ratio (goal: <= 1.10).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 44100
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
    "sys.stderr.write(r.stderr.decode()[-2000:])\n"
)
EXTENSIONS = {"mulaw": ".wav", "alaw": ".wav", "ima-adpcm": ".wav"}


def make_signal(path: Path, seconds: float, seed: int = 11) -> None:
    """Write ``seconds`` of 44.1 kHz stereo int16 to ``path`` block by block (never whole)."""
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    block = 1 << 16
    with sf.SoundFile(str(path), "w", RATE, 2, "PCM_16") as out:
        for first in range(0, total, block):
            t = (np.arange(first, min(total, first + block)) / RATE)[:, None]
            tone = 6000 * np.sin(2 * np.pi * np.array([220.0, 330.0]) * t) + 3000 * np.sin(2 * np.pi * 1250.0 * t)
            noise = rng.normal(0, 800, tone.shape)
            out.write(np.clip(tone + noise, -32768, 32767).astype(np.int16))


def peak_rss(argv: list[str]) -> tuple[float, float, str]:
    """(peak RSS in MB, wall seconds, stderr tail) of ``python -m inwhale_hw argv``."""
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "inwhale_hw", *argv],
        capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - start
    fields = run.stdout.split()
    if len(fields) != 2 or fields[1] != "0":
        raise SystemExit(f"command failed: inwhale-hw {' '.join(argv)}\n{run.stderr}")
    return int(fields[0]) / 1024.0, wall, run.stderr


def compare_wall_time(path: Path, codecs: list[str], workdir: Path) -> list[tuple[str, float, float]]:
    from inwhale_hw.audio import coded
    from inwhale_hw.audio.atomic import atomic_write_bytes
    from inwhale_hw.audio.pcm import read_audio
    from inwhale_hw.audio.pipeline import encode_file
    from inwhale_hw.audio.roundtrip import at_codec_rate
    from inwhale_hw.audio.stream import open_audio

    rows = []
    for name in codecs:
        q = coded.make_codec(name)
        ext = coded.default_extension(q)
        one_path, stream_path = workdir / f"one{ext}", workdir / f"stream{ext}"

        def one_shot() -> None:
            audio = at_codec_rate(read_audio(path), q)
            blob, _ = coded.encode_to_bytes(audio, q, coded.container_of(one_path))
            atomic_write_bytes(one_path, blob)

        def streaming() -> None:
            encode_file(open_audio(path), q, stream_path)

        one_shot()  # warm-up: numba compilation, caches
        times = {"one": [], "stream": []}
        for _ in range(3):
            for key, fn in (("one", one_shot), ("stream", streaming)):
                start = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - start)
        if one_path.read_bytes() != stream_path.read_bytes():
            raise SystemExit(f"{name}: streaming and one-shot files differ")
        rows.append((name, min(times["one"]), min(times["stream"])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--listen-minutes", type=float, default=10.0)
    parser.add_argument("--codecs", default="mulaw,ima-adpcm,dpcm,cvsd")
    parser.add_argument("--compare-seconds", type=float, default=60.0)
    parser.add_argument("--skip", default="", help="comma list of parts to skip: encode,decode,roundtrip,listen,walltime")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    codecs = [c for c in args.codecs.split(",") if c]
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        source = work / "long.wav"
        make_signal(source, args.minutes * 60)
        print(f"input: {args.minutes:g} min of 44.1 kHz stereo int16, {source.stat().st_size / 1e6:.0f} MB")
        print(f"{'command':<34} {'peak RSS MB':>12} {'wall s':>8}  goal")
        for name in codecs:
            coded_path = work / f"{name}{EXTENSIONS.get(name, '.iwc')}"
            if "encode" not in skip or "decode" not in skip:
                mb, wall, _ = peak_rss(["encode", str(source), "-c", name, "-o", str(coded_path), "--quiet"])
                print(f"{'encode ' + name:<34} {mb:12.1f} {wall:8.1f}  < 300 MB {'ok' if mb < 300 else 'OVER'}")
            if "decode" not in skip:
                mb, wall, _ = peak_rss(["decode", str(coded_path), "-o", str(work / "decoded.wav"), "--quiet"])
                print(f"{'decode ' + name:<34} {mb:12.1f} {wall:8.1f}  < 300 MB {'ok' if mb < 300 else 'OVER'}")
            coded_path.unlink(missing_ok=True)
            if "roundtrip" not in skip:
                mb, wall, _ = peak_rss(["roundtrip", str(source), "-c", name, "--out-dir", str(work / "rt"), "--quiet"])
                print(f"{'roundtrip ' + name:<34} {mb:12.1f} {wall:8.1f}  < 300 MB {'ok' if mb < 300 else 'OVER'}")
        if "listen" not in skip:
            short = work / "listen.wav"
            make_signal(short, args.listen_minutes * 60)
            mb, wall, _ = peak_rss(["listen", str(short), "-o", str(work / "page"), "--quiet"])
            label = f"listen {args.listen_minutes:g} min, every codec"
            print(f"{label:<34} {mb:12.1f} {wall:8.1f}  < 600 MB {'ok' if mb < 600 else 'OVER'}")
        if "walltime" not in skip:
            clip = work / "clip.wav"
            make_signal(clip, args.compare_seconds)
            print(f"\nwall time, encode of {args.compare_seconds:g} s in-process (best of 3): one-shot vs streaming")
            for name, one, stream in compare_wall_time(clip, codecs, work):
                verdict = "ok" if stream <= 1.10 * one else "REGRESSION"
                print(f"  {name:<12} one-shot {one:7.2f} s  streaming {stream:7.2f} s  ratio {stream / one:5.2f}  {verdict}")


if __name__ == "__main__":
    main()
