"""IMA ADPCM WAV interoperability with sox and ffmpeg (and libsndfile as the reference decoder)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from ima_files import build_ima_wav, read_ima_wav, write_ima_wav

CASES = [(ch, rate, n) for ch in (1, 2) for rate in (8000, 44100) for n in (1001, 3333)]


def _pcm(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = 11000 * np.sin(0.031 * t * np.arange(1, channels + 1)) + rng.normal(0, 1500, (n, channels))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _sf_decode(path: Path) -> np.ndarray:
    return sf.read(path, dtype="int16", always_2d=True)[0]


def _ffmpeg_decode(ffmpeg: str, path: Path, channels: int) -> np.ndarray:
    out = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True, check=True)
    return np.frombuffer(out.stdout, dtype="<i2").reshape(-1, channels)


def _sox_decode(sox: str, path: Path, channels: int) -> np.ndarray:
    out = subprocess.run(
        [sox, str(path), "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"], capture_output=True, check=True
    )
    return np.frombuffer(out.stdout, dtype="<i2").reshape(-1, channels)


def _write_pcm(tmp_path: Path, pcm: np.ndarray, rate: int) -> Path:
    path = tmp_path / "in.wav"
    sf.write(path, pcm, rate, subtype="PCM_16")
    return path


@pytest.mark.parametrize("channels,rate,n", CASES)
def test_sox_files_decode_like_libsndfile(require_tool, tmp_path, channels, rate, n):
    sox = require_tool("sox")
    src = _write_pcm(tmp_path, _pcm(n, channels, n), rate)
    coded = tmp_path / "sox.wav"
    subprocess.run([sox, "-D", str(src), "-e", "ima-adpcm", str(coded)], check=True)
    ours = read_ima_wav(coded)
    assert len(ours.pcm) == n  # sox writes the exact frame count in fact
    assert np.array_equal(ours.pcm, _sf_decode(coded)[:n])
    assert np.array_equal(ours.pcm, _sox_decode(sox, coded, channels)[:n])


@pytest.mark.parametrize("channels,rate,n", CASES)
def test_ffmpeg_files_decode_like_libsndfile_and_flavor_ffmpeg_like_ffmpeg(require_tool, tmp_path, channels, rate, n):
    ffmpeg = require_tool("ffmpeg")
    src = _write_pcm(tmp_path, _pcm(n, channels, n + 5), rate)
    coded = tmp_path / "ff.wav"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(src), "-c:a", "adpcm_ima_wav", str(coded)], check=True)
    standard = read_ima_wav(coded)
    assert len(standard.pcm) >= n
    assert np.array_equal(standard.pcm, _sf_decode(coded)[: len(standard.pcm)])
    flavored = read_ima_wav(coded, flavor="ffmpeg")
    reference = _ffmpeg_decode(ffmpeg, coded, channels)
    assert np.array_equal(flavored.pcm, reference[: len(flavored.pcm)])
    assert np.count_nonzero(flavored.pcm != standard.pcm) > len(standard.pcm) // 4  # the flavors differ


@pytest.mark.parametrize("encoder", ["search", "libsndfile", "exhaustive", "trellis"])
@pytest.mark.parametrize("channels,rate,n", CASES)
def test_sox_and_ffmpeg_accept_ours(require_tool, tmp_path, encoder, channels, rate, n):
    sox, ffmpeg = require_tool("sox"), require_tool("ffmpeg")
    path = write_ima_wav(tmp_path / "ours.wav", _pcm(n, channels, 2 * n), rate, encoder=encoder)
    ours = read_ima_wav(path)
    assert np.array_equal(_sox_decode(sox, path, channels)[:n], ours.pcm)
    assert np.array_equal(_ffmpeg_decode(ffmpeg, path, channels)[:n], read_ima_wav(path, flavor="ffmpeg").pcm)


def _snr(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x.astype(np.float64), y.astype(np.float64)
    return float(10 * np.log10(np.sum(x * x) / np.sum((x - y) ** 2)))


def _speech(espeak: str, tmp_path: Path, rate: int) -> np.ndarray:
    path = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "en-us", "-w", str(path), "Seven silver swans swam silently seaward."], check=True)
    x, source_rate = sf.read(path, dtype="float64")
    y = resample_poly(x, rate, source_rate) if rate != source_rate else x
    start = int(np.argmax(np.abs(y) > 0.1))  # skip the leading silence
    return np.clip(np.round(y[start : start + rate // 2] * 32767), -32768, 32767).astype(np.int16)[:, None]


def _music(rate: int) -> np.ndarray:
    t = np.arange(rate // 2) / rate
    rng = np.random.default_rng(1)
    left = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220, 277.2, 329.6) for k in range(1, 6))
    right = sum(np.sin(2 * np.pi * f * k * t) / k for f in (110, 164.8) for k in range(1, 6))
    x = np.stack([left, right], axis=1) * np.exp(-3 * t)[:, None]
    x += rng.normal(0, 0.3, x.shape) * np.exp(-60 * (t % 0.125))[:, None]  # hi-hat bursts
    return np.round(x / np.abs(x).max() * 26000).astype(np.int16)


@pytest.mark.parametrize("material,rate", [("speech", 8000), ("speech", 44100), ("music", 8000), ("music", 44100)])
def test_search_snr_is_at_least_sox(require_tool, tmp_path, material, rate):
    """Same block size as sox (256 bytes per channel); sox without dither (-D) so its codec is
    compared.  Both search modes beat sox and libsndfile's encoder; trellis beats search."""
    sox = require_tool("sox")
    pcm = _speech(require_tool("espeak-ng"), tmp_path, rate) if material == "speech" else _music(rate)
    src = _write_pcm(tmp_path, pcm, rate)
    coded = tmp_path / "sox.wav"
    subprocess.run([sox, "-D", str(src), "-e", "ima-adpcm", str(coded)], check=True)
    assert sf.info(coded).frames >= len(pcm)
    sox_snr = _snr(pcm, _sf_decode(coded)[: len(pcm)])
    snr = {}
    for encoder in ("search", "exhaustive", "libsndfile", "trellis"):
        ours = tmp_path / f"{encoder}.wav"
        ours.write_bytes(build_ima_wav(pcm, rate, 256 * pcm.shape[1], encoder=encoder))
        snr[encoder] = _snr(pcm, _sf_decode(ours)[: len(pcm)])
    assert snr["search"] >= sox_snr and snr["exhaustive"] >= sox_snr, (snr, sox_snr)
    assert snr["search"] > snr["libsndfile"] and snr["exhaustive"] > snr["libsndfile"], snr
    assert snr["trellis"] > snr["search"], snr
