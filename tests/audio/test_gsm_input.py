"""GSM 06.10 files are read as input through libsndfile (issue 16: say so, and check it):
sox writes GSM WAV (0x0031) and raw .gsm; ``read_audio`` gives sox's own decoding."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from inwhale_hw.audio.stream import read_audio


@pytest.mark.parametrize("name,args", [("g.wav", ["-e", "gsm-full-rate"]), ("g.gsm", [])])
def test_gsm_input_decodes_like_sox(tmp_path, require_tool, name, args):
    sox = require_tool("sox")
    import soundfile as sf

    t = np.arange(8000) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 300 * t) * np.sin(2 * np.pi * 2 * t)).astype(np.int16)
    src = tmp_path / "src.wav"
    sf.write(str(src), pcm, 8000, subtype="PCM_16")
    coded = tmp_path / name
    subprocess.run([sox, str(src), "-r", "8000", *args, str(coded)], check=True, capture_output=True)
    audio = read_audio(coded)
    assert audio.rate == 8000 and audio.conversion.source_subtype == "GSM610"
    theirs = np.frombuffer(subprocess.run([sox, str(coded), "-t", "raw", "-e", "signed", "-b", "16", "-"],
                                          capture_output=True, check=True).stdout, dtype="<i2")
    assert audio.frames >= theirs.size  # libsndfile decodes whole GSM frames; sox stops at ``fact``
    np.testing.assert_array_equal(audio.samples[: theirs.size, 0], theirs)
    assert np.corrcoef(theirs[:8000].astype(float), pcm[: theirs[:8000].size].astype(float))[0, 1] > 0.9
