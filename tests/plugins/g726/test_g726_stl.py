"""G.726 against the ITU-T STL C code (``g726.c`` compiled with the system cc in the test)."""

from __future__ import annotations

import numpy as np
import pytest
from g726_support import HOMING_LENGTH, build_stl, read_vector, run_stl

from inwhale_hw.plugins.g726 import decode, encode

BITS = {16: 2, 24: 3, 32: 4, 40: 5}


@pytest.fixture(scope="module")
def stl(tmp_path_factory):
    return build_stl(tmp_path_factory.mktemp("g726stl"))


def _speechlike(n, seed):
    """G.711 codes of a random AR(2) signal with bursts, silence and full-scale overload."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    e = rng.standard_normal(n) * np.repeat(rng.choice([0.0, 30, 300, 3000, 30000], n // 256 + 1), 256)[:n]
    for k in range(2, n):
        x[k] = 1.6 * x[k - 1] - 0.8 * x[k - 2] + e[k]
    return np.clip(x, -32768, 32767).astype(np.int16)


def _to_g711(pcm):
    """Any G.711 code sequence (the coder sees codes only): a bijective scramble of the PCM."""
    return (pcm.astype(np.int64) >> 8) & 255


@pytest.mark.parametrize("rate", list(BITS))
@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_encoder_and_decoder_match_stl(stl, rate, law):
    pcm = _to_g711(_speechlike(20000, rate))
    rng = np.random.default_rng(rate)
    pcm[5000:6000] = rng.integers(0, 256, 1000)
    ref_codes = run_stl(stl, "enc", law, BITS[rate], pcm)
    codes = encode(pcm.astype(np.uint8), rate, law)
    np.testing.assert_array_equal(codes, ref_codes)
    random_codes = rng.integers(0, 1 << BITS[rate], 20000)
    for c in (ref_codes, random_codes):
        np.testing.assert_array_equal(decode(c, rate, law), run_stl(stl, "dec", law, BITS[rate], c))


def test_hn16fc_vector_disagrees_with_stl_too(stl):
    """The one Appendix II file the model does not reproduce (hn16fc.o): the STL C decoder
    gives the model's output, not the file's, under either homing sequence."""
    ref = read_vector("hn16fm.i")
    for ini_law in ("a", "m"):
        words = np.concatenate([read_vector(f"i_ini_16.{ini_law}")[:HOMING_LENGTH], ref])
        stl_out = run_stl(stl, "dec", "alaw", 2, words)[HOMING_LENGTH:]
        ours = decode(words, 16, "alaw")[HOMING_LENGTH:]
        np.testing.assert_array_equal(ours, stl_out)
        assert not np.array_equal(stl_out, read_vector("hn16fc.o"))
