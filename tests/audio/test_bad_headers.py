"""Each class of bad input found by fuzzing gets one typed error (issue 11, section 2)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw.audio import coded
from inwhale_hw.audio.limits import MAX_CHANNELS, MAX_RATE, MIN_RATE
from inwhale_hw.audio.pcm import Audio
from inwhale_hw.audio.stream import read_audio
from inwhale_hw.audio.wav import build_wav
from inwhale_hw.cli import cli
from inwhale_hw.errors import AudioFormatError, ParameterError
from inwhale_hw.fixed import shift_left


def _pcm_wav(path, rate=8000, frames=800):
    sf.write(str(path), (np.sin(np.arange(frames) * 0.1) * 8000).astype(np.int16), 8000, subtype="PCM_16")
    blob = bytearray(path.read_bytes())
    struct.pack_into("<I", blob, 24, rate)
    path.write_bytes(bytes(blob))
    return path


def _iwc(codec="dpcm", **changes) -> bytes:
    blob, _ = coded.encode_to_bytes(Audio(np.zeros((400, 1), np.int16), 8000), coded.make_codec(codec), "iwc")
    (n,) = struct.unpack_from("<I", blob, 8)
    doc = json.loads(blob[12 : 12 + n])
    for key, value in changes.items():
        if key.startswith("param_"):
            doc["params"][key[6:]] = value
        else:
            doc[key] = value
    text = json.dumps(doc).encode()
    return blob[:8] + struct.pack("<I", len(text)) + text + blob[12 + n :]


@pytest.mark.parametrize("rate", [1, 999, MAX_RATE + 1, 2**31, 2**32 - 1])
def test_one_rate_rule_for_pcm_wav_coded_wav_and_iwc(tmp_path, rate):
    expected = f"header sample rate {rate} Hz is not supported; allowed: {MIN_RATE} to {MAX_RATE} Hz"
    with pytest.raises(AudioFormatError, match=expected):
        read_audio(_pcm_wav(tmp_path / "a.wav", rate))
    g711 = build_wav(7, 1, rate, 1, 8, bytes(100), 100)
    with pytest.raises(AudioFormatError, match=expected):
        coded.decode_blob(g711, "a.wav")
    if rate < 2**31:
        with pytest.raises(AudioFormatError, match=expected):
            coded.decode_blob(_iwc(rate=rate), "a.iwc")


@pytest.mark.parametrize("channels", [0, MAX_CHANNELS + 1, 2**20, 2**27, 10**18])
def test_iwc_channels_refused_before_allocating(channels):
    for codec in ("dpcm", "cvsd", "ima-adpcm"):
        with pytest.raises(AudioFormatError, match=f"channel count {channels} is not supported; allowed: 1 to 256"):
            coded.decode_blob(_iwc(codec, channels=channels), "a.iwc")


def test_iwc_frames_checked_against_the_real_payload():
    with pytest.raises(AudioFormatError, match=r"header declares 1000000000 frames .* only \d+ payload bytes"):
        coded.decode_blob(_iwc(frames=10**9), "a.iwc")


@pytest.mark.parametrize("value", [None, [4], {}, "x", 1.5])
def test_iwc_and_api_params_of_the_wrong_type(value):
    with pytest.raises(ParameterError, match=r"parameter J="):
        coded.decode_blob(_iwc("cvsd", param_J=value), "a.iwc")
    with pytest.raises(ParameterError, match="parameter bits="):
        coded.make_codec("dpcm", {"bits": value})


def test_unpack_codes_and_shift_left_arguments_are_typed():
    for name in coded.audio_codecs():
        with pytest.raises(ParameterError, match=r"frames=1\.5 is not allowed"):
            coded.make_codec(name).unpack_codes(b"\0" * 64, 1.5, 1)
        with pytest.raises(ParameterError, match=r"channels=0 is not allowed"):
            coded.make_codec(name).unpack_codes(b"\0" * 64, 4, 0)
    with pytest.raises(ParameterError, match="format 16 is not allowed; expected a QFormat"):
        shift_left(np.array([1, 2]), 3, 16)


def test_truncated_input_wav_warns_with_frames_read(tmp_path):
    path = _pcm_wav(tmp_path / "t.wav")
    blob = bytearray(path.read_bytes())
    struct.pack_into("<I", blob, 40, 4 * 800)  # data chunk claims twice the bytes present
    path.write_bytes(bytes(blob))
    result = CliRunner().invoke(cli, ["encode", str(path), "-c", "mulaw", "-o", str(tmp_path / "o.wav")])
    assert result.exit_code == 0
    assert f"warning: {path}: data chunk is truncated (1600 bytes missing); read the 800 complete frames present" in result.output


@pytest.mark.parametrize("tag, name", [(0x0020, "Yamaha ADPCM"), (0x0022, "unregistered")])  # 0x0045 is now the g726 codec
def test_undecodable_coded_wav_is_called_unsupported(tmp_path, tag, name):
    path = tmp_path / "c.wav"
    path.write_bytes(build_wav(tag, 1, 8000, 1, 4, bytes(400), 800))
    for args in (["encode", str(path), "-c", "mulaw", "-o", str(tmp_path / "o.wav")], ["decode", str(path), "-o", str(tmp_path / "o.wav")]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        line = result.output.strip()
        assert f"format tag 0x{tag:04X} ({name})" in line and "is not supported" in line and "0x0011 ima-adpcm" in line
        assert "decode it first" not in line and len(line.splitlines()) == 1


def test_raw_channels_follow_the_same_limit():
    with pytest.raises(ParameterError, match=r"raw channel count 257 is not allowed; expected an integer in \[1, 256\]"):
        coded.decode_blob(bytes(514), "a.ul", raw_channels=257)
    assert coded.decode_blob(bytes(512), "a.ul", raw_channels=256).audio.channels == 256

