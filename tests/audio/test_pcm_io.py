"""read_audio / float_to_int16 / write_pcm against the stdlib ``wave`` module, libsndfile,
scipy and exact rational rounding (``fractions.Fraction``; Python's round() is half-to-even)."""

from __future__ import annotations

import math
import os
import wave
from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from inwhale_hw.audio import pcm
from inwhale_hw.audio.pcm import AudioSaturationWarning, float_to_int16, write_pcm
from inwhale_hw.audio.stream import read_audio
from inwhale_hw.errors import AudioFormatError, ParameterError


def _ref_int16(x: float) -> int:
    """Exact reference: round half to even of x*32768, saturated to int16."""
    v = round(Fraction(x) * 32768)
    return max(-32768, min(32767, v))


def _write_wave(path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def test_int16_wav_is_read_unchanged_with_channels(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(-32768, 32768, (777, 3)).astype(np.int16)
    _write_wave(tmp_path / "a.wav", x, 11025)
    audio = read_audio(tmp_path / "a.wav")
    assert audio.rate == 11025 and audio.samples.dtype == np.int16
    assert np.array_equal(audio.samples, x)
    assert not audio.conversion.converted


def test_float_wav_rounds_half_even_and_saturates_with_warning(tmp_path):
    ties = [k / 32768 + 0.5 / 32768 for k in range(-6, 6)]
    values = ties + [0.0, 1.0, -1.0, 1.5, -1.25, 32767.4 / 32768, 0.49999999999999994 / 32768, 1e-9, -0.7]
    x = np.array(values, dtype=np.float64)
    stereo = np.stack([x, x[::-1]], axis=1)
    sf.write(tmp_path / "f.wav", stereo, 8000, subtype="DOUBLE")
    with pytest.warns(AudioSaturationWarning, match="saturated"):
        audio = read_audio(tmp_path / "f.wav")
    expected = np.array([[_ref_int16(a), _ref_int16(b)] for a, b in stereo], dtype=np.int16)
    assert np.array_equal(audio.samples, expected)
    outside = [not -32768 <= round(Fraction(float(v)) * 32768) <= 32767 for v in stereo.reshape(-1)]
    assert sum(outside) == 6  # 1.0, 1.5, -1.25 in each channel
    assert audio.conversion.saturated == 6
    assert audio.conversion.first_saturated == divmod(outside.index(True), 2)


def test_pcm24_is_rounded_from_exact_values(tmp_path):
    rng = np.random.default_rng(2)
    v24 = rng.integers(-(1 << 23), 1 << 23, 4000)
    v24[:6] = [-(1 << 23), (1 << 23) - 1, 128, -128, 384, -384]  # extremes and exact ties
    sf.write(tmp_path / "p24.wav", (v24 << 8).astype(np.int32), 48000, subtype="PCM_24")
    with pytest.warns(AudioSaturationWarning, match="1 sample"):  # (2**23 - 1) / 256 rounds to 32768
        audio = read_audio(tmp_path / "p24.wav")
    expected = np.array([max(-32768, min(32767, round(Fraction(int(v), 256)))) for v in v24], dtype=np.int16)
    assert np.array_equal(audio.samples[:, 0], expected)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_sample_names_first_index(tmp_path, bad):
    x = np.zeros((50, 2), dtype=np.float32)
    x[17, 1] = bad
    x[30, 0] = bad
    sf.write(tmp_path / "n.wav", x, 8000, subtype="FLOAT")
    with pytest.raises(AudioFormatError, match=r"frame 17, channel 1 is (nan|inf|-inf)"):
        read_audio(tmp_path / "n.wav")


def test_bad_files_raise_audio_format_error(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioFormatError, match="empty"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "notes.txt").write_text("these are not the samples you are looking for\n" * 20)
    with pytest.raises(AudioFormatError, match="not an audio file.*readable containers: .*WAV"):
        read_audio(tmp_path / "notes.txt")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1), dtype=np.int16), 8000)
    with pytest.raises(AudioFormatError, match="no audio frames"):
        read_audio(tmp_path / "zero.wav")
    with pytest.raises(AudioFormatError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioFormatError, match="directory"):
        read_audio(tmp_path)


def test_resampling_equals_scipy_then_stated_rounding(tmp_path):
    rng = np.random.default_rng(3)
    x = (rng.normal(0, 6000, (2205, 2))).clip(-32768, 32767).astype(np.int16)
    sf.write(tmp_path / "r.wav", x, 22050, subtype="PCM_16")
    audio = read_audio(tmp_path / "r.wav", rate=8000)
    y = resample_poly(x / 32768.0, 160, 441, axis=0)
    expected = np.array([[_ref_int16(float(v)) for v in row] for row in y], dtype=np.int16)
    assert audio.rate == 8000 and audio.samples.shape == (800, 2)
    assert np.array_equal(audio.samples, expected)
    assert audio.conversion.resampled_to == 8000


def test_rate_must_be_valid(tmp_path):
    sf.write(tmp_path / "r.wav", np.zeros(100, dtype=np.int16), 8000)
    for bad in (0, -8000, 8000.5, True, 10**7):
        with pytest.raises(ParameterError, match=str(bad).replace(".", r"\.")):
            read_audio(tmp_path / "r.wav", rate=bad)


def test_tpdf_dither_is_seeded_bounded_and_unbiased():
    t = np.arange(200000)
    x = (0.3 * np.sin(2 * np.pi * t / 977.0) + 0.1 / 32768)[:, None]
    a, _, _ = float_to_int16(x, dither=True, seed=5)
    b, _, _ = float_to_int16(x, dither=True, seed=5)
    c, _, _ = float_to_int16(x, dither=True, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    err = a[:, 0] - x[:, 0] * 32768
    assert np.max(np.abs(err)) < 1.5  # |dither| < 1 LSB plus rounding <= 0.5 LSB
    assert abs(err.mean()) < 0.01
    assert abs(err.var() - 0.25) < 0.01  # TPDF variance 1/6 plus rounding 1/12


def test_write_pcm_matches_wave_module(tmp_path):
    x = np.random.default_rng(4).integers(-32768, 32768, (300, 2)).astype(np.int16)
    write_pcm(tmp_path / "o.wav", x, 16000)
    with wave.open(str(tmp_path / "o.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 16000)
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert np.array_equal(data, x)
    with pytest.raises(AudioFormatError, match=r"'\.mp3'.*allowed: \.wav"):
        write_pcm(tmp_path / "o.mp3", x, 16000)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.wav"
    target.write_bytes(b"previous content")

    def broken_write(path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"RIFF half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pcm.sf, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_pcm(target, np.zeros(10, dtype=np.int16), 8000)
    with pytest.raises(OSError):
        write_pcm(tmp_path / "new.wav", np.zeros(10, dtype=np.int16), 8000)
    assert target.read_bytes() == b"previous content"
    assert sorted(os.listdir(tmp_path)) == ["keep.wav"]


def test_written_file_has_normal_permissions(tmp_path):
    write_pcm(tmp_path / "p.wav", np.zeros(10, dtype=np.int16), 8000)
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "p.wav").stat().st_mode & 0o777 == 0o666 & ~mask
    assert math.isclose(read_audio(tmp_path / "p.wav").duration, 10 / 8000)
