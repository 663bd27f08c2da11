"""Codecs that declare ``required_rate`` get input at that rate, resampled and stated."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from click.testing import CliRunner
from scipy.signal import resample_poly

import inwhale_hw
from inwhale_hw.audio.pcm import Audio
from inwhale_hw.audio.roundtrip import run_roundtrip
from inwhale_hw.cli import cli


def _tone(rate: int, seconds: float = 0.25) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_roundtrip_resamples_to_the_codec_rate_with_resample_poly():
    x = _tone(8000)
    trip = run_roundtrip(Audio(x[:, None], 8000), inwhale_hw.get_quantizer("cvsd"))
    assert trip.original.rate == trip.decoded.rate == 64000
    expected = np.clip(np.rint(resample_poly(x / 32768.0, 8, 1) * 32768), -32768, 32767)
    assert np.array_equal(trip.original.samples[:, 0], expected.astype(np.int16))
    assert trip.original.conversion.resampled_to == 64000


def test_rate_free_codec_keeps_the_input_rate():
    x = _tone(11025)
    trip = run_roundtrip(Audio(x[:, None], 11025), inwhale_hw.get_quantizer("mulaw"))
    assert trip.original.rate == 11025 and np.array_equal(trip.original.samples[:, 0], x)


def test_encode_cli_says_it_resamples(tmp_path):
    src = tmp_path / "tone.wav"
    sf.write(src, _tone(8000), 8000, subtype="PCM_16")
    out = tmp_path / "tone.iwc"
    result = CliRunner().invoke(cli, ["encode", str(src), "-c", "cvsd", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "cvsd codes 64000 Hz input; resampling from 8000 Hz" in result.output
    decoded = tmp_path / "back.wav"
    assert CliRunner().invoke(cli, ["decode", str(out), "-o", str(decoded)]).exit_code == 0
    info = sf.info(decoded)
    assert (info.samplerate, info.frames) == (64000, 8 * 2000)
