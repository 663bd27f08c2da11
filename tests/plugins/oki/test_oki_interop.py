"""OKI / Dialogic VOX ADPCM against ffmpeg (``adpcm_ima_oki``), libsndfile (RAW + VOX_ADPCM, rate
stated) and sox (``-t vox``), on raw .vox files of random codes (which hit both rails) and of
our encoder's codes.

Where they differ: libsndfile and sox keep a 16-bit state and stop at 32767 on the positive
rail, ffmpeg (and the Dialogic 12-bit algorithm) at 2047 x 16 = 32752; the +15 offset then
persists until the negative rail.  ``flavor=standard`` equals ffmpeg, ``flavor=libsndfile``
equals libsndfile and sox; on input that never reaches the positive rail all agree.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from inwhale_hw.plugins.oki import OkiAdpcm


def _tool(tool, path, rate):
    if tool == "libsndfile":
        import soundfile as sf

        return sf.read(str(path), dtype="int16", samplerate=rate, channels=1, format="RAW", subtype="VOX_ADPCM")[0]
    if tool == "ffmpeg":
        cmd = ["ffmpeg", "-loglevel", "error", "-f", "u8", "-ar", str(rate), "-ac", "1", "-c:a", "adpcm_ima_oki",
               "-i", str(path), "-f", "s16le", "-"]
    else:
        cmd = ["sox", "-t", "vox", "-r", str(rate), str(path), "-t", "raw", "-e", "signed", "-b", "16", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, dtype="<i2")


def _speech(n, rate, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    x = 7000 * np.sin(2 * np.pi * 180 * t) * np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) + rng.normal(0, 400, n)
    return np.clip(x, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("rate", [6000, 8000])
def test_decoders_equal_the_tools(tmp_path, require_tool, rate):
    require_tool("sox")
    require_tool("ffmpeg")
    codes = np.random.default_rng(rate).integers(0, 16, 20000).astype(np.uint8)
    path = tmp_path / "r.vox"
    path.write_bytes(OkiAdpcm().pack_codes(codes))
    standard = OkiAdpcm().decode(codes)
    libsndfile = OkiAdpcm(flavor="libsndfile").decode(codes)
    assert not np.array_equal(standard, libsndfile)  # random codes reach the positive rail
    np.testing.assert_array_equal(standard, _tool("ffmpeg", path, rate))
    np.testing.assert_array_equal(libsndfile, _tool("libsndfile", path, rate))
    np.testing.assert_array_equal(libsndfile, _tool("sox", path, rate))


@pytest.mark.parametrize("flavor", ["standard", "libsndfile"])
def test_encoded_speech_decodes_the_same_everywhere(tmp_path, require_tool, flavor):
    require_tool("sox")
    require_tool("ffmpeg")
    pcm = _speech(16000, 8000)
    q = OkiAdpcm(flavor=flavor)
    codes = q.encode(pcm)
    path = tmp_path / "s.vox"
    path.write_bytes(q.pack_codes(codes))
    ours = q.decode(codes)
    for tool in ("ffmpeg", "libsndfile", "sox"):
        np.testing.assert_array_equal(_tool(tool, path, 8000), ours)
    snr = 10 * np.log10(np.sum(pcm.astype(float) ** 2) / np.sum((pcm - ours.astype(float)) ** 2))
    assert snr > 15, snr
