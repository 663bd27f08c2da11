"""G.726 files against libsndfile (through soundfile): its G721_32 WAV (tag 0x0040) and
G723_24 / G723_40 Sun .au files.  libsndfile codes with Sun's g72x, so these use the
``libsndfile`` flavor; the files it writes and ours are byte-identical, and each side
decodes the other's files to the same samples."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.plugins.g726 import decode, encode
from inwhale_hw.plugins.g726.files import LIBSNDFILE_BLOCK, read_au, read_wav, write_au, write_wav

sf = pytest.importorskip("soundfile")

CASES = [("G721_32", 32, "WAV", "wav"), ("G723_24", 24, "AU", "au"), ("G723_40", 40, "AU", "au")]


def _speech(n=9001, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 7000 * np.sin(2 * np.pi * 300 * t / 8000 + 3 * np.sin(t / 500)) * (0.2 + np.abs(np.sin(t / 1500)))
    x += rng.normal(0, 200, n)
    x[4000:4100] = np.where(np.arange(100) % 2, 32767, -32768)
    return np.clip(x, -32768, 32767).astype(np.int16)


def _padded(x):
    return np.concatenate([x, np.zeros(-x.size % LIBSNDFILE_BLOCK, np.int16)])


@pytest.mark.parametrize("subtype,rate,fmt,ext", CASES)
def test_our_files_equal_libsndfiles_and_decode_alike(tmp_path, subtype, rate, fmt, ext):
    x = _speech()
    theirs = tmp_path / f"theirs.{ext}"
    sf.write(theirs, x, 8000, subtype=subtype, format=fmt)
    codes = encode(_padded(x), rate, flavor="libsndfile")
    ours = tmp_path / f"ours.{ext}"
    if ext == "wav":
        write_wav(ours, codes, rate, x.size, tag=0x0040)
    else:
        write_au(ours, codes, rate)
    assert ours.read_bytes() == theirs.read_bytes()
    # libsndfile decodes our file to our decoder's samples (it reads the padded blocks too)
    np.testing.assert_array_equal(sf.read(ours, dtype="int16")[0], decode(codes, rate, flavor="libsndfile"))


@pytest.mark.parametrize("subtype,rate,fmt,ext", CASES)
def test_we_decode_libsndfile_files_identically(tmp_path, subtype, rate, fmt, ext):
    x = _speech(5000, rate)
    path = tmp_path / f"x.{ext}"
    sf.write(path, x, 8000, subtype=subtype, format=fmt)
    codes, file_rate = (read_wav(path)[:2] if ext == "wav" else read_au(path)[:2])
    assert file_rate == rate
    ours = decode(codes, rate, flavor="libsndfile")
    np.testing.assert_array_equal(ours, sf.read(path, dtype="int16")[0][: ours.size])


def test_libsndfile_flavor_differs_from_the_standard():
    """The flavors are not the same coder: on speech the codes part within a few samples."""
    x = _speech()
    std, lsf = encode(x, 32), encode(x, 32, flavor="libsndfile")
    assert not np.array_equal(std, lsf)
    assert np.flatnonzero(std != lsf)[0] < 100
