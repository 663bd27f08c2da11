"""A coded WAV whose data chunk is cut short decodes its complete frames, like libsndfile."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw.audio import coded
from inwhale_hw.cli import cli


def _cut_ulaw_wav(tmp_path, keep_bytes_less: int):
    rng = np.random.default_rng(3)
    x = rng.integers(-20000, 20000, (401, 2)).astype(np.int16)
    full = tmp_path / "full.wav"
    sf.write(full, x, 8000, subtype="ULAW")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:-keep_bytes_less])
    return full, cut


def test_truncated_data_chunk_decodes_what_libsndfile_decodes(tmp_path):
    full, cut = _cut_ulaw_wav(tmp_path, 7)
    ours = coded.read_coded(cut)
    theirs, rate = sf.read(cut, dtype="int16", always_2d=True)
    assert rate == 8000 and len(theirs) < 401
    assert np.array_equal(ours.audio.samples, theirs)
    assert len(ours.warnings) == 1 and "bytes missing" in ours.warnings[0]
    assert not coded.read_coded(full).warnings


def test_decode_cli_warns_and_writes_the_complete_frames(tmp_path):
    _, cut = _cut_ulaw_wav(tmp_path, 8)
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(cli, ["decode", str(cut), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "data chunk is truncated" in result.output
    assert sf.info(out).frames == sf.info(cut).frames
