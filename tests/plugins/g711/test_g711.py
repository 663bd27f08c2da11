"""G.711 µ-law and A-law plugins, checked exhaustively against independent implementations.

References: the PyPI ``g711`` package (a C port of the ITU-T G.191 STL ``g711.c``; it takes
float32 ``x / 32768`` and truncates ``x * 32768`` back to int16, exact for every int16),
CPython 3.11's ``audioop`` and libsndfile through ``soundfile`` (RAW ULAW/ALAW subtypes).
"""

from __future__ import annotations

import io
import warnings

import g711
import numpy as np
import pytest
import soundfile as sf

import inwhale_hw
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.plugins.g711.model import ALaw, MuLaw
from inwhale_hw.testing import check_quantizer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

LAWS = {"mulaw": MuLaw, "alaw": ALaw}
FLAVORS = ("itu", "audioop", "libsndfile")
SUBTYPE = {"mulaw": "ULAW", "alaw": "ALAW"}

#: every int16 value, in bit-pattern order
ALL_PCM = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)


def _g711_encode(law: str, x: np.ndarray) -> np.ndarray:
    fn = g711.encode_ulaw if law == "mulaw" else g711.encode_alaw
    return np.frombuffer(fn(x.astype(np.float32) / np.float32(32768)), dtype=np.uint8)


def _g711_decode(law: str, codes: np.ndarray) -> np.ndarray:
    fn = g711.decode_ulaw if law == "mulaw" else g711.decode_alaw
    return (fn(codes.tobytes()) * np.float32(32768)).astype(np.int16)


def _audioop_encode(law: str, x: np.ndarray) -> np.ndarray:
    fn = audioop.lin2ulaw if law == "mulaw" else audioop.lin2alaw
    return np.frombuffer(fn(x.astype("<i2").tobytes(), 2), dtype=np.uint8)


def _audioop_decode(law: str, codes: np.ndarray) -> np.ndarray:
    fn = audioop.ulaw2lin if law == "mulaw" else audioop.alaw2lin
    return np.frombuffer(fn(codes.tobytes(), 2), dtype=np.int16)


def _sndfile_encode(law: str, x: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    sf.write(buf, x, 8000, format="RAW", subtype=SUBTYPE[law])
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


def _sndfile_decode(law: str, codes: np.ndarray) -> np.ndarray:
    data, _ = sf.read(
        io.BytesIO(codes.tobytes()), dtype="int16", format="RAW", subtype=SUBTYPE[law],
        samplerate=8000, channels=1,
    )
    return data


REFERENCE_ENCODERS = {"itu": _g711_encode, "audioop": _audioop_encode, "libsndfile": _sndfile_encode}
REFERENCE_DECODERS = {"g711 (STL)": _g711_decode, "audioop": _audioop_decode, "libsndfile": _sndfile_decode}


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("law", LAWS)
def test_encoder_is_bit_exact_with_its_namesake_on_all_65536_inputs(law, flavor):
    ours = LAWS[law](flavor=flavor).encode(ALL_PCM)
    reference = REFERENCE_ENCODERS[flavor](law, ALL_PCM)
    assert ours.dtype == np.uint8 and ours.shape == (65536,)
    bad = np.flatnonzero(ours != reference)
    assert bad.size == 0, f"{bad.size} mismatches, first at x={ALL_PCM[bad[:5]]}"


@pytest.mark.parametrize(
    ("law", "flavor", "expected"),
    [("mulaw", "audioop", 508), ("mulaw", "libsndfile", 127), ("alaw", "audioop", 0), ("alaw", "libsndfile", 127)],
)
def test_flavors_differ_from_itu_on_exactly_the_stated_negative_inputs(law, flavor, expected):
    itu = LAWS[law]().encode(ALL_PCM)
    other = LAWS[law](flavor=flavor).encode(ALL_PCM)
    differ = ALL_PCM[itu != other]
    assert differ.size == expected
    assert np.all(differ < 0)
    # the reference tools themselves disagree in the same places
    ref_differ = ALL_PCM[_g711_encode(law, ALL_PCM) != REFERENCE_ENCODERS[flavor](law, ALL_PCM)]
    assert np.array_equal(differ, ref_differ)


def test_libsndfile_flavor_is_sign_symmetric():
    """Sign-magnitude truncation: -x encodes as x with the sign bit cleared (x in 1..32767)."""
    x = np.arange(1, 32768, dtype=np.int16)
    for cls in LAWS.values():
        q = cls(flavor="libsndfile")
        assert np.array_equal(q.encode(-x), q.encode(x) & 0x7F)


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("reference", REFERENCE_DECODERS)
def test_decoders_agree_with_every_reference_on_all_256_codes(law, reference):
    expected = REFERENCE_DECODERS[reference](law, ALL_CODES)
    for flavor in FLAVORS:
        ours = LAWS[law](flavor=flavor).decode(ALL_CODES)
        assert ours.dtype == np.int16
        assert np.array_equal(ours, expected), (flavor, np.flatnonzero(ours != expected)[:5])


def test_decoded_ranges_and_silence_codes():
    mu, a = MuLaw(), ALaw()
    assert mu.decode(ALL_CODES).min() == -32124 and mu.decode(ALL_CODES).max() == 32124
    assert a.decode(ALL_CODES).min() == -32256 and a.decode(ALL_CODES).max() == 32256
    # G.711: µ-law inverts all bits (silence 0xFF), A-law the even bits (silence 0xD5)
    assert mu.encode(np.array([0], np.int16))[0] == 0xFF == audioop.lin2ulaw(b"\0\0", 2)[0]
    assert a.encode(np.array([0], np.int16))[0] == 0xD5 == audioop.lin2alaw(b"\0\0", 2)[0]


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("law", LAWS)
def test_conformance(law, flavor):
    report = check_quantizer(LAWS[law], {"flavor": flavor})
    assert "bad input errors" in report.checks


def test_long_input_crosses_lookup_chunks():
    """Lengths beyond the internal chunk size (and odd, for the two-codes-at-once decoder)."""
    rng = np.random.default_rng(11)
    x = rng.integers(-32768, 32768, size=(1 << 19) + 3).astype(np.int16)
    for law in LAWS:
        q = LAWS[law](flavor="audioop")
        codes = q.encode(x)
        assert np.array_equal(codes, _audioop_encode(law, x))
        assert np.array_equal(q.decode(codes), _audioop_decode(law, codes))


@pytest.mark.parametrize("law", LAWS)
def test_layouts_and_dtypes(law):
    rng = np.random.default_rng(5)
    q = LAWS[law]()
    stereo = rng.integers(-32768, 32768, size=(1001, 2)).astype(np.int16)
    codes = q.encode(stereo)
    assert codes.shape == (1001, 2)
    for ch in range(2):
        assert np.array_equal(codes[:, ch], _g711_encode(law, stereo[:, ch]))
    assert np.array_equal(q.decode(codes)[:, 1], _g711_decode(law, codes[:, 1]))
    # a strided view, wider integer dtypes and plain lists give the same codes
    column = stereo[:, 1]
    assert np.array_equal(q.encode(column), codes[:, 1])
    assert np.array_equal(q.encode(column.astype(np.int64)), codes[:, 1])
    assert np.array_equal(q.encode(column.tolist()), codes[:, 1])
    assert np.array_equal(q.decode(codes[:, 0].astype(np.int32)), q.decode(codes[:, 0]))
    for n in (0, 1, 2, 3):
        part = codes[:n, 0].copy()
        assert np.array_equal(q.decode(part), _g711_decode(law, part))


def test_bad_values_are_typed_errors_quoting_the_value():
    with pytest.raises(ParameterError, match="'ituu'"):
        MuLaw(flavor="ituu")
    with pytest.raises(InputError, match="-32769"):
        ALaw().encode(np.array([5, -32769]))
    with pytest.raises(InputError, match="256"):
        MuLaw().decode(np.array([0, 256]))
    with pytest.raises(InputError, match="float"):
        MuLaw().encode(np.array([0.5]))


def test_registered_with_aliases():
    q = inwhale_hw.get_quantizer("ulaw", flavor="libsndfile")
    assert isinstance(q, MuLaw) and q.flavor == "libsndfile"
    assert isinstance(inwhale_hw.get_quantizer("alaw"), ALaw)
    assert {"mulaw", "alaw"} <= set(inwhale_hw.list_quantizers("audio"))
    assert MuLaw().bits_per_sample == 8 == ALaw().bits_per_sample
