"""``decode -p``: decoder parameters for coded WAV and raw files, checked against ffmpeg."""

from __future__ import annotations

import subprocess

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw.cli import cli
from inwhale_hw.samples import sample_path


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_decode_p_flavor_ffmpeg_matches_ffmpeg(tmp_path, require_tool):
    ffmpeg = require_tool("ffmpeg")
    ima = tmp_path / "speech.wav"
    assert _run("encode", sample_path("speech_8k.wav"), "-c", "ima-adpcm", "-o", ima).exit_code == 0
    result = _run("decode", ima, "-p", "flavor=ffmpeg", "-o", tmp_path / "ours.wav")
    assert result.exit_code == 0, result.output
    done = subprocess.run([ffmpeg, "-v", "error", "-i", str(ima), "-f", "s16le", "-acodec", "pcm_s16le", "-"],
                          capture_output=True, check=True)
    theirs = np.frombuffer(done.stdout, dtype="<i2")
    ours, _ = sf.read(tmp_path / "ours.wav", dtype="int16")
    n = min(len(ours), len(theirs))
    assert n >= sf.info(str(sample_path("speech_8k.wav"))).frames
    assert np.array_equal(ours[:n], theirs[:n])
    assert _run("decode", ima, "-o", tmp_path / "standard.wav").exit_code == 0
    standard, _ = sf.read(tmp_path / "standard.wav", dtype="int16")
    assert np.count_nonzero(standard[:n] != ours[:n]) > n // 4  # the parameter really changed the decoder


def test_decode_p_is_validated_and_refused_for_iwc(tmp_path):
    ima = tmp_path / "s.wav"
    assert _run("encode", sample_path("speech_8k.wav"), "-c", "ima-adpcm", "-o", ima).exit_code == 0
    bad = _run("decode", ima, "-p", "flavor=nope", "-o", tmp_path / "o.wav")
    assert bad.exit_code == 1 and "flavor='nope'" in bad.output and not (tmp_path / "o.wav").exists()
    iwc = tmp_path / "s.iwc"
    assert _run("encode", sample_path("speech_8k.wav"), "-c", "dpcm", "-o", iwc).exit_code == 0
    refused = _run("decode", iwc, "-p", "bits=3", "-o", tmp_path / "o.wav")
    assert refused.exit_code == 1 and "stores its codec parameters" in refused.output
