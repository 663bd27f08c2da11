"""IMA ADPCM throughput: inwhale_hw against audioop and libsndfile, in the same run.

    python benchmarks/bench_adpcm.py [--seconds S] [--repeat R]

Two signals (seeded music-like tones plus noise bursts): 44.1 kHz stereo and 8 kHz mono,
``S`` seconds each (default 10).  Times are best-of-R (default 5) with the functions
interleaved round by round, so load from other processes hits all of them alike.  Rows, in
samples/s (all channels counted) and as a ratio to the reference:

* WAV encode: ``search`` (numba kernels when installed: as configured, i.e. split over a
  thread pool for large inputs, and on one thread; and the NumPy path), ``exhaustive``
  (kernels) and ``libsndfile`` (kernels and NumPy) -- against audioop ``lin2adpcm`` on the
  same samples and libsndfile's writer (``soundfile.write(..., subtype="IMA_ADPCM")``).
  Single-threaded rows also give the ratio of CPU time (``time.thread_time``) to audioop's,
  which other processes on a shared machine disturb less than wall time;
* WAV decode (:func:`decode_payload`) -- against libsndfile's reader (``soundfile.read``);
* raw stream decode (vectorized prefix scans) -- against audioop ``adpcm2lin``;
* raw stream encode (sequential: numba kernel, and the pure-Python loop on a 1/10 slice)
  -- against audioop ``lin2adpcm``.

Every output is checked first: our WAV decode equals libsndfile's, our raw codes and
samples equal audioop's, the threaded ``search`` bytes equal the one-thread ones.  Goals
(issue 4): WAV encode (search) >= 1x audioop lin2adpcm, WAV decode >= 2x libsndfile, raw
decode >= 0.15x audioop adpcm2lin.
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from typing import Callable

import numpy as np
import soundfile as sf

from inwhale_hw.plugins.adpcm import kernels
from inwhale_hw.plugins.adpcm.lookahead import PARALLEL_MIN, search_payload
from inwhale_hw.plugins.adpcm.raw import pack_nibbles, unpack_nibbles
from inwhale_hw.plugins.adpcm.stream import decode_stream, encode_stream
from inwhale_hw.plugins.adpcm.wav import decode_payload, encode_payload

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def best_times(fns: list[Callable[[], object]], repeat: int) -> tuple[list[float], list[float]]:
    """Shortest wall time and shortest calling-thread CPU time of each function over ``repeat``
    interleaved rounds."""
    wall = [float("inf")] * len(fns)
    cpu = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            wall[i] = min(wall[i], time.perf_counter() - start)
            cpu[i] = min(cpu[i], time.thread_time() - start_cpu)
    return wall, cpu


def music(rate: int, channels: int, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = np.arange(n) / rate
    x = np.zeros((n, channels))
    for k, f in enumerate((220.0, 277.2, 329.6, 110.0, 164.8)):
        x[:, k % channels] += np.sin(2 * np.pi * f * t + k) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * (k + 1) * t))
    x += rng.normal(0, 0.05, x.shape) * (1 + 8 * np.exp(-30 * (t % 0.25)))[:, None]
    return np.round(x / np.abs(x).max() * 26000).astype(np.int16)


def row(
    label: str, samples: int, seconds: float, ref_label: str, ref_seconds: float, cpu: tuple[float, float] | None = None
) -> None:
    rate = samples / seconds / 1e6
    extra = f"   (CPU time: {cpu[0] / cpu[1]:.2f}x)" if cpu else ""
    print(f"  {label:44s} {rate:8.2f} M samples/s   {ref_seconds / seconds:6.2f}x {ref_label}{extra}")


def bench(rate: int, channels: int, seconds: float, repeat: int) -> None:
    pcm = music(rate, channels, seconds, seed=rate + channels)
    n = pcm.size
    print(f"\n{rate} Hz, {channels} channel(s), {seconds:g} s = {n} samples")
    block = io.BytesIO()
    sf.write(block, pcm, rate, format="WAV", subtype="IMA_ADPCM")
    blob = block.getvalue()
    info = sf.info(io.BytesIO(blob))
    align = 256 if rate * channels < 12000 else 512 if rate * channels < 23000 else 1024 if rate * channels < 44000 else 2048
    data = blob[blob.index(b"data") + 8 :]
    data = data[: len(data) // align * align]
    decoded, _ = decode_payload(data, channels, align)
    assert np.array_equal(decoded, sf.read(io.BytesIO(blob), dtype="int16", always_2d=True)[0][: len(decoded)])
    assert info.subtype == "IMA_ADPCM"

    mono = pcm.reshape(-1)
    frames = pcm.reshape(len(pcm), channels)
    raw_ref, _ = audioop.lin2adpcm(mono.tobytes(), 2, None)
    codes, _ = encode_stream(mono)
    assert pack_nibbles(codes)[: len(raw_ref)] == raw_ref
    raw_codes = unpack_nibbles(raw_ref)
    assert decode_stream(raw_codes)[0].tobytes() == audioop.adpcm2lin(raw_ref, 2, None)[0]
    assert search_payload(frames, align, pieces=1) == encode_payload(pcm, align, "search")

    def sf_write() -> None:
        sf.write(io.BytesIO(), pcm, rate, format="WAV", subtype="IMA_ADPCM")

    def sf_read() -> None:
        sf.read(io.BytesIO(blob), dtype="int16")

    fns = {
        "audioop lin2adpcm": lambda: audioop.lin2adpcm(mono.tobytes(), 2, None),
        "audioop adpcm2lin": lambda: audioop.adpcm2lin(raw_ref, 2, None),
        "libsndfile writer": sf_write,
        "libsndfile reader": sf_read,
        "WAV encode search (kernels)": lambda: encode_payload(pcm, align, "search"),
        "WAV encode search (kernels, 1 thread)": lambda: search_payload(frames, align, pieces=1),
        "WAV encode search (NumPy)": lambda: encode_payload(pcm, align, "search", use_kernels=False),
        "WAV encode exhaustive (kernels)": lambda: encode_payload(pcm, align, "exhaustive"),
        "WAV encode libsndfile (kernels)": lambda: encode_payload(pcm, align, "libsndfile"),
        "WAV encode libsndfile (NumPy)": lambda: encode_payload(pcm, align, "libsndfile", use_kernels=False),
        "WAV decode": lambda: decode_payload(data, channels, align),
        "raw decode (prefix scans)": lambda: decode_stream(raw_codes),
        "raw encode (kernel)": lambda: encode_stream(mono),
        "raw encode (pure Python, 1/10)": lambda: encode_stream(mono[: n // 10], use_kernels=False),
    }
    if not kernels.ENABLED:
        fns = {k: v for k, v in fns.items() if "kernel" not in k}
    wall, cpu = best_times(list(fns.values()), repeat)
    times, cpu_times = dict(zip(fns, wall)), dict(zip(fns, cpu))
    lin, unlin = times["audioop lin2adpcm"], times["audioop adpcm2lin"]
    write, read = times["libsndfile writer"], times["libsndfile reader"]
    print(f"  {'audioop lin2adpcm':44s} {n / lin / 1e6:8.2f} M samples/s")
    print(f"  {'audioop adpcm2lin':44s} {n / unlin / 1e6:8.2f} M samples/s")
    print(f"  {'libsndfile IMA writer':44s} {n / write / 1e6:8.2f} M samples/s")
    print(f"  {'libsndfile IMA reader':44s} {n / read / 1e6:8.2f} M samples/s")
    for label in fns:
        if label.startswith("WAV encode"):
            threaded = label == "WAV encode search (kernels)" and n >= PARALLEL_MIN
            one_thread = None if threaded else (cpu_times["audioop lin2adpcm"], cpu_times[label])
            row(label, n, times[label], "audioop lin2adpcm", lin, one_thread)
            row("", n, times[label], "libsndfile writer", write)
    row("WAV decode", n, times["WAV decode"], "libsndfile reader", read)
    row("raw decode (prefix scans)", n, times["raw decode (prefix scans)"], "audioop adpcm2lin", unlin)
    if "raw encode (kernel)" in times:
        row("raw encode (kernel)", n, times["raw encode (kernel)"], "audioop lin2adpcm", lin)
    row("raw encode (pure Python)", n // 10, times["raw encode (pure Python, 1/10)"], "audioop lin2adpcm", lin / 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"numba kernels: {'on' if kernels.ENABLED else 'off (not installed or INWHALE_HW_NUMBA=0)'}")
    encode_payload(music(8000, 1, 0.2, 0), 256, "search")  # compile kernels and build tables first
    encode_payload(music(8000, 1, 0.2, 0), 256, "exhaustive")
    encode_payload(music(8000, 2, 0.2, 0), 512, "libsndfile")
    encode_stream(np.zeros(10, np.int16))
    for rate, channels in ((44100, 2), (8000, 1)):
        bench(rate, channels, args.seconds, args.repeat)


if __name__ == "__main__":
    main()
