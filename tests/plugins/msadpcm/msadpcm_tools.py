"""Helpers for the MS-ADPCM tests: signals, tool encoders and decoders (libsndfile, sox, ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

__all__ = ["signal", "write_pcm", "tool_encode", "tool_decode", "segmental_snr"]


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
