"""MS-ADPCM decoding equals libsndfile's, sox's and ffmpeg's on files each of them writes
(mono and stereo, several block sizes) and on a file with a custom coefficient table.

Where they differ: libsndfile and sox predict ``floor((s1 c1 + s2 c2) / 256)`` (our
``standard`` flavor); ffmpeg truncates toward zero and always uses the standard table (our
``ffmpeg`` flavor).  Custom coefficient pairs: sox (and we) use the file's table; libsndfile
uses its built-in seven.  On ffmpeg's own files (predictor pair 0 only) all three agree.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from inwhale_hw.audio import wav as W
from inwhale_hw.plugins.msadpcm import MsAdpcm

from msadpcm_tools import signal, tool_decode, tool_encode, write_pcm

CASES = [("libsndfile", None), ("sox", None), ("ffmpeg", None), ("ffmpeg", 512), ("ffmpeg", 256)]


def _ours(path, flavor):
    """Every frame the blocks hold (libsndfile's reader ignores ``fact``; sox and ffmpeg use it)."""
    wf = W.read_wav(path.read_bytes(), str(path))
    return MsAdpcm(flavor=flavor).wav_decode(wf.fmt, wf.data, None).reshape(-1), wf


def _assert_decodes(ours, theirs, wf):
    assert theirs.size >= (wf.fact_frames or 0) * wf.fmt.channels
    np.testing.assert_array_equal(ours[: theirs.size], theirs)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("tool,block", CASES)
def test_decoder_equals_every_tool(tmp_path, require_tool, tool, block, channels):
    for name in ("sox", "ffmpeg"):
        require_tool(name)
    pcm = signal(12345, channels, seed=channels)
    src = tmp_path / "src.wav"
    write_pcm(src, pcm, 8000)
    coded = tool_encode(tool, src, tmp_path / f"{tool}.wav", block_size=block)
    standard, wf = _ours(coded, "standard")
    ffmpeg_flavor, _ = _ours(coded, "ffmpeg")
    if block is not None:
        assert wf.fmt.block_align == block
    _assert_decodes(standard, tool_decode("libsndfile", coded), wf)
    _assert_decodes(standard, tool_decode("sox", coded), wf)
    _assert_decodes(ffmpeg_flavor, tool_decode("ffmpeg", coded), wf)
    if tool != "ffmpeg":  # their encoders use other predictor pairs: the decoders really differ
        assert not np.array_equal(standard, ffmpeg_flavor)


def test_custom_coefficient_table(tmp_path, require_tool):
    """An 8th, non-standard pair in the fmt table, used by every block: sox follows it (as we do);
    libsndfile reads the block's index 7 as 0 (a "synchronisation error" in its log), so its
    output equals ours for the same blocks with index 0."""
    require_tool("sox")
    pcm = signal(4000, 1, seed=7)
    q = MsAdpcm(block_size=256)
    payload = q.wav_encode(pcm, 8000)
    spb = payload.samples_per_block
    ext = payload.extension[:2] + struct.pack("<H", 8) + payload.extension[4:] + struct.pack("<hh", 300, -60)
    data = bytearray(payload.data)
    for start in range(0, len(data), 256):
        data[start] = 7
    blob = W.build_wav(
        format_tag=2, channels=1, rate=8000, block_align=256, bits_per_sample=4, extension=ext,
        data=bytes(data), frames=payload.frames, samples_per_block=spb,
    )
    path = tmp_path / "custom.wav"
    path.write_bytes(blob)
    ours, wf = _ours(path, "standard")
    assert not np.array_equal(ours, MsAdpcm(block_size=256).decode(np.frombuffer(payload.data, np.uint8)))
    _assert_decodes(ours, tool_decode("sox", path), wf)
    as_zero = bytearray(data)
    for start in range(0, len(as_zero), 256):
        as_zero[start] = 0
    libsndfile_view = MsAdpcm().wav_decode(wf.fmt, bytes(as_zero), None).reshape(-1)
    assert not np.array_equal(libsndfile_view, ours)
    _assert_decodes(libsndfile_view, tool_decode("libsndfile", path), wf)
