"""G.726 Appendix II test sequences (ITU-T STL ``g726/test_data``): every rate, law and set.

Reset sets ``r{n,v}{rate}f{m,a}.i`` (encoder from reset on nrm/ovr), decoder outputs
``.o`` (same law), ``fc`` (u-law codes, A-law out), ``fx`` (A-law codes, u-law out) and
``ri*`` (decoder on the overload code sequences ``i{rate}``).  Homing sets ``h*``: the coder
is first driven by the homing sequence (``pcm_init.*`` into the encoder must give
``i_ini_{rate}.*``; ``i_ini`` of the output law into the decoder), then the same checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from g726_support import HOMING_LENGTH, read_vector

from inwhale_hw.plugins.g726 import G726Decoder, G726Encoder

RATES = (16, 24, 32, 40)
LAW = {"m": "ulaw", "a": "alaw"}
OTHER = {"m": "a", "a": "m"}
CROSS = {"m": "c", "a": "x"}


def _encode(rate, lw, *parts):
    enc = G726Encoder(rate, LAW[lw])
    return [enc.encode(p.astype(np.uint8)).astype(np.int64) for p in parts]


def _decode(rate, lw, *parts):
    dec = G726Decoder(rate, LAW[lw])
    return [dec.decode(p).astype(np.int64) for p in parts]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lw", "ma")
@pytest.mark.parametrize("seq,src", [("n", "nrm"), ("v", "ovr")])
def test_reset_sequences(rate, lw, seq, src):
    (codes,) = _encode(rate, lw, read_vector(f"{src}.{lw}"))
    ref = read_vector(f"r{seq}{rate}f{lw}.i")
    np.testing.assert_array_equal(codes, ref)
    np.testing.assert_array_equal(_decode(rate, lw, ref)[0], read_vector(f"r{seq}{rate}f{lw}.o"))
    np.testing.assert_array_equal(_decode(rate, OTHER[lw], ref)[0], read_vector(f"r{seq}{rate}f{CROSS[lw]}.o"))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lw", "ma")
def test_overload_code_sequences(rate, lw):
    np.testing.assert_array_equal(_decode(rate, lw, read_vector(f"i{rate}"))[0], read_vector(f"ri{rate}f{lw}.o"))


def _homing(name):
    return read_vector(name)[:HOMING_LENGTH]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lw", "ma")
@pytest.mark.parametrize("seq,src", [("n", "nrm"), ("v", "ovr")])
def test_homing_sequences(rate, lw, seq, src):
    init, codes = _encode(rate, lw, _homing(f"pcm_init.{lw}"), read_vector(f"{src}.{lw}"))
    np.testing.assert_array_equal(init, _homing(f"i_ini_{rate}.{lw}"))
    ref = read_vector(f"h{seq}{rate}f{lw}.i")
    np.testing.assert_array_equal(codes, ref)
    out = _decode(rate, lw, _homing(f"i_ini_{rate}.{lw}"), ref)[1]
    np.testing.assert_array_equal(out, read_vector(f"h{seq}{rate}f{lw}.o"))
    cross = _decode(rate, OTHER[lw], _homing(f"i_ini_{rate}.{OTHER[lw]}"), ref)[1]
    expected = read_vector(f"h{seq}{rate}f{CROSS[lw]}.o")
    if (rate, lw, seq) == (16, "m", "n"):
        # hn16fc.o disagrees with the STL C code too (test_g726_stl); the other 31 cross sets match
        assert not np.array_equal(cross, expected)
        return
    np.testing.assert_array_equal(cross, expected)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lw", "ma")
def test_homing_overload_codes(rate, lw):
    out = _decode(rate, lw, _homing(f"i_ini_{rate}.{lw}"), read_vector(f"i{rate}"))[1]
    np.testing.assert_array_equal(out, read_vector(f"hi{rate}f{lw}.o"))
