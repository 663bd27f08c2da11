"""Regenerate the bundled audio samples (see README.md in this folder).

    .venv/bin/python audio_samples/make_samples.py

speech_8k.wav   espeak-ng (Debian package) speaking SPEECH_TEXT, resampled 22050 -> 8000 Hz
                with inwhale_hw.audio.stream.read_audio (scipy resample_poly, round half to even)
music_44k.wav   a synthesized stereo clip (NumPy only, seed MUSIC_SEED): plucked chords, a
                bass line and noise hi-hats, peak -3 dBFS, TPDF-dithered to int16
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from inwhale_hw.audio.pcm import float_to_int16, write_pcm
from inwhale_hw.audio.stream import read_audio

HERE = Path(__file__).resolve().parent
SPEECH_TEXT = "The quick brown fox jumps over the lazy dog."
SPEECH_ARGS = ("-v", "en-us", "-s", "185")
MUSIC_RATE = 44100
MUSIC_SECONDS = 2.0
MUSIC_SEED = 20240611
DITHER_SEED = 7


def make_speech(path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        subprocess.run([espeak, *SPEECH_ARGS, "-w", str(raw), SPEECH_TEXT], check=True)
        audio = read_audio(raw, rate=8000)
    write_pcm(path, audio.samples[:, 0], audio.rate)


def _note(freq: float, start: float, length: float, t: np.ndarray, decay: float, partials: int) -> np.ndarray:
    """An additive 'plucked' tone: partial k at k*freq with amplitude 1/k and faster decay."""
    local = t - start
    on = (local >= 0) & (local < length)
    out = np.zeros_like(t)
    for k in range(1, partials + 1):
        env = np.exp(-local[on] * decay * (1 + 0.6 * (k - 1)))
        out[on] += env * np.sin(2 * np.pi * k * freq * local[on]) / k
    attack = np.clip(local[on] / 0.004, 0, 1)
    out[on] *= attack
    return out


def make_music(path: Path) -> None:
    rng = np.random.default_rng(MUSIC_SEED)
    n = int(MUSIC_RATE * MUSIC_SECONDS)
    t = np.arange(n) / MUSIC_RATE
    left = np.zeros(n)
    right = np.zeros(n)
    # four chords of 0.5 s (A minor, F major, C major, G major), notes spread across the image
    chords = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (196.0, 261.63, 329.63), (196.0, 246.94, 293.66)]
    for i, chord in enumerate(chords):
        for j, f in enumerate(chord):
            tone = _note(f * 2, i * 0.5 + 0.01 * j, 0.5, t, decay=3.0, partials=6)
            pan = 0.2 + 0.3 * j
            left += (1 - pan) * tone
            right += pan * tone
    for i, f in enumerate((55.0, 43.65, 65.41, 49.0)):
        bass = _note(f, i * 0.5, 0.5, t, decay=2.0, partials=4)
        left += 0.9 * bass
        right += 0.9 * bass
    hat = np.zeros(n)
    for k in range(16):
        start = int((k * 0.125 + 0.0625) * MUSIC_RATE)
        burst = rng.normal(0, 1, 2000) * np.exp(-np.arange(2000) / 250.0)
        hat[start : start + 2000] += np.diff(burst, prepend=0.0)  # first difference: brighter noise
    left += 0.15 * hat
    right += 0.25 * hat
    stereo = np.stack([left, right], axis=1)
    stereo *= 10 ** (-3 / 20) / np.max(np.abs(stereo))
    samples, saturated, _ = float_to_int16(stereo, dither=True, seed=DITHER_SEED)
    assert saturated == 0
    write_pcm(path, samples, MUSIC_RATE)


def main() -> None:
    make_speech(HERE / "speech_8k.wav")
    make_music(HERE / "music_44k.wav")
    for p in sorted(HERE.glob("*.wav")):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
