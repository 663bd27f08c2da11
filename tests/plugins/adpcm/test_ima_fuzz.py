"""hypothesis fuzzing: the IMA WAV parser and every IMA decoder fail only with documented errors."""

from __future__ import annotations

import struct
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inwhale_hw.compat import audioop as compat
from inwhale_hw.errors import AudioFormatError, InputError
from inwhale_hw.plugins.adpcm.model import ImaAdpcm
from inwhale_hw.plugins.adpcm.raw import RawDecoder
from ima_files import build_ima_wav, parse_ima_wav
from inwhale_hw.plugins.adpcm.wav import decode_payload

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_VALID = [
    build_ima_wav(np.random.default_rng(s).integers(-30000, 30000, (n, ch)).astype(np.int16), rate, align)
    for s, (n, ch, rate, align) in enumerate([(700, 1, 8000, 256), (300, 2, 44100, 64), (40, 3, 16000, 24)])
]


def _check_decoded(result, where: str) -> None:
    pcm = result.pcm
    assert pcm.dtype == np.int16 and pcm.ndim == 2, where
    assert result.samples_per_block >= 9 and isinstance(result.notes, tuple)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["standard", "ffmpeg"]))
def test_random_bytes(blob, flavor):
    for candidate in (blob, b"RIFF" + blob[:4] + b"WAVE" + blob[4:]):
        try:
            _check_decoded(parse_ima_wav(candidate, flavor=flavor), "random")
        except AudioFormatError:
            pass


@FUZZ
@given(
    st.sampled_from(range(len(_VALID))),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=8),
    st.integers(0, 2500),
    st.binary(max_size=40),
)
def test_mutated_files(which, flips, cut, tail):
    blob = bytearray(_VALID[which])
    for position, value in flips:
        if position < len(blob):
            blob[position] = value
    candidate = bytes(blob[: max(cut, 12)]) + tail
    try:
        _check_decoded(parse_ima_wav(candidate), "mutated")
    except AudioFormatError:
        pass


@FUZZ
@given(
    st.sampled_from(range(len(_VALID))),
    st.lists(st.tuples(st.sampled_from([0, 2, 4, 8, 12, 14, 16, 18]), st.integers(0, 0xFFFF)), min_size=1, max_size=3),
)
def test_mutated_fmt_fields(which, fields):
    blob = bytearray(_VALID[which])
    for field, value in fields:
        struct.pack_into("<H", blob, 20 + field, value)
    try:
        _check_decoded(parse_ima_wav(bytes(blob)), "fmt")
    except AudioFormatError:
        pass


@FUZZ
@given(
    st.binary(max_size=3000),
    st.integers(1, 5),
    st.integers(0, 70000),
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    st.sampled_from(["standard", "ffmpeg"]),
)
def test_payload_decoder(data, channels, block_align, frames, flavor):
    try:
        pcm, notes = decode_payload(data, channels, block_align, frames, flavor)
    except AudioFormatError:
        return
    assert pcm.dtype == np.int16 and pcm.shape[1] == channels
    assert len(pcm) <= 2 * len(data) // channels + 1
    if not notes:
        assert frames is None or len(pcm) == frames


@FUZZ
@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=50),
    st.sampled_from([np.int64, np.int8, np.uint16, np.float64]),
    st.sampled_from(["standard", "ffmpeg"]),
)
def test_quantizer_decode_accepts_codes_or_raises_input_error(values, dtype, flavor):
    q = ImaAdpcm(flavor=flavor)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = np.array(values).astype(dtype)
    try:
        out = q.decode(codes)
    except InputError:
        return
    assert out.dtype == np.int16 and out.shape == codes.shape


@FUZZ
@given(st.binary(max_size=600), st.integers(0, 700), st.integers(1, 3))
def test_unpack_codes(data, frames, channels):
    q = ImaAdpcm()
    try:
        codes = q.unpack_codes(data, frames, channels)
    except AudioFormatError:
        return
    assert codes.size == frames * channels and q.decode(codes).shape == codes.shape


@FUZZ
@given(
    st.binary(max_size=500),
    st.one_of(st.none(), st.tuples(st.integers(-40000, 40000), st.integers(-5, 95))),
    st.integers(1, 4),
)
def test_compat_adpcm2lin_and_raw_decoder_match_audioop(data, state, width):
    try:
        expected = audioop.adpcm2lin(data, width, state)
    except ValueError:
        try:
            compat.adpcm2lin(data, width, state)
        except InputError:
            return
        raise AssertionError("compat accepted a state audioop rejects")
    assert compat.adpcm2lin(data, width, state) == expected
    if width == 2 and state is not None:
        from inwhale_hw.plugins.adpcm.stream import ImaState

        assert RawDecoder(ImaState(*state)).decode(data).tobytes() == expected[0]


@FUZZ
@given(
    st.sampled_from(range(len(_VALID))),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
    st.integers(0, 2500),
)
def test_coded_file_layer_reads_mutated_ima_wavs(which, flips, cut):
    """The CLI's reader (inwhale_hw.audio.coded) through ImaAdpcm.wav_decode."""
    from inwhale_hw.audio.coded import decode_blob

    blob = bytearray(_VALID[which])
    for position, value in flips:
        if position < len(blob):
            blob[position] = value
    try:
        decoded = decode_blob(bytes(blob[: max(cut, 1)]), "fuzz.wav")
    except AudioFormatError:
        return
    assert decoded.audio.samples.dtype == np.int16
