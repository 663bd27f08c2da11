"""G.711 flavors ``sox`` and ``ffmpeg`` against the real tools over all 65536 int16 inputs.

Every int16 value is written as raw s16le and encoded by ``sox -D`` (no dither) ``-e u-law`` /
``-e a-law`` and by ``ffmpeg -c:a pcm_mulaw`` / ``pcm_alaw``; the quantizer's codes must be
identical byte for byte.  Each flavor is also shown to differ from the others (so the test
would catch a wrong flavor), and its codes decode with the shared G.711 decoder as the tools
decode them.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import UnsupportedError

ALL = np.arange(-32768, 32768, dtype=np.int16)
LAWS = ("mulaw", "alaw")


def _sox(sox: str, law: str, tmp_path) -> np.ndarray:
    src, dst = tmp_path / "all.raw", tmp_path / f"sox_{law}.raw"
    ALL.astype("<i2").tofile(src)
    encoding = "u-law" if law == "mulaw" else "a-law"
    subprocess.run(
        [sox, "-D", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", "8000", str(src),
         "-t", "raw", "-e", encoding, str(dst)],
        check=True, capture_output=True,
    )
    return np.fromfile(dst, dtype=np.uint8)


def _ffmpeg(ffmpeg: str, law: str, tmp_path) -> np.ndarray:
    src, dst = tmp_path / "all.raw", tmp_path / f"ffmpeg_{law}.raw"
    ALL.astype("<i2").tofile(src)
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", str(src),
         "-c:a", f"pcm_{law}", "-f", law, str(dst)],
        check=True, capture_output=True,
    )
    return np.fromfile(dst, dtype=np.uint8)


def _decode_with_ffmpeg(ffmpeg: str, law: str, codes: np.ndarray, tmp_path) -> np.ndarray:
    src, dst = tmp_path / "codes.raw", tmp_path / "decoded.raw"
    codes.tofile(src)
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", law, "-ar", "8000", "-ac", "1", "-i", str(src), "-f", "s16le", str(dst)],
        check=True, capture_output=True,
    )
    return np.fromfile(dst, dtype="<i2")


@pytest.mark.parametrize("law", LAWS)
def test_sox_flavor_equals_sox_without_dither_on_every_input(law, tmp_path, require_tool):
    expected = _sox(require_tool("sox"), law, tmp_path)
    assert expected.size == ALL.size
    got = get_quantizer(law, flavor="sox").encode(ALL)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{bad.size} codes differ from sox, first at input {ALL[bad[0]]}"
    for other in ("itu", "audioop", "libsndfile", "ffmpeg"):
        assert np.count_nonzero(get_quantizer(law, flavor=other).encode(ALL) != expected) > 300


@pytest.mark.parametrize("law", LAWS)
def test_ffmpeg_flavor_equals_ffmpeg_on_every_input_and_decodes_like_it(law, tmp_path, require_tool):
    ffmpeg = require_tool("ffmpeg")
    expected = _ffmpeg(ffmpeg, law, tmp_path)
    assert expected.size == ALL.size
    q = get_quantizer(law, flavor="ffmpeg")
    got = q.encode(ALL)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{bad.size} codes differ from ffmpeg, first at input {ALL[bad[0]]}"
    for other in ("itu", "audioop", "libsndfile", "sox"):
        assert np.count_nonzero(get_quantizer(law, flavor=other).encode(ALL) != expected) > 300
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(q.decode(codes), _decode_with_ffmpeg(ffmpeg, law, codes, tmp_path))


@pytest.mark.parametrize("law", LAWS)
def test_ffmpeg_flavor_is_the_nearest_reconstruction_of_the_14_bit_sample(law):
    """Independent of the table construction: exact distances to every decoded level."""
    q = get_quantizer(law, flavor="ffmpeg")
    codes = q.encode(ALL)
    levels = q.decode(np.arange(256, dtype=np.uint8)).astype(np.int64)
    x14 = (ALL.astype(np.int64) >> 2) * 4  # ffmpeg sees the 14-bit sample, in 16-bit units
    chosen = np.abs(levels[codes] - x14)
    best = np.abs(levels[None, :] - x14[:, None]).min(axis=1)
    # ffmpeg rounds its decision values to 14 bits: at most one 14-bit step from the nearest
    assert np.all(chosen - best <= 4)
    assert np.count_nonzero(chosen == best) > 0.99 * ALL.size


@pytest.mark.parametrize("law", LAWS)
def test_tool_flavors_have_software_encoders_only(law):
    for flavor in ("sox", "ffmpeg"):
        q = get_quantizer(law, flavor=flavor)
        with pytest.raises(UnsupportedError, match="flavors with hardware encoders"):
            q.datapath("encoder")
        assert q.datapath("decoder") is not None
