"""A generated corpus for the scale-out tests: short 8/16 kHz files of tones, noise and silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def make_corpus(folder: Path, count: int = 50, seconds: float = 0.25, seed: int = 0) -> Path:
    """``count`` WAV files (mono and stereo, 8 and 16 kHz) in ``folder`` and a subfolder."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        rate = 8000 if i % 3 else 16000
        n = int(seconds * rate)
        t = np.arange(n) / rate
        x = 0.4 * np.sin(2 * np.pi * rng.uniform(100, 1500) * t) * np.linspace(0, 1, n) ** rng.uniform(0.2, 3)
        x += rng.uniform(0.001, 0.2) * rng.standard_normal(n)
        x[: rng.integers(0, n // 4)] = 0.0
        data = np.stack([x, 0.5 * x[::-1]], axis=1) if i % 7 == 0 else x
        sub = folder / ("b" if i % 2 else "a")
        sub.mkdir(parents=True, exist_ok=True)
        sf.write(sub / f"clip{i:03d}.wav", np.clip(data * 32767, -32768, 32767).astype(np.int16), rate)
    (folder / "notes.txt").write_text("not audio\n")
    return folder
