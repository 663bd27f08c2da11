"""Throughput of the sequential codecs: ``delta``, ``cvsd`` and ``dpcm``.

    python benchmarks/bench_dpcm_cvsd.py [seconds_of_audio]

Input: 10 s (default) of a seeded speech-like signal, mono, at 64 kHz for ``delta`` and
``cvsd`` and at 8 kHz for ``dpcm`` and ``cvsd input_rate=8000``.  Each figure is the best of 5
runs (``time.perf_counter``), in input samples per second.

Reference measured in the same run: CPython's C ``audioop.lin2adpcm`` / ``adpcm2lin``
(IMA-ADPCM, also a sequential per-sample recursion) on the same number of samples; the ratio
column is ours / audioop.  Where ``sox`` is installed its CVSD (a different variant: 8 kHz in,
16 kbit/s, its own filters; process start-up and file I/O included) is timed as well.

The ``delta`` and ``cvsd`` encoders and adaptive recursions are per-sample loops on Python
integers (inherently sequential); the DPCM encoder, Jayant step and general predictor run as
numba kernels (:mod:`inwhale_hw.plugins.dpcm.kernels`; ``INWHALE_HW_NUMBA=0`` times the Python
loops); the ``delta`` decoder and the DPCM decoders with a fixed step and a zero or unit
predictor are vectorized.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from scipy import signal

from inwhale_hw.plugins.cvsd.model import CVSD
from inwhale_hw.plugins.delta.model import DeltaModulation
from inwhale_hw.plugins.dpcm.model import DPCM
from timing import best_times

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

REPEAT = 5


def best_of(fn, repeat: int = REPEAT) -> float:
    return best_times([fn], repeat)[0]


def speech_like(n: int, rate: int, seed: int = 0) -> np.ndarray:
    """Glottal pulses through three formant resonators, syllable envelope and hiss."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    phase = np.cumsum((150 + 40 * np.sin(2 * np.pi * 1.3 * t)) / rate)
    voiced = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
    for f, bw in ((700, 130), (1220, 70), (2600, 160)):
        r = np.exp(-np.pi * bw / rate)
        voiced = signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r], voiced)
    envelope = np.clip(np.sin(2 * np.pi * 3.1 * t + 0.4), 0, None) ** 0.7
    hiss = signal.lfilter([1, -0.9], [1], rng.normal(0, 1, n)) * (np.sin(2 * np.pi * 2.3 * t + 1) > 0.8)
    mix = voiced / np.abs(voiced).max() * envelope + 0.15 * hiss / np.abs(hiss).max()
    return np.round(mix / np.abs(mix).max() * 23000).astype(np.int16)


def audioop_rates(x: np.ndarray) -> tuple[float, float]:
    data = x.astype("<i2").tobytes()
    coded, _ = audioop.lin2adpcm(data, 2, None)
    enc = best_of(lambda: audioop.lin2adpcm(data, 2, None))
    dec = best_of(lambda: audioop.adpcm2lin(coded, 2, None))
    return len(x) / enc, len(x) / dec


def sox_cvsd_rates(x8: np.ndarray) -> tuple[float, float] | None:
    sox = shutil.which("sox")
    if sox is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        raw, coded, back = Path(tmp, "in.raw"), Path(tmp, "out.cvsd"), Path(tmp, "back.raw")
        raw.write_bytes(x8.astype("<i2").tobytes())
        encode = [sox, "-D", "-t", "s16", "-r", "8000", "-c", "1", str(raw), "-t", "cvsd", "-r", "8000", str(coded)]
        decode = [sox, "-D", "-t", "cvsd", "-r", "8000", "-c", "1", str(coded), "-t", "s16", str(back)]
        subprocess.run(encode, check=True, capture_output=True)
        enc = best_of(lambda: subprocess.run(encode, check=True, capture_output=True), 3)
        dec = best_of(lambda: subprocess.run(decode, check=True, capture_output=True), 3)
    return len(x8) / enc, len(x8) / dec


def measure(label: str, q, x: np.ndarray, ref: tuple[float, float], rows: list) -> None:
    codes = q.encode(x)
    enc = len(x) / best_of(lambda: q.encode(x))
    dec = len(x) / best_of(lambda: q.decode(codes))
    rows.append((f"{label} encode", enc, enc / ref[0]))
    rows.append((f"{label} decode", dec, dec / ref[1]))


def main(seconds: float) -> None:
    x64 = speech_like(int(64000 * seconds), 64000)
    x8 = speech_like(int(8000 * seconds), 8000)
    ref64, ref8 = audioop_rates(x64), audioop_rates(x8)
    rows: list[tuple[str, float, float]] = []
    measure("delta step=512 (64 kHz)", DeltaModulation(), x64, ref64, rows)
    rail = np.where((np.arange(len(x64)) // 64) % 2 == 0, 32767, -32768).astype(np.int16)
    codes = DeltaModulation().encode(rail)
    dec = len(rail) / best_of(lambda: DeltaModulation().decode(codes))
    rows.append(("delta decode, full-scale square (saturating scan)", dec, dec / ref64[1]))
    measure("cvsd Bluetooth (64 kHz)", CVSD(), x64, ref64, rows)
    measure("cvsd input_rate=8000", CVSD(input_rate=8000), x8, ref8, rows)
    measure("dpcm default: 4-bit Jayant, c=0.9 (8 kHz)", DPCM(), x8, ref8, rows)
    measure("dpcm 3-bit Jayant, c=1.8,-0.81", DPCM(coeffs=(1.8, -0.81), bits=3), x8, ref8, rows)
    measure("dpcm 8-bit fixed step, c=1 (scan decoder)",
            DPCM(coeffs=(1,), bits=8, adapt="none", quantizer="midtread", step=100.0), x8, ref8, rows)
    stereo = np.stack([x8, x8[::-1]], axis=1)
    q = DPCM()
    codes = q.encode(stereo)
    enc = stereo.size / best_of(lambda: q.encode(stereo))
    dec = stereo.size / best_of(lambda: q.decode(codes))
    rows.append(("dpcm default, stereo (per channel-sample)", enc, enc / ref8[0]))
    rows.append(("dpcm default, stereo decode (per channel-sample)", dec, dec / ref8[1]))

    print(f"{seconds:g} s of speech-like audio, best of {REPEAT}; reference: audioop IMA-ADPCM (C)")
    print(f"  audioop lin2adpcm {ref64[0] / 1e6:8.2f} M samples/s   adpcm2lin {ref64[1] / 1e6:8.2f} M samples/s")
    print(f"{'codec':52s} {'M samples/s':>12s} {'x audioop':>10s} {'x realtime':>11s}")
    for name, rate, ratio in rows:
        realtime = rate / (8000 if "8000" in name or "8 kHz" in name or "dpcm" in name else 64000)
        print(f"{name:52s} {rate / 1e6:12.3f} {ratio:10.4f} {realtime:11.1f}")
    sox = sox_cvsd_rates(x8)
    if sox is None:
        print("sox not installed: its CVSD was not timed")
    else:
        ours_enc = next(r for n, r, _ in rows if n == "cvsd input_rate=8000 encode")
        ours_dec = next(r for n, r, _ in rows if n == "cvsd input_rate=8000 decode")
        print(f"sox CVSD (8 kHz in, 16 kbit/s) encode {sox[0] / 1e6:.3f} M samples/s, decode {sox[1] / 1e6:.3f}; "
              f"ours (8 kHz in, 64 kbit/s) / sox: encode {ours_enc / sox[0]:.3f}x, decode {ours_dec / sox[1]:.3f}x")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
