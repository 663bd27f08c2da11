"""G.726 streaming (any chunking = one call), plain-Python path = numba path, packings, bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.plugins.g726 import G726Decoder, G726Encoder, decode, encode, pack, unpack

RATES = (16, 24, 32, 40)


def _signal(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 9000 * np.sin(2 * np.pi * 440 * t / 8000) * (1 + 0.5 * np.sin(t / 900)) + rng.normal(0, 400, n)
    x[n // 3 : n // 3 + 200] = 32767
    return np.clip(x, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("law,flavor", [("linear", "standard"), ("ulaw", "standard"), ("alaw", "standard"),
                                        ("linear", "ffmpeg"), ("linear", "libsndfile")])
def test_any_chunking_equals_one_call(rate, law, flavor):
    if flavor == "libsndfile" and rate == 16:
        pytest.skip("libsndfile writes no 16 kbit/s G.72x")
    x = _signal(6000, rate)
    if law != "linear":
        x = (x.astype(np.int64) & 255).astype(np.uint8)
    whole = encode(x, rate, law, flavor)
    rng = np.random.default_rng(rate)
    cuts = np.sort(rng.integers(0, x.size, 12))
    enc, dec = G726Encoder(rate, law, flavor), G726Decoder(rate, law, flavor)
    pieces = [enc.encode(p) for p in np.split(x, cuts)]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    out = np.concatenate([dec.decode(p) for p in np.split(whole, cuts)])
    np.testing.assert_array_equal(out, decode(whole, rate, law, flavor))


def test_linear_round_trip_snr_grows_with_rate():
    """Tone plus noise, no overload: measured 17.2, 23.7, 28.8, 31.9 dB at 16-40 kbit/s."""
    rng = np.random.default_rng(0)
    t = np.arange(16000)
    x = (3000 * np.sin(2 * np.pi * 440 * t / 8000) * (1 + 0.5 * np.sin(t / 900)) + rng.normal(0, 300, t.size)).astype(np.int16)
    snrs = []
    for rate in RATES:
        y = decode(encode(x, rate), rate).astype(float)
        snrs.append(10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((x - y) ** 2)))
    assert snrs == sorted(snrs) and snrs[0] > 15 and snrs[-1] > 29, snrs


_SCRIPT = """
import sys, numpy as np
from inwhale_hw.plugins.g726 import kernels, encode, decode
x = np.frombuffer(sys.stdin.buffer.read(), dtype=np.int16)
out = []
for rate in (16, 24, 32, 40):
    for law, s in (("linear", x), ("ulaw", (x & 255).astype(np.uint8)), ("alaw", (x >> 8 & 255).astype(np.uint8))):
        c = encode(s, rate, law)
        out += [c.astype(np.int64), decode(c, rate, law).astype(np.int64)]
    for flavor in ("ffmpeg", "libsndfile"):
        if flavor == "libsndfile" and rate == 16:
            continue
        c = encode(x, rate, "linear", flavor)
        out += [c.astype(np.int64), decode(c, rate, "linear", flavor).astype(np.int64)]
sys.stdout.buffer.write(bytes([kernels.ENABLED]) + np.concatenate(out).astype("<i4").tobytes())
"""


def test_plain_python_path_gives_the_numba_bits():
    x = _signal(1500, 7)
    runs = {}
    for flag in ("0", "1"):
        env = dict(os.environ, INWHALE_HW_NUMBA=flag)
        runs[flag] = subprocess.run([sys.executable, "-c", _SCRIPT], input=x.tobytes(), env=env, capture_output=True, check=True).stdout
    assert runs["0"][0] == 0
    pytest.importorskip("numba")
    assert runs["1"][0] == 1
    assert runs["0"][1:] == runs["1"][1:]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("packing", ["le", "be"])
def test_packing_round_trip(rate, packing):
    bits = {16: 2, 24: 3, 32: 4, 40: 5}[rate]
    codes = np.random.default_rng(rate).integers(0, 1 << bits, 803).astype(np.uint8)
    data = pack(codes, rate, packing)
    assert len(data) == -(-codes.size * bits // 8)
    np.testing.assert_array_equal(unpack(data, rate, packing, codes.size), codes)


def test_packing_bit_order():
    """RFC 3551 4.5.4: first code in the least significant bits; AAL2: most significant."""
    assert pack([1, 2, 3, 4], 32, "le") == bytes([0x21, 0x43])
    assert pack([1, 2, 3, 4], 32, "be") == bytes([0x12, 0x34])
    # 24 kbit/s, RFC 3551 Figure 3: codes 0..7 of 3 bits fill three octets LSB first
    assert pack(list(range(8)), 24, "le") == bytes([0b10001000, 0b11000110, 0b11111010])


def test_bad_input_is_refused():
    with pytest.raises(ParameterError, match="rate"):
        G726Encoder(48)
    with pytest.raises(ParameterError, match="law"):
        G726Decoder(32, "mulaw")
    with pytest.raises(ParameterError, match="flavor"):
        G726Decoder(32, "linear", "sox")
    with pytest.raises(ParameterError, match="libsndfile"):
        G726Encoder(16, "linear", "libsndfile")
    with pytest.raises(ParameterError, match="ffmpeg"):
        G726Encoder(32, "alaw", "ffmpeg")
    with pytest.raises(InputError, match=r"\[0, 255\]"):
        encode(np.array([256]), 32, "ulaw")
    with pytest.raises(InputError, match=r"\[0, 3\]"):
        decode(np.array([4]), 16)
    with pytest.raises(InputError, match="integer"):
        encode(np.zeros(3), 32)
    with pytest.raises(InputError, match="hold"):
        unpack(b"\x00", 40, "le", 2)


def test_stereo_wav_round_trip_through_the_coded_layer(tmp_path):
    from inwhale_hw.audio.coded import write_coded
    from inwhale_hw.audio.coded_read import read_coded
    from inwhale_hw.audio.pcm import Audio
    from inwhale_hw.host import get_host

    x = np.stack([_signal(2001, 1), _signal(2001, 2)], axis=1)
    q = get_host().registry.get("g726")(rate=24)
    write_coded(tmp_path / "s.wav", Audio(x, 8000), q)
    back = read_coded(tmp_path / "s.wav")
    assert back.codec == "g726"
    expected = np.stack([decode(encode(x[:, ch], 24), 24) for ch in range(2)], axis=1)
    np.testing.assert_array_equal(back.audio.samples, expected)
