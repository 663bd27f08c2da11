"""ima-adpcm through the coded-file layer and the CLI: real IMA WAVs, checked with libsndfile."""

from __future__ import annotations

import json
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw import get_quantizer
from inwhale_hw.cli import cli
from inwhale_hw.plugins.adpcm.wav import read_ima_wav


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _input(path, rate, channels, n=3001):
    rng = np.random.default_rng(rate + channels)
    t = np.arange(n)[:, None]
    pcm = np.clip(np.round(8000 * np.sin(0.02 * t * np.arange(1, channels + 1)) + rng.normal(0, 700, (n, channels))), -32768, 32767)
    sf.write(path, pcm.astype(np.int16), rate, subtype="PCM_16")
    return pcm.astype(np.int16)


@pytest.mark.parametrize("channels,rate", [(1, 8000), (2, 44100)])
@pytest.mark.parametrize("encoder", ["search", "libsndfile", "exhaustive", "trellis"])
def test_encode_writes_an_ima_wav_that_libsndfile_reads(tmp_path, channels, rate, encoder):
    pcm = _input(tmp_path / "in.wav", rate, channels)
    res = run("encode", tmp_path / "in.wav", "-c", "ima-adpcm", "-p", f"method={encoder}", "-o", tmp_path / "y.wav")
    assert res.exit_code == 0, res.output
    info = sf.info(tmp_path / "y.wav")
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "IMA_ADPCM", rate, channels)
    ours = read_ima_wav(tmp_path / "y.wav")
    assert ours.pcm.shape == pcm.shape
    assert np.array_equal(sf.read(tmp_path / "y.wav", dtype="int16", always_2d=True)[0][: len(pcm)], ours.pcm)
    if encoder == "libsndfile":
        sf.write(tmp_path / "ref.wav", pcm, rate, subtype="IMA_ADPCM")
        ref = read_ima_wav(tmp_path / "ref.wav").pcm
        assert np.array_equal(ref[: len(pcm)], ours.pcm)  # same codes, so the same decode
    res = run("decode", tmp_path / "y.wav", "-o", tmp_path / "dec.wav")
    assert res.exit_code == 0, res.output
    assert np.array_equal(sf.read(tmp_path / "dec.wav", dtype="int16", always_2d=True)[0], ours.pcm)


def test_block_size_parameter(tmp_path):
    _input(tmp_path / "in.wav", 16000, 2)
    res = run("encode", tmp_path / "in.wav", "-c", "ima", "-p", "block_size=64", "-o", tmp_path / "y.wav")
    assert res.exit_code == 0, res.output
    blob = (tmp_path / "y.wav").read_bytes()
    assert struct.unpack_from("<HH", blob, 32) == (64, 4) and struct.unpack_from("<H", blob, 38)[0] == 57
    assert sf.info(tmp_path / "y.wav").subtype == "IMA_ADPCM"


def test_roundtrip_goes_through_the_wav(tmp_path):
    _input(tmp_path / "in.wav", 8000, 1)
    res = run("roundtrip", tmp_path / "in.wav", "-c", "ima-adpcm", "-p", "method=libsndfile", "--out-dir", tmp_path / "rt")
    assert res.exit_code == 0, res.output
    sf.write(tmp_path / "ref.wav", sf.read(tmp_path / "in.wav", dtype="int16")[0], 8000, subtype="IMA_ADPCM")
    expected = sf.read(tmp_path / "ref.wav", dtype="int16")[0][:3001]
    assert np.array_equal(sf.read(tmp_path / "rt" / "decoded.wav", dtype="int16")[0], expected)
    metrics = json.loads((tmp_path / "rt" / "metrics.json").read_text())
    assert metrics["metrics"]["bits_per_sample"] == 4


def test_roundtrip_with_flavor_ffmpeg_decodes_like_ffmpeg(tmp_path, require_tool):
    ffmpeg = require_tool("ffmpeg")
    _input(tmp_path / "in.wav", 8000, 2)
    args = ["-c", "ima-adpcm", "-p", "flavor=ffmpeg"]
    assert run("encode", tmp_path / "in.wav", *args, "-o", tmp_path / "y.wav").exit_code == 0
    res = run("roundtrip", tmp_path / "in.wav", *args, "--out-dir", tmp_path / "rt")
    assert res.exit_code == 0, res.output
    out = subprocess.run([ffmpeg, "-v", "error", "-i", str(tmp_path / "y.wav"), "-f", "s16le", "-"], capture_output=True, check=True)
    reference = np.frombuffer(out.stdout, dtype="<i2").reshape(-1, 2)[:3001]
    assert np.array_equal(sf.read(tmp_path / "rt" / "decoded.wav", dtype="int16")[0], reference)


@pytest.mark.parametrize(
    "params,message",
    [
        (["-p", "block_size=12"], "block align 12 is not allowed for 2 channel"),
        (["-p", "block_size=10"], "block_size='10' is not allowed: IMA WAV blocks are whole 4-byte words"),
        (["-p", "method=fast"], "method='fast'"),
        (["-p", "method=search", "-p", "encoder=search"], "pass only 'method'"),
        (["-p", "flavor=sox"], "flavor='sox'"),
    ],
)
def test_bad_parameters_are_one_line_errors(tmp_path, params, message):
    _input(tmp_path / "in.wav", 8000, 2)
    res = CliRunner().invoke(cli, ["encode", str(tmp_path / "in.wav"), "-c", "ima-adpcm", *params, "-o", str(tmp_path / "y.wav")])
    assert res.exit_code == 1 and message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "y.wav").exists()


def test_encoder_is_a_deprecated_alias_of_method(tmp_path):
    _input(tmp_path / "in.wav", 8000, 1)
    with pytest.warns(DeprecationWarning, match="'encoder' is deprecated.*use 'method'"):
        q = get_quantizer("ima-adpcm", encoder="libsndfile")
    assert q.method == "libsndfile" and q.params["method"] == "libsndfile" and "encoder" not in q.params
    assert callable(q.encoder)  # the streaming method is no longer hidden by a parameter
    with pytest.warns(DeprecationWarning):
        res = run("encode", tmp_path / "in.wav", "-c", "ima-adpcm", "-p", "encoder=libsndfile", "-o", tmp_path / "old.wav")
    assert res.exit_code == 0, res.output
    res = run("encode", tmp_path / "in.wav", "-c", "ima-adpcm", "-p", "method=libsndfile", "-o", tmp_path / "new.wav")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "old.wav").read_bytes() == (tmp_path / "new.wav").read_bytes()
