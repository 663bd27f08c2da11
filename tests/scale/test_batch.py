"""``inwhale-hw batch`` in this process: corpus discovery, grids, tables, resume, keys.

The metrics of each row are checked against an independent computation (``run_roundtrip``
called directly on the file); the cluster runs are in test_cluster.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from corpus_data import make_corpus

from inwhale_hw.audio.stream import read_audio
from inwhale_hw.audio.roundtrip import run_roundtrip
from inwhale_hw.cli import cli
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.scale import CodecConfig, discover, expand_grid, load_grid, open_engine, run_batch
from inwhale_hw.scale.keys import code_fingerprint, task_key
from inwhale_hw.scale.tables import csv_text, summarize


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"), count=8)


def test_discover_directory_list_and_manifest(corpus, tmp_path):
    items = discover(corpus)
    assert [i.name for i in items] == sorted(i.name for i in items) and len(items) == 8
    assert all(i.name.endswith(".wav") for i in items)  # notes.txt is not audio
    listing = tmp_path / "files.txt"
    listing.write_text(f"# two files\n{items[1].path}\n\n{items[0].path}  # comment\n")
    assert [i.path for i in discover(listing)] == sorted([items[0].path, items[1].path], key=str)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,speaker\n{items[0].path},ann\n{items[2].path},bob\n")
    assert [i.meta for i in discover(manifest)] == [{"speaker": "ann"}, {"speaker": "bob"}]
    with pytest.raises(InputError, match="'path' column"):
        (tmp_path / "bad.csv").write_text("file\nx.wav\n")
        discover(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="do not exist"):
        (tmp_path / "missing.txt").write_text("nope.wav\n")
        discover(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="no input files"):
        discover(corpus, ("*.flac",))


def test_grid_expansion_and_errors(tmp_path):
    configs = expand_grid("ima-adpcm", {"flavor": "standard"}, {"trellis_nodes": [4, 8], "block_size": [256, 512]})
    assert [c.label for c in configs] == [
        f"ima-adpcm(block_size={b}, flavor=standard, trellis_nodes={t})" for b in (256, 512) for t in (4, 8)]
    grid = tmp_path / "g.toml"
    grid.write_text('[[codec]]\nname = "mulaw"\n[[codec]]\nname = "alaw"\ngrid = { flavor = ["itu", "audioop"] }\n')
    assert [c.label for c in load_grid(grid)] == ["mulaw", "alaw(flavor=itu)", "alaw(flavor=audioop)"]
    grid.write_text('[[codec]]\nname = "alaw"\ngrid = { flavor = "itu" }\n')
    with pytest.raises(ParameterError, match="non-empty list"):
        load_grid(grid)
    grid.write_text('[[codec]]\nnom = "alaw"\n')
    with pytest.raises(InputError, match="takes name, params and grid"):
        load_grid(grid)


def test_rows_equal_direct_roundtrip(corpus, tmp_path):
    items = discover(corpus)[:3]
    configs = [CodecConfig("mulaw"), CodecConfig("ima-adpcm")]
    with open_engine(serial=True) as engine:
        result = run_batch(items, configs, tmp_path / "out", engine)
    assert result.computed == 6 and result.reused == 0 and not result.failures
    assert [(r["file"], r["codec"]) for r in result.rows] == [(i.name, c.codec) for i in items for c in configs]
    for row in result.rows:
        item = next(i for i in items if i.name == row["file"])
        trip = run_roundtrip(read_audio(item.path), configs[[c.codec for c in configs].index(row["codec"])].build())
        info = sf.info(str(item.path))
        assert row["snr_db"] == trip.metrics.snr_db and row["segsnr_db"] == trip.metrics.segmental_snr_db
        assert row["max_abs_error"] == trip.metrics.max_abs_error
        assert (row["input_rate"], row["channels"], row["frames"]) == (info.samplerate, info.channels, info.frames)
        assert row["bitrate_bps"] == (8 if row["codec"] == "mulaw" else 4) * info.samplerate * info.channels


def test_resume_skips_stored_tasks_and_force_recomputes(corpus, tmp_path):
    items = discover(corpus)[:2]
    configs = [CodecConfig("alaw")]
    calls = []
    with open_engine(serial=True) as engine:
        first = run_batch(items, configs, tmp_path, engine, progress=lambda n, total: calls.append((n, total)))
        again = run_batch(items, configs, tmp_path, engine)
        forced = run_batch(items, configs, tmp_path, engine, force=True)
    assert (first.computed, again.computed, again.reused, forced.computed) == (2, 0, 2, 2)
    assert calls == [(1, 2), (2, 2)]
    assert first.rows == again.rows == forced.rows


def test_key_depends_on_content_config_and_code(tmp_path):
    base = dict(input="a" * 64, codec="mulaw", params="[]", rate=None, code=code_fingerprint())
    keys = {task_key(**base), task_key(**{**base, "input": "b" * 64}), task_key(**{**base, "params": '[["flavor","itu"]]'}),
            task_key(**{**base, "code": "0" * 64})}
    assert len(keys) == 4

    class ThirdParty:
        pass

    assert code_fingerprint(ThirdParty()) != code_fingerprint()  # a class outside the package adds its source


def test_failed_tasks_are_reported_not_fatal(corpus, tmp_path):
    items = discover(corpus)[:1]
    short = tmp_path / "in"
    short.mkdir()
    sf.write(short / "silent.wav", np.zeros(100, dtype=np.int16), 4000)
    (short / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    with open_engine(serial=True) as engine:
        result = run_batch(discover(short), [CodecConfig("mulaw")], tmp_path / "out", engine)
    assert [f["file"] for f in result.failures] == ["broken.wav"]
    assert "broken.wav" not in {r["file"] for r in result.rows} and len(result.rows) == 1
    assert items  # the module corpus is untouched


def test_summary_statistics_against_numpy():
    rows = [{"config": "c", "snr_db": v} for v in (1.0, 2.0, 4.0, float("inf"))] + [{"config": "d", "snr_db": 3.0}]
    summary = summarize(rows, "config", ["snr_db"])
    assert summary[0] == {"config": "c", "files": 4, "snr_db.inf": 1, "snr_db.mean": 7 / 3, "snr_db.median": 2.0,
                          "snr_db.p10": 1.2, "snr_db.p90": pytest.approx(3.6)}
    assert summary[1]["snr_db.mean"] == 3.0
    text = csv_text(rows, ("config",))
    assert text.splitlines()[0] == "config,snr_db" and "inf" in text


def test_cli_batch_serial_outputs(corpus, tmp_path):
    out = tmp_path / "res"
    result = CliRunner().invoke(cli, ["batch", str(corpus), "-c", "mulaw", "-c", "ima-adpcm", "-p", "ima-adpcm.trellis_nodes=8",
                                      "-o", str(out), "--serial"])
    assert result.exit_code == 0, result.output
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16 and {r["config"] for r in rows} == {"mulaw", "ima-adpcm(trellis_nodes=8)"}
    assert "param.trellis_nodes" in rows[0]
    page = (out / "index.html").read_text()
    assert "rate_distortion.png" in page and page.count("best / median / worst") == 2
    assert (out / "pages" / "0" / "index.html").is_file() and (out / "rate_distortion.png").read_bytes()[:4] == b"\x89PNG"
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pq.read_table(out / "results.parquet")
    assert table.num_rows == 16 and table.column("snr_db").to_pylist() == [float(r["snr_db"]) for r in rows]
    rerun = CliRunner().invoke(cli, ["batch", str(corpus), "-c", "mulaw", "-c", "ima-adpcm", "-p", "ima-adpcm.trellis_nodes=8",
                                     "-o", str(out), "--serial", "--no-pages"])
    assert "0 computed, 16 reused" in rerun.output


@pytest.mark.parametrize("args, message", [
    (["-c", "nosuch"], "unknown codec 'nosuch'"),
    (["-c", "mulaw", "-p", "flavor=bogus"], "flavor"),
    (["--grid", "GRID", "-c", "mulaw"], "--grid replaces -c/-p"),
    (["--workers", "0"], "0"),
])
def test_cli_batch_errors_are_one_line(corpus, tmp_path, args, message):
    grid = tmp_path / "g.toml"
    grid.write_text('[[codec]]\nname = "mulaw"\n')
    args = [str(grid) if a == "GRID" else a for a in args]
    result = CliRunner().invoke(cli, ["batch", str(corpus), "-o", str(tmp_path / "o"), "--serial", *args])
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "results.csv").exists()


def test_cli_batch_refuses_missing_parent(corpus, tmp_path):
    result = CliRunner().invoke(cli, ["batch", str(corpus), "-c", "mulaw", "-o", str(tmp_path / "no" / "out"), "--serial"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_metrics_json_free_of_timings(corpus, tmp_path):
    with open_engine(serial=True) as engine:
        result = run_batch(discover(corpus)[:1], [CodecConfig("mulaw")], tmp_path, engine)
    record = json.loads(next((tmp_path / ".tasks").glob("*.json")).read_text())
    assert record["row"] == {k: v for k, v in result.rows[0].items() if k != "file"}
    assert not any("second" in key or "time" in key for key in record["row"])


def test_batch_row_has_speech_metrics_equal_to_the_packages(tmp_path):
    """PESQ-NB/STOI columns of a batch row equal pesq/pystoi on the documented excerpt (8 kHz speech)."""
    import soundfile as sf
    from pesq import pesq
    from pystoi import stoi
    from scipy.signal import resample_poly

    from inwhale_hw.audio.stream import read_audio
    from inwhale_hw.audio.roundtrip import run_roundtrip
    from inwhale_hw.scale.batch import CodecConfig, evaluate
    from inwhale_hw.speech import SpeechExcerpts

    src = Path(__file__).resolve().parents[2] / "audio_samples" / "speech_8k.wav"
    config = CodecConfig("ima-adpcm", {})
    row = evaluate(str(src), ".wav", config, None)
    trip = run_roundtrip(read_audio(src), config.build())
    ex = SpeechExcerpts(trip.original.rate)
    ex.update(trip.original.samples, trip.decoded.samples)
    (e,) = ex.finish()
    ref = trip.original.samples[e.start : e.start + e.frames].reshape(-1) / 32768.0
    deg = trip.decoded.samples[e.start : e.start + e.frames].reshape(-1) / 32768.0
    assert row["pesq_nb"] == pytest.approx(pesq(8000, ref, deg, "nb"), abs=1e-6)
    assert row["stoi"] == pytest.approx(stoi(resample_poly(ref, 5, 4), resample_poly(deg, 5, 4), 10000), abs=1e-9)
    assert row["pesq_wb"] is None and row["speech"].startswith("auto:") and sf.info(str(src)).samplerate == 8000
    assert row["segsnr_unclamped_db"] > 0
    music = evaluate(str(src), ".wav", config, None, content="music")
    assert music["pesq_nb"] is None and music["speech"] == "content hint: music"
