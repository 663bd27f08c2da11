"""G.722 against the STL portability vectors and the PyPI ``G722`` package (sippy/libg722).

Vectors (``shared/itu-stl/src/g722/test_data``): ``inpsp.bin`` (16 kHz int16) encodes to
``codspw.cod`` (one code per 16-bit word, low byte) and ``codsp.cod`` (the same codes packed
two per 16-bit big-endian word); ``codspw.cod`` decodes to ``outsp1/2/3.bin`` in modes 1-3
(64/56/48 kbit/s).  The ``G722`` package takes 7-bit (56k) and 6-bit (48k) codes, i.e. our
octet shifted right by 1 or 2.

Where the package differs: its transmit QMF (spandsp-derived) does not apply LIMIT to the
sub-band signals, so input whose QMF output leaves [-16384, 16383] (full-scale square steps)
codes differently there; the STL C code agrees with us on those signals
(``test_g722_stl_c.py``), and the package's decoder agrees with ours on every code.
"""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.plugins.g722 import G722

G722_pkg = pytest.importorskip("G722", reason="the G722 package (test extra) is not installed")

MODES = {64000: 1, 56000: 2, 48000: 3}


def _vectors(stl_g722):
    data = stl_g722 / "test_data"
    pcm = np.fromfile(data / "inpsp.bin", dtype="<i2")
    codes = np.fromfile(data / "codspw.cod", dtype="<u2")
    return data, pcm, codes


def test_encoder_matches_stl_vectors(stl_g722):
    data, pcm, codes = _vectors(stl_g722)
    assert codes.max() <= 255
    ours = G722().encode(pcm)
    np.testing.assert_array_equal(ours, codes.astype(np.uint8))
    packed = np.fromfile(data / "codsp.cod", dtype=np.uint8).reshape(-1, 2)[:, ::-1].reshape(-1)
    np.testing.assert_array_equal(ours, packed)


@pytest.mark.parametrize("bitrate", sorted(MODES))
def test_decoder_matches_stl_vectors(stl_g722, bitrate):
    data, _, codes = _vectors(stl_g722)
    expected = np.fromfile(data / f"outsp{MODES[bitrate]}.bin", dtype="<i2")
    np.testing.assert_array_equal(G722(bitrate=bitrate).decode(codes.astype(np.uint8)), expected)


def _signals():
    rng = np.random.default_rng(722)
    t = np.arange(16000 * 2) / 16000
    chirp = 12000 * np.sin(2 * np.pi * (100 + 1800 * t) * t)
    loud = np.clip(rng.normal(0, 20000, t.size), -32768, 32767)  # saturates the ADPCM arithmetic
    return [chirp.astype(np.int16), loud.astype(np.int16)]


@pytest.mark.parametrize("bitrate", sorted(MODES))
def test_matches_g722_package(bitrate):
    shift = MODES[bitrate] - 1
    for pcm in _signals():
        ours = G722(bitrate=bitrate).encode(pcm)
        theirs = np.frombuffer(G722_pkg.G722(16000, 64000).encode(pcm), dtype=np.uint8)
        np.testing.assert_array_equal(ours, theirs)
        decoded = np.frombuffer(G722_pkg.G722(16000, bitrate).decode((ours >> shift).astype(np.uint8).tobytes()), dtype="<i2")
        np.testing.assert_array_equal(G722(bitrate=bitrate).decode(ours), decoded)


def test_random_codes_decode_like_g722_package():
    codes = np.random.default_rng(5).integers(0, 256, 20000).astype(np.uint8)
    for bitrate, mode in MODES.items():
        theirs = np.frombuffer(G722_pkg.G722(16000, bitrate).decode((codes >> (mode - 1)).tobytes()), dtype="<i2")
        np.testing.assert_array_equal(G722(bitrate=bitrate).decode(codes), theirs)


def _qmf_low_high(pcm):
    """The transmit QMF's sub-band outputs before LIMIT (G.722 section 3.1), in exact integers."""
    from inwhale_hw.plugins.g722.tables import QMF_COEFS

    x = np.concatenate([np.zeros(22, dtype=np.int64), pcm.astype(np.int64)])
    # delay[j] holds sample 2k+1-j for the pair k (delay[0] = second sample, delay[1] = first)
    taps = np.stack([x[23 - j: x.size - j: 2][: pcm.size // 2] for j in range(24)], axis=1)
    a = taps[:, 0::2] @ QMF_COEFS[0::2]
    b = taps[:, 1::2] @ QMF_COEFS[1::2]
    return (2 * (a + b)) >> 16, (2 * (a - b)) >> 16


def test_g722_package_differs_only_where_qmf_output_needs_limit():
    steps = np.repeat(np.random.default_rng(9).choice([-32768, 32767, 0, 1234], 400), 80).astype(np.int16)
    ours = G722().encode(steps)
    theirs = np.frombuffer(G722_pkg.G722(16000, 64000).encode(steps), dtype=np.uint8)
    first = int(np.argmax(ours != theirs))
    assert ours[first] != theirs[first]
    low, high = _qmf_low_high(steps)
    np.testing.assert_array_equal(ours[:first], theirs[:first])
    beyond = (np.abs(low[: first + 1] + 0.5) > 16384) | (np.abs(high[: first + 1] + 0.5) > 16384)
    assert beyond.any(), "the package diverged before any sub-band sample needed LIMIT"
