"""Helpers for the MS-ADPCM tests: signals, tool encoders and decoders (libsndfile, sox, ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

__all__ = ["music", "signal", "write_pcm", "tool_encode", "tool_decode", "segmental_snr"]


def signal(n: int, channels: int = 1, seed: int = 0, rate: int = 8000) -> np.ndarray:
    """Speech-like test audio: harmonics of a wandering pitch with a syllable envelope, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 0.5
    cols = []
    for c in range(channels):
        x = 9000 * env * voiced * (1 - 0.3 * c) + rng.normal(0, 300 + 200 * c, n)
        cols.append(np.clip(x, -32768, 32767))
    out = np.stack(cols, axis=1).astype(np.int16)
    return out[:, 0].copy() if channels == 1 else out


def write_pcm(path: Path, pcm: np.ndarray, rate: int) -> None:
    import soundfile as sf

    sf.write(str(path), pcm, rate, subtype="PCM_16")


def tool_encode(tool: str, src: Path, dst: Path, block_size: int | None = None, trellis: int | None = None) -> Path:
    """MS-ADPCM WAV of ``src`` written by ``tool`` ('libsndfile', 'sox' or 'ffmpeg')."""
    if tool == "libsndfile":
        import soundfile as sf

        data, rate = sf.read(str(src), dtype="int16")
        sf.write(str(dst), data, rate, subtype="MS_ADPCM")
    elif tool == "sox":
        subprocess.run(["sox", str(src), "-e", "ms-adpcm", str(dst)], check=True, capture_output=True)
    else:
        extra = [] if block_size is None else ["-block_size", str(block_size)]
        extra += [] if trellis is None else ["-trellis", str(trellis)]
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-c:a", "adpcm_ms", *extra, str(dst)],
                       check=True, capture_output=True)
    return dst


def tool_decode(tool: str, path: Path) -> np.ndarray:
    """Interleaved int16 samples ``tool`` decodes from ``path``."""
    if tool == "libsndfile":
        import soundfile as sf

        return sf.read(str(path), dtype="int16")[0].reshape(-1)
    if tool == "sox":
        cmd = ["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-"]
    else:
        cmd = ["ffmpeg", "-loglevel", "error", "-i", str(path), "-f", "s16le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, dtype="<i2")


def segmental_snr(ref: np.ndarray, test: np.ndarray, rate: int) -> float:
    """Mean SNR over 20 ms frames above -50 dBFS, each clamped to [-10, 60] dB (issue 16 section 3)."""
    ref = ref.astype(np.float64).reshape(-1)
    test = test.astype(np.float64).reshape(-1)[: ref.size]
    size = rate // 50
    frames = ref.size // size
    r = ref[: frames * size].reshape(frames, size)
    e = r - test[: frames * size].reshape(frames, size)
    power = np.mean(r ** 2, axis=1)
    keep = power > (32768.0 ** 2) * 10 ** (-50 / 10)
    snr = 10 * np.log10(power[keep] / np.maximum(np.mean(e[keep] ** 2, axis=1), 1e-12))
    return float(np.mean(np.clip(snr, -10, 60)))


def music(n: int, rate: int = 44100, seed: int = 0) -> np.ndarray:
    """Stereo music-like test audio: a chord progression of plucked harmonic notes and noise hi-hats."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    out = np.zeros((n, 2))
    beat = rate // 4
    for start in range(0, n, beat):
        f = 110 * 2 ** (rng.integers(0, 24) / 12)
        seg = t[: min(beat * 2, n - start)]
        note = sum(np.sin(2 * np.pi * f * k * seg) / k ** 1.5 for k in range(1, 8)) * np.exp(-seg * 4)
        pan = rng.uniform(0.2, 0.8)
        out[start:start + seg.size, 0] += 6000 * note * pan
        out[start:start + seg.size, 1] += 6000 * note * (1 - pan)
        hat = rng.normal(0, 1500, min(rate // 40, n - start)) * np.exp(-np.arange(min(rate // 40, n - start)) / 200)
        out[start:start + hat.size] += hat[:, None]
    return np.clip(out, -32768, 32767).astype(np.int16)
