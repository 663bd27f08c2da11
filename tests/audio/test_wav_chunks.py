"""The strict RIFF reader against files libsndfile writes and hand-built edge cases."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.audio import wav
from inwhale_hw.audio.coded import read_coded
from inwhale_hw.errors import AudioFormatError


def _chunk(ckid: bytes, body: bytes) -> bytes:
    return ckid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag=7, channels=1, rate=8000, block=1, bits=8, ext=b"", cb=None) -> bytes:
    cb = len(ext) if cb is None else cb
    return _chunk(b"fmt ", struct.pack("<HHIIHHH", tag, channels, rate, rate * block, block, bits, cb) + ext)


def test_build_wav_is_byte_identical_to_libsndfile(tmp_path):
    codes = np.random.default_rng(0).integers(0, 256, (501, 2)).astype(np.uint8)
    ours = wav.build_wav(7, 2, 8000, 2, 8, codes.tobytes(), 501)
    # libsndfile's header for the same rate, channels and frame count
    theirs_path = tmp_path / "sf.wav"
    sf.write(theirs_path, np.zeros((501, 2), dtype=np.int16), 8000, subtype="ULAW")
    theirs = theirs_path.read_bytes()
    assert ours[:58] == theirs[:58]  # RIFF, 18-byte fmt with cbSize 0, fact, data header
    parsed = wav.read_wav(ours)
    assert parsed.fmt == wav.WavFormat(7, 2, 8000, 16000, 2, 8, b"")
    assert parsed.fact_frames == 501 and parsed.data == codes.tobytes()


def test_odd_chunks_are_padded_and_skipped(tmp_path):
    data = bytes([0x00, 0x80, 0xFF])  # 3 mono frames: odd data size
    blob = _riff(_fmt(), _chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00ab\x00"), _chunk(b"fact", struct.pack("<I", 3)), _chunk(b"data", data))
    assert len(blob) % 2 == 0
    parsed = wav.read_wav(blob)
    assert parsed.data == data and parsed.fact_frames == 3
    (tmp_path / "odd.wav").write_bytes(blob)
    ours = read_coded(tmp_path / "odd.wav").audio.samples[:, 0]
    theirs, _ = sf.read(tmp_path / "odd.wav", dtype="int16")
    assert np.array_equal(ours, theirs)


def test_garbage_after_data_is_ignored_and_late_fact_is_used(tmp_path):
    data = bytes(range(40))
    blob = _riff(_fmt(), _chunk(b"data", data)) + _chunk(b"fact", struct.pack("<I", 30)) + b"\xde\xad\xbe"
    parsed = wav.read_wav(blob)
    assert parsed.data == data and parsed.fact_frames == 30
    blob2 = _riff(_fmt(), _chunk(b"fact", struct.pack("<I", 40)), _chunk(b"data", data)) + b"garbage!" * 7
    (tmp_path / "g.wav").write_bytes(blob2)
    ours = read_coded(tmp_path / "g.wav").audio.samples[:, 0]
    theirs, _ = sf.read(tmp_path / "g.wav", dtype="int16")
    assert np.array_equal(ours, theirs) and len(ours) == 40


def test_data_chunk_cut_short_is_recovered_with_the_missing_count():
    parsed = wav.read_wav(_riff(_fmt(), _chunk(b"data", b"\x01" * 100))[:-10])
    assert parsed.data == b"\x01" * 90 and parsed.missing_bytes == 10


@pytest.mark.parametrize(
    "blob, message",
    [
        (b"RIFF\x00\x00", "too short"),
        (b"RIFX\x00\x00\x00\x00WAVEfmt ", "RIFX WAVE is not supported"),
        (b"RIFF\x04\x00\x00\x00AVI LIST", "not a RIFF/WAVE"),
        (_riff(_fmt())[:-6], "declares 18 bytes but only 12 remain"),
        (_riff(_fmt()), "ends at byte 38 before a data chunk"),
        (_riff(_chunk(b"data", b"\x00\x00")), "before any fmt chunk"),
        (_riff(_chunk(b"fmt ", b"\x07\x00\x01\x00"), _chunk(b"data", b"\x00\x00")), "fmt chunk has 4 bytes"),
        (_riff(_fmt(cb=6), _chunk(b"data", b"\x00\x00")), "cbSize 6 but holds only 0"),
        (_riff(_fmt(channels=0), _chunk(b"data", b"\x00\x00")), "channel count 0 is not supported"),
        (_riff(_fmt(tag=0xFFFE, ext=b"\x00" * 4), _chunk(b"data", b"\x00\x00")), "EXTENSIBLE"),
        (_riff(_fmt(), _chunk(b"fact", b"\x01"), _chunk(b"data", b"\x00\x00")), "fact chunk has 1 bytes"),
    ],
)
def test_malformed_files_raise(blob, message):
    with pytest.raises(AudioFormatError, match=message):
        wav.read_wav(blob, "x.wav")


def test_extensible_subformat_gives_the_effective_tag(tmp_path):
    x = np.random.default_rng(5).integers(-30000, 30000, (400, 3)).astype(np.int16)
    sf.write(tmp_path / "ext.wav", x, 8000, format="WAVEX", subtype="ULAW")
    parsed = wav.read_wav((tmp_path / "ext.wav").read_bytes())
    assert parsed.fmt.raw_tag == 0xFFFE and parsed.fmt.format_tag == 7
    ours = read_coded(tmp_path / "ext.wav").audio.samples
    theirs, _ = sf.read(tmp_path / "ext.wav", dtype="int16")
    assert np.array_equal(ours, theirs)
