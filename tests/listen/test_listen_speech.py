"""The listening page shows speech metrics (labelled), the unclamped segSNR and rate-distortion plots."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from inwhale_hw.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"


def _listen(tmp_path: Path, name: str, *extra: str) -> tuple[str, Path]:
    out = tmp_path / "page"
    args = ["listen", str(SAMPLES / name), "-c", "ima-adpcm", "-c", "mulaw", "-q", "-o", str(out), *extra]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    return (out / "index.html").read_text(), out


def test_page_shows_speech_metrics_equal_to_metrics_json_and_rd_plots(tmp_path):
    html, out = _listen(tmp_path, "speech_8k.wav")
    records = [json.loads(p.read_text()) for p in sorted(out.rglob("metrics.json"))]
    assert len(records) == 2
    for rec in records:
        sp = rec["speech_metrics"]
        assert sp["shown"] and sp["pesq_wb"] is None  # 8 kHz input: narrowband only
        for key in ("pesq_nb", "stoi", "estoi"):
            assert f">{sp[key]:.3f}<" in html
        assert f">{rec['metrics']['segmental_snr_unclamped_db']:.2f}<" in html
    assert "PESQ-NB (speech)" in html and "mean nothing for music" in html
    assert "ITU-T P.862" in html and "STOI and ESTOI at 10 kHz" in html
    assert "bit rate vs segSNR" in html and "bit rate vs PESQ-NB (speech)" in html
    assert len(re.findall(r'class="rd-point"', html)) == 4  # two codecs x two plots
    assert min(r["speech_metrics"]["pesq_nb"] for r in records) > 1.0


def test_music_hint_hides_speech_metrics(tmp_path):
    html, out = _listen(tmp_path, "speech_8k.wav", "--content", "music")
    rec = json.loads(next(out.rglob("metrics.json")).read_text())
    assert rec["speech_metrics"]["shown"] is False and "pesq_nb" not in rec["speech_metrics"]
    assert "PESQ-NB (speech)" not in html and "not shown: content hint: music" in html
    assert "bit rate vs segSNR" in html and "bit rate vs PESQ" not in html
