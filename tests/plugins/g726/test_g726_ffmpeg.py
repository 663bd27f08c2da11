"""G.726 against ffmpeg: ``adpcm_g726`` in WAV (tag 0x0045, big-endian packing) and raw
``adpcm_g726le`` (``-f g726le``).  ffmpeg's coder is not the standard's, so these use the
``ffmpeg`` flavor: its codes equal ffmpeg's encoder output and each side decodes the
other's files to the same samples."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from inwhale_hw.plugins.g726 import decode, encode, pack, unpack
from inwhale_hw.plugins.g726.files import read_wav, write_wav

CODE_SIZE = {16: 2, 24: 3, 32: 4, 40: 5}


def _speech(n=6001, seed=2):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 9000 * np.sin(2 * np.pi * 250 * t / 8000 + 2 * np.sin(t / 300)) * (0.1 + np.abs(np.sin(t / 1300)))
    x += rng.normal(0, 300, n)
    x[3000:3050] = np.where(np.arange(50) % 3, 32767, -32768)
    return np.clip(x, -32768, 32767).astype(np.int16)


def _ff(ffmpeg, *args, stdin=None):
    return subprocess.run([ffmpeg, "-v", "error", "-y", *args], input=stdin, capture_output=True, check=True).stdout


def _pcm_wav(path, x):
    import soundfile as sf

    sf.write(path, x, 8000, subtype="PCM_16")


@pytest.mark.parametrize("rate", list(CODE_SIZE))
def test_ffmpeg_files_match_our_ffmpeg_flavor(tmp_path, require_tool, rate):
    ffmpeg = require_tool("ffmpeg")
    x = _speech(seed=rate)
    _pcm_wav(tmp_path / "in.wav", x)
    cs = str(CODE_SIZE[rate])
    _ff(ffmpeg, "-i", str(tmp_path / "in.wav"), "-c:a", "adpcm_g726", "-code_size", cs, str(tmp_path / "be.wav"))
    _ff(ffmpeg, "-i", str(tmp_path / "in.wav"), "-c:a", "adpcm_g726le", "-code_size", cs, "-f", "g726le", str(tmp_path / "le.raw"))
    ours = encode(x, rate, flavor="ffmpeg")
    codes, file_rate, _, tag = read_wav(tmp_path / "be.wav")
    assert (file_rate, tag) == (rate, 0x0045)
    np.testing.assert_array_equal(codes, ours)
    np.testing.assert_array_equal(unpack((tmp_path / "le.raw").read_bytes(), rate, "le", x.size), ours)
    theirs = np.frombuffer(_ff(ffmpeg, "-i", str(tmp_path / "be.wav"), "-f", "s16le", "-"), "<i2")
    # ffmpeg decodes every code the data holds (it ignores fact): compare the real frames
    np.testing.assert_array_equal(decode(codes, rate, flavor="ffmpeg"), theirs[: x.size])


@pytest.mark.parametrize("rate", list(CODE_SIZE))
def test_ffmpeg_decodes_our_files_like_our_decoder(tmp_path, require_tool, rate):
    ffmpeg = require_tool("ffmpeg")
    x = _speech(seed=10 + rate)
    for flavor in ("standard", "ffmpeg"):
        codes = encode(x, rate, flavor=flavor)
        write_wav(tmp_path / "ours.wav", codes, rate, x.size, tag=0x0045)
        (tmp_path / "ours.raw").write_bytes(pack(codes, rate, "le"))
        expected = decode(codes, rate, flavor="ffmpeg")
        got = np.frombuffer(_ff(ffmpeg, "-i", str(tmp_path / "ours.wav"), "-f", "s16le", "-"), "<i2")
        np.testing.assert_array_equal(got[: x.size], expected)
        got = np.frombuffer(_ff(ffmpeg, "-f", "g726le", "-code_size", str(CODE_SIZE[rate]), "-sample_rate", "8000",
                                "-i", str(tmp_path / "ours.raw"), "-f", "s16le", "-"), "<i2")
        np.testing.assert_array_equal(got[: x.size], expected)


@pytest.mark.parametrize("rate", [16, 40])
@pytest.mark.parametrize("flavor", ["standard", "ffmpeg"])
def test_registered_codec_wav_round_trip_through_ffmpeg(tmp_path, require_tool, rate, flavor):
    """``g726`` through the coded-file layer: its WAV (tag 0x0045) decodes in ffmpeg like the
    ffmpeg flavor decodes its codes, and ffmpeg's WAV reads back through ``read_coded``."""
    from inwhale_hw.audio.coded import write_coded
    from inwhale_hw.audio.coded_read import read_coded
    from inwhale_hw.audio.pcm import Audio
    from inwhale_hw.host import get_host

    ffmpeg = require_tool("ffmpeg")
    x = _speech(4001, rate)
    q = get_host().registry.get("g726")(rate=rate, flavor=flavor)
    write_coded(tmp_path / "ours.wav", Audio(x.reshape(-1, 1), 8000), q)
    codes = encode(x, rate, flavor=flavor)
    got = np.frombuffer(_ff(ffmpeg, "-i", str(tmp_path / "ours.wav"), "-f", "s16le", "-"), "<i2")
    np.testing.assert_array_equal(got[: x.size], decode(codes, rate, flavor="ffmpeg"))
    _pcm_wav(tmp_path / "in.wav", x)
    _ff(ffmpeg, "-i", str(tmp_path / "in.wav"), "-c:a", "adpcm_g726", "-code_size", str(CODE_SIZE[rate]), str(tmp_path / "ff.wav"))
    back = read_coded(tmp_path / "ff.wav")
    ff_codes = read_wav(tmp_path / "ff.wav")[0]
    np.testing.assert_array_equal(back.audio.samples.reshape(-1), decode(ff_codes, rate, flavor="standard"))
