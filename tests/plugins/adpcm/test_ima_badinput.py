"""Damaged IMA ADPCM WAV files: a clear AudioFormatError, or the documented recovery."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.errors import AudioFormatError
from ima_files import build_ima_wav, parse_ima_wav


def _pcm(n: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(n + channels)
    return np.clip(rng.normal(0, 6000, (n, channels)), -32768, 32767).astype(np.int16)


def _file(n: int = 2000, channels: int = 2, rate: int = 8000) -> bytes:
    return build_ima_wav(_pcm(n, channels), rate, encoder="libsndfile")


def _offset(blob: bytes, ckid: bytes) -> int:
    pos = 12
    while blob[pos : pos + 4] != ckid:
        pos += 8 + struct.unpack_from("<I", blob, pos + 4)[0]
    return pos


def _patch(blob: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(blob)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def _with_data(blob: bytes, data: bytes, declared: int | None = None) -> bytes:
    at = _offset(blob, b"data")
    head = blob[: at + 4] + struct.pack("<I", len(data) if declared is None else declared)
    return head + data


def _data(blob: bytes) -> bytes:
    at = _offset(blob, b"data")
    return blob[at + 8 : at + 8 + struct.unpack_from("<I", blob, at + 4)[0]]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("cut", [1, 3, 7, 8, 9, 100, 255])
def test_truncated_last_block_decodes_its_complete_word_groups(channels, cut):
    blob = _file(3000, channels)
    full = parse_ima_wav(blob).pcm
    align = 256 * channels
    data = _data(blob)[: 2 * align + cut]
    damaged = parse_ima_wav(_with_data(blob, data))
    groups = (cut - 4 * channels) // (4 * channels)
    expect = 2 * 505 + (1 + 8 * groups if cut >= 4 * channels else 0)
    assert len(damaged.pcm) == expect
    assert np.array_equal(damaged.pcm, full[:expect])  # what is there decodes exactly
    assert any("dropped" in note for note in damaged.notes)
    # libsndfile agrees on every sample it returns from the complete blocks
    assert np.array_equal(sf.read(io.BytesIO(_with_data(blob, data[: 2 * align])), dtype="int16", always_2d=True)[0], full[:1010])


def test_data_chunk_running_past_the_end_of_the_file_is_read_to_the_end():
    blob = _file(3000, 1)
    data = _data(blob)
    damaged = parse_ima_wav(_with_data(blob, data[:600], declared=len(data)))
    assert len(damaged.pcm) == 2 * 505 + 1 + 8 * ((600 - 512 - 4) // 4)
    assert any("truncated" in note for note in damaged.notes)


def test_odd_data_size_drops_the_stray_byte():
    blob = _file(1010, 1)
    odd = parse_ima_wav(_with_data(blob, _data(blob) + b"\x55"))
    assert np.array_equal(odd.pcm, parse_ima_wav(blob).pcm)
    assert any("dropped 1 bytes" in note for note in odd.notes)


def test_garbage_after_the_data_chunk_is_ignored():
    blob = _file(777, 2)
    rng = np.random.default_rng(0)
    junk = blob + rng.integers(0, 256, 999, dtype=np.uint8).tobytes()
    assert np.array_equal(parse_ima_wav(junk).pcm, parse_ima_wav(blob).pcm)
    assert parse_ima_wav(junk).notes == ()


def test_fact_inconsistent_with_the_data_uses_the_data():
    blob = _file(2000, 1)
    fact_at = _offset(blob, b"fact") + 8
    too_many = parse_ima_wav(_patch(blob, fact_at, "<I", 99999))
    assert len(too_many.pcm) == 4 * 505 and "99999" in too_many.notes[0]
    too_few = parse_ima_wav(_patch(blob, fact_at, "<I", 10))  # needs 1 block, 4 present
    assert len(too_few.pcm) == 4 * 505
    assert len(parse_ima_wav(_patch(blob, fact_at, "<I", 1600)).pcm) == 1600  # consistent: trimmed


def test_fmt_without_samples_per_block_is_computed_from_block_align():
    blob = _file(600, 1)
    fmt_at = _offset(blob, b"fmt ")
    fmt18 = blob[fmt_at + 8 : fmt_at + 24] + b"\0\0"
    rebuilt = blob[:fmt_at] + b"fmt " + struct.pack("<I", 18) + fmt18 + blob[fmt_at + 28 :]
    rebuilt = rebuilt[:4] + struct.pack("<I", len(rebuilt) - 8) + rebuilt[8:]
    assert np.array_equal(parse_ima_wav(rebuilt).pcm, parse_ima_wav(blob).pcm)


@pytest.mark.parametrize(
    "field,fmt,value,message",
    [
        (12, "<H", 250, "block align 250 does not fit 1 channel"),
        (12, "<H", 4, "block align 4 does not fit"),
        (2, "<H", 3, "block align 256 does not fit 3 channel"),
        (18, "<H", 504, "wSamplesPerBlock 504 contradicts block align 256"),
        (14, "<H", 3, "3 bits per sample"),
        (0, "<H", 1, "format tag 0x0001 is not IMA ADPCM"),
        (2, "<H", 0, "channel count 0"),
        (4, "<I", 0, "sample rate 0"),
    ],
)
def test_bad_fmt_fields(field, fmt, value, message):
    blob = _file(600, 1)
    with pytest.raises(AudioFormatError, match=message):
        parse_ima_wav(_patch(blob, _offset(blob, b"fmt ") + 8 + field, fmt, value))


@pytest.mark.parametrize("block,channel", [(0, 0), (2, 1), (3, 0)])
def test_header_step_index_above_88(block, channel):
    blob = _file(2000, 2)
    at = _offset(blob, b"data") + 8 + block * 512 + 4 * channel + 2
    with pytest.raises(AudioFormatError, match=f"block {block} channel {channel}: header step index 200"):
        parse_ima_wav(_patch(blob, at, "<B", 200))


def test_reserved_header_byte_is_ignored():
    blob = _file(2000, 2)
    at = _offset(blob, b"data") + 8 + 3
    assert np.array_equal(parse_ima_wav(_patch(blob, at, "<B", 0xAB)).pcm, parse_ima_wav(blob).pcm)


@pytest.mark.parametrize(
    "blob,message",
    [
        (b"", "too short for a RIFF/WAVE header"),
        (b"RIFF\0\0\0\0WAVX", "not a RIFF/WAVE"),
        (b"RIFF\0\0\0\0WAVE", "before the fmt and data chunks"),
        (b"RIFF\0\0\0\0WAVEdata\0\0\0\0", "data chunk at byte 12 comes before any fmt chunk"),
        (b"RIFF\0\0\0\0WAVEfmt \x08\0\0\0\x11\0\x01\0\x40\x1f\0\0", "fmt chunk has 8 bytes"),
    ],
)
def test_not_a_usable_file(blob, message):
    with pytest.raises(AudioFormatError, match=message):
        parse_ima_wav(blob)


def test_missing_data_chunk():
    blob = _file(100, 1)
    with pytest.raises(AudioFormatError, match="before a data chunk"):
        parse_ima_wav(blob[: _offset(blob, b"data")])
