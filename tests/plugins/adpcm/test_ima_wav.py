"""IMA ADPCM WAV (format tag 0x0011) against libsndfile (through soundfile)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.errors import ParameterError
from inwhale_hw.plugins.adpcm.blocks import default_block_align, samples_per_block, unpack_blocks
from ima_files import build_ima_wav, parse_ima_wav, read_ima_wav, write_ima_wav


def _pcm(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = 9000 * np.sin(0.05 * t * np.arange(1, channels + 1)) + rng.normal(0, 900, (n, channels))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _chunks(blob: bytes) -> dict[bytes, bytes]:
    out, pos = {}, 12
    while pos + 8 <= len(blob):
        ckid, size = blob[pos : pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        out[ckid] = blob[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    return out


def _sf_ima(pcm: np.ndarray, rate: int, block_align: int | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format="WAV", subtype="IMA_ADPCM")
    return buffer.getvalue()


def _sf_decode(blob: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(blob), dtype="int16", always_2d=True)[0]


CASES = [(ch, rate, n) for ch in (1, 2) for rate in (8000, 44100) for n in (1, 9, 1001, 4093)]


@pytest.mark.parametrize("rate", [8000, 11025, 11999, 12000, 22050, 23000, 32000, 44000, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_default_block_size_is_libsndfiles(rate, channels):
    fmt = _chunks(_sf_ima(np.zeros((10, channels), np.int16), rate))[b"fmt "]
    assert default_block_align(rate, channels) == struct.unpack_from("<H", fmt, 12)[0]


@pytest.mark.parametrize("channels,rate,n", CASES)
def test_header_fields(channels, rate, n):
    pcm = _pcm(n, channels, n)
    chunks = _chunks(build_ima_wav(pcm, rate))
    tag, ch, sr, avg, align, bits, cb, spb = struct.unpack("<HHIIHHHH", chunks[b"fmt "])
    assert (tag, ch, sr, bits, cb, len(chunks[b"fmt "])) == (0x11, channels, rate, 4, 2, 20)
    assert spb == samples_per_block(align, channels) == (align - 4 * channels) * 8 // (4 * channels) + 1
    assert struct.unpack("<I", chunks[b"fact"])[0] == n
    assert len(chunks[b"data"]) == -(-n // spb) * align
    # libsndfile writes the same nBlockAlign, wSamplesPerBlock and nAvgBytesPerSec
    ref = _chunks(_sf_ima(pcm, rate))[b"fmt "]
    assert chunks[b"fmt "][8:20] == ref[8:20]


@pytest.mark.parametrize("encoder", ["search", "libsndfile", "exhaustive", "trellis"])
@pytest.mark.parametrize("channels,rate,n", CASES)
def test_libsndfile_decodes_ours_identically(encoder, channels, rate, n):
    pcm = _pcm(n, channels, 3 * n + channels)
    blob = build_ima_wav(pcm, rate, encoder=encoder)
    ours = parse_ima_wav(blob)
    assert ours.pcm.shape == (n, channels) and ours.notes == ()
    assert np.array_equal(_sf_decode(blob)[:n], ours.pcm)


@pytest.mark.parametrize("channels,rate,n", CASES)
def test_we_decode_libsndfile_files_identically(channels, rate, n):
    blob = _sf_ima(_pcm(n, channels, n + 1), rate)
    ref = _sf_decode(blob)
    ours = parse_ima_wav(blob)
    if channels == 2:
        # libsndfile's stereo fact chunk holds half the frame count (a bug): unless the half
        # still needs every block, the data size is used and the whole blocks decoded
        assert len(ours.pcm) <= len(ref)
    else:
        assert len(ours.pcm) == len(ref)
    assert np.array_equal(ours.pcm, ref[: len(ours.pcm)])


def _codes_and_headers(blob: bytes, n: int):
    chunks = _chunks(blob)
    channels, align = struct.unpack_from("<H", chunks[b"fmt "], 2)[0], struct.unpack_from("<H", chunks[b"fmt "], 12)[0]
    first, index, codes = unpack_blocks(chunks[b"data"], align, channels)
    flat = codes.transpose(0, 2, 1).reshape(-1, channels)  # frames 1..spb-1 of each block
    spb = codes.shape[2] + 1
    frame = (np.arange(len(codes))[:, None] * spb + np.arange(1, spb)).reshape(-1)
    return first, index, flat[frame < n]


@pytest.mark.parametrize("channels,rate,n", CASES)
def test_libsndfile_encoder_is_byte_identical_to_libsndfile(channels, rate, n):
    pcm = _pcm(n, channels, 7 * n)
    mine = _codes_and_headers(build_ima_wav(pcm, rate, encoder="libsndfile"), n)
    theirs = _codes_and_headers(_sf_ima(pcm, rate), n)
    for a, b in zip(mine, theirs):
        assert np.array_equal(a, b)
    full = n // samples_per_block(default_block_align(rate, channels), channels)
    align = default_block_align(rate, channels)
    assert _chunks(build_ima_wav(pcm, rate, encoder="libsndfile"))[b"data"][: full * align] == (
        _chunks(_sf_ima(pcm, rate))[b"data"][: full * align]
    )


@pytest.mark.parametrize("channels,block_align", [(1, 8), (1, 36), (1, 4096), (2, 16), (2, 520), (3, 132)])
def test_custom_block_sizes_and_channels(channels, block_align, tmp_path):
    pcm = _pcm(777, channels, block_align)
    path = write_ima_wav(tmp_path / "x.wav", pcm, 16000, block_align)
    ours = read_ima_wav(path)
    assert ours.block_align == block_align and ours.pcm.shape == pcm.shape
    if channels <= 2:  # libsndfile's IMA reader handles only mono and stereo
        assert np.array_equal(sf.read(path, dtype="int16", always_2d=True)[0][:777], ours.pcm)
    assert list(tmp_path.iterdir()) == [path]


def test_empty_signal_round_trips():
    blob = build_ima_wav(np.zeros((0, 2), np.int16), 8000)
    assert parse_ima_wav(blob).pcm.shape == (0, 2)
    assert _sf_decode(blob).shape == (0, 2)


def test_search_modes_err_less_than_libsndfile_mode():
    pcm = _pcm(4000, 2, 11)
    err = {}
    for encoder in ("search", "exhaustive", "libsndfile"):
        decoded = _sf_decode(build_ima_wav(pcm, 8000, encoder=encoder))[:4000]
        err[encoder] = np.sum((decoded.astype(np.int64) - pcm) ** 2)
    assert err["search"] < err["libsndfile"] and err["exhaustive"] < err["libsndfile"]


@pytest.mark.parametrize("block_align", [4, 10, 12, 65536, "x"])
def test_bad_block_align_for_writing(block_align):
    with pytest.raises(ParameterError, match=rf"block.(size=|align ){block_align!r}"):
        build_ima_wav(np.zeros((5, 2), np.int16), 8000, block_align)


def test_bad_encoder_and_rate():
    with pytest.raises(ParameterError, match="'fast'"):
        build_ima_wav(np.zeros(5, np.int16), 8000, encoder="fast")
    with pytest.raises(ParameterError, match="rate 0"):
        build_ima_wav(np.zeros(5, np.int16), 0)


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ParameterError):
        write_ima_wav(tmp_path / "x.wav", np.zeros((5, 2), np.int16), 8000, 12)
    assert list(tmp_path.iterdir()) == []
