"""The listening page: files, offline HTML, the matplotlib-less path, codec selection, demo,
and headless Chromium proving every <audio> source loads and the console stays clean."""

from __future__ import annotations

import functools
import importlib
import http.server
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy.signal import spectrogram

from inwhale_hw import list_quantizers
from inwhale_hw.cli import cli
from inwhale_hw.listen.spectrogram import stft_psd

REPO = Path(__file__).resolve().parents[2]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str, name: str | None = None) -> list[dict[str, str]]:
    parser = _Tags()
    parser.feed(html)
    return [a for t, a in parser.tags if name is None or t == name]


def _inputs(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    t = np.arange(2400) / 8000
    speech = (8000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 300, t.size)).astype(np.int16)
    sf.write(tmp_path / "tone.wav", speech, 8000, subtype="PCM_16")
    music = rng.uniform(-0.4, 0.4, (4410, 2))
    sf.write(tmp_path / "noise.flac", music, 44100, subtype="PCM_16")
    return [tmp_path / "tone.wav", tmp_path / "noise.flac"]


def _listen(tmp_path: Path, *extra: str) -> tuple[Path, str]:
    out = tmp_path / "page"
    res = CliRunner().invoke(cli, ["listen", *map(str, _inputs(tmp_path)), *extra, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_page_files_are_relative_offline_and_decodable(tmp_path):
    out, stdout = _listen(tmp_path, "-c", "mulaw", "-c", "alaw")
    index = out / "index.html"
    assert stdout.strip().splitlines()[-1] == str(index)
    html = index.read_text()
    audio = tags(html, "audio")
    assert len(audio) == 2 * (1 + 2 * 3)  # per input: original, then original/decoded/residual per codec
    for a in audio:
        src = a["src"]
        assert not re.match(r"^[a-z]+:|^/", src), src
        data, rate = sf.read(out / src, dtype="int16")
        assert rate in (8000, 44100) and len(data) > 0
    images = tags(html, "img")
    assert len(images) == 2 * (1 + 2 * 3)
    for img in images:
        assert (out / img["src"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for attrs in tags(html):
        for key in ("src", "href"):
            if key in attrs:
                assert not re.match(r"^(https?:)?//", attrs[key]), attrs  # no CDN, no external resource
    assert "@import" not in html and "url(" not in html
    for codec in ("mulaw", "alaw"):
        assert f"tone/{codec}/metrics.json" in html
        record = (out / "tone" / codec / "metrics.json").read_text()
        assert '"snr_db"' in record


def test_original_on_the_page_is_the_converted_input(tmp_path):
    out, _ = _listen(tmp_path, "-c", "alaw", "--rate", "8000")
    tone, _ = sf.read(tmp_path / "tone.wav", dtype="int16")
    assert np.array_equal(sf.read(out / "tone" / "original.wav", dtype="int16")[0], tone)
    info = sf.info(out / "noise" / "original.wav")
    assert (info.samplerate, info.channels, info.frames) == (8000, 2, 800)


def test_page_without_matplotlib(tmp_path, monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # any import of matplotlib raises ImportError
    with pytest.raises(ImportError):
        importlib.import_module("matplotlib.figure")
    out, _ = _listen(tmp_path, "-c", "mulaw")
    html = (out / "index.html").read_text()
    assert "Spectrograms omitted" in html and "inwhale_hw[plot]" in html
    assert tags(html, "img") == []
    assert not list(out.rglob("*.png"))
    assert len(tags(html, "audio")) == 2 * 4


def test_no_codec_option_means_every_audio_codec(tmp_path):
    out, _ = _listen(tmp_path, "-p", "mulaw.flavor=audioop")
    html = (out / "index.html").read_text()
    names = list_quantizers("audio")
    assert len(names) >= 3
    for name in names:
        assert (out / "tone" / name / "decoded.wav").exists(), name
        assert f"id='tone-{name}'" in html
    assert '"flavor": "audioop"' in (out / "tone" / "mulaw" / "metrics.json").read_text()
    assert '"flavor": "itu"' in (out / "tone" / "alaw" / "metrics.json").read_text()


def test_qualified_and_bad_parameters(tmp_path):
    out, _ = _listen(tmp_path, "-c", "mulaw", "-c", "alaw", "-p", "alaw.flavor=libsndfile")
    assert '"flavor": "libsndfile"' in (out / "tone" / "alaw" / "metrics.json").read_text()
    assert '"flavor": "itu"' in (out / "tone" / "mulaw" / "metrics.json").read_text()
    out, _ = _listen(tmp_path, "-c", "mulaw", "-c", "alaw", "-p", "flavor=audioop")  # every codec declaring it
    assert '"flavor": "audioop"' in (out / "tone" / "alaw" / "metrics.json").read_text()
    assert '"flavor": "audioop"' in (out / "tone" / "mulaw" / "metrics.json").read_text()
    inputs = [str(p) for p in _inputs(tmp_path)]
    for extra, needle in [
        (["-c", "mulaw", "-p", "alaw.flavor=itu"], "names codec 'alaw', which is not selected"),
        (["-c", "mulaw", "-p", "speed=3"], "parameter 'speed' is not declared by any selected codec (mulaw: flavor)"),
        (["-c", "mulaw", "-p", "flavor=turbo"], "flavor='turbo'"),
        (["-c", "vorbis"], "unknown codec 'vorbis'"),
    ]:
        res = CliRunner().invoke(cli, ["listen", *inputs, *extra, "-o", str(tmp_path / "bad")])
        assert res.exit_code == 1 and needle in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1
        assert not (tmp_path / "bad").exists()


def test_demo_on_a_samples_folder_and_bundled_samples(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    sf.write(samples / "a.wav", np.zeros(800, np.int16), 8000)
    res = CliRunner().invoke(cli, ["demo", "--samples", str(samples), "-o", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1] == str((tmp_path / "demo" / "index.html").resolve())
    res = CliRunner().invoke(cli, ["demo", "--samples", str(tmp_path / "none"), "-o", str(tmp_path / "d2")])
    assert res.exit_code == 1 and "no sample files" in res.output
    bundled = sorted((REPO / "audio_samples").glob("*.wav"))
    assert [p.name for p in bundled] == ["music_44k.wav", "speech_8k.wav"]
    assert sum(p.stat().st_size for p in bundled) < 600_000
    speech, music = sf.info(bundled[1]), sf.info(bundled[0])
    assert (speech.samplerate, speech.channels, speech.subtype) == (8000, 1, "PCM_16") and 2 <= speech.duration <= 3
    assert (music.samplerate, music.channels, music.subtype) == (44100, 2, "PCM_16") and music.duration == 2.0


def test_stft_matches_scipy_spectrogram():
    x = np.random.default_rng(1).normal(size=3000)
    f, t, s = spectrogram(x, fs=8000, window="hann", nperseg=256, noverlap=192, detrend=False, scaling="density")
    f2, t2, s2 = stft_psd(x, 8000, 256)
    assert np.allclose(f, f2) and np.allclose(t, t2) and np.allclose(s, s2, rtol=1e-10, atol=0)


# -- headless Chromium -------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


class _Server:
    """Serve a directory on 127.0.0.1 in a thread, recording every request's status."""

    def __init__(self, root: Path) -> None:
        self.requests: list[tuple[str, int]] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                server.requests.append((self.path, int(code)))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/index.html"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _chromium(binary: str, url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=15000", *extra, url],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_page_in_headless_chromium(tmp_path, require_tool):
    chromium = require_tool("chromium")
    out, _ = _listen(tmp_path, "-c", "mulaw", "-c", "alaw", "-c", "delta")
    html_audio = tags((out / "index.html").read_text(), "audio")
    server = _Server(out)
    with server as url:
        run = _chromium(chromium, url, tmp_path / "profile", "--dump-dom")
        shot = _chromium(chromium, url, tmp_path / "profile2", f"--screenshot={tmp_path / 'page.png'}",
                         "--window-size=1280,1800", "--hide-scrollbars")
    assert run.returncode == 0, run.stderr[-2000:]
    assert all(code in (200, 206, 304) for _, code in server.requests), server.requests
    requested = {path.lstrip("/") for path, _ in server.requests}
    assert {a["src"] for a in html_audio} <= requested  # Chromium fetched every WAV
    dom_audio = tags(run.stdout, "audio")
    assert len(dom_audio) == len(html_audio) == 2 * (1 + 3 * 3)
    assert [a.get("data-status") for a in dom_audio] == ["ok"] * len(dom_audio), dom_audio
    status = [a for a in tags(run.stdout, "p") if a.get("id") == "audio-status"]
    assert status and status[0]["data-status"] == "ok"
    assert status[0]["data-ok"] == status[0]["data-total"] == str(len(dom_audio))
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # the page logs nothing: any console line is an error or a warning
    assert shot.returncode == 0 and (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"


def test_chromium_check_detects_a_broken_wav(tmp_path, require_tool):
    chromium = require_tool("chromium")
    out, _ = _listen(tmp_path, "-c", "alaw")
    (out / "tone" / "alaw" / "residual.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunk")
    with _Server(out) as url:
        run = _chromium(chromium, url, tmp_path / "profile", "--dump-dom")
    statuses = {a["src"]: a.get("data-status") for a in tags(run.stdout, "audio")}
    assert statuses.pop("tone/alaw/residual.wav") == "error"
    assert set(statuses.values()) == {"ok"}
    status = [a for a in tags(run.stdout, "p") if a.get("id") == "audio-status"][0]
    assert status["data-status"] == "error"


class _FakeTerminal:
    def __init__(self) -> None:
        self.text = []

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.text.append(s)
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_only_on_a_terminal(tmp_path, monkeypatch):
    from inwhale_hw.cli import listen_cmd

    inputs = [str(p) for p in _inputs(tmp_path)]
    res = CliRunner().invoke(cli, ["listen", *inputs, "-c", "alaw", "-o", str(tmp_path / "a")])
    assert res.exit_code == 0 and "ETA" not in res.output  # not a terminal: no bar
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    from inwhale_hw.cli.progress import Progress

    with Progress().task("tone.wav: cvsd", 4) as tick:
        for _ in range(4):
            tick(1)
    drawn = "".join(terminal.text)
    assert "tone.wav: cvsd" in drawn and "4/4" in drawn
    assert not Progress(quiet=True).enabled


@pytest.mark.parametrize("n, channels, columns", [(30000, 1, 4000), (30000, 2, 37), (100, 1, 4000)])
def test_spectrogram_accumulator_block_by_block(n, channels, columns):
    from inwhale_hw.listen.spectrogram import SpectrogramAccumulator

    rng = np.random.default_rng(n)
    x = rng.integers(-20000, 20000, (n, channels)).astype(np.int16)
    mono = x.astype(np.float64).mean(axis=1) / 32768.0
    f, t, whole = stft_psd(mono, 8000, SpectrogramAccumulator(8000, n).nperseg)
    acc = SpectrogramAccumulator(8000, n, max_columns=columns)
    at = 0
    while at < n:
        step = int(rng.integers(1, 5000))
        acc.update(x[at : at + step])
        at += step
    f2, t2, psd = acc.result()
    assert np.array_equal(f, f2) and psd.shape[1] == acc.columns <= columns
    g = acc.group
    expected = np.stack([whole[:, k : k + g].mean(axis=1) for k in range(0, whole.shape[1], g)], axis=1)
    assert np.allclose(psd, expected, rtol=1e-12, atol=0)
    if g == 1:
        assert np.allclose(t, t2)


def test_codec_at_another_rate_is_compared_at_the_input_rate(tmp_path):
    import json

    out, _ = _listen(tmp_path, "-c", "cvsd", "-c", "mulaw")
    record = json.loads((out / "tone" / "cvsd" / "metrics.json").read_text())
    assert record["rate"] == 8000 and record["codec_rate"] == 64000 and "input's rate" in record["compared_at"]
    assert sf.info(str(out / "tone" / "cvsd" / "decoded.wav")).samplerate == 8000
    assert sf.info(str(out / "tone" / "cvsd" / "residual.wav")).frames == 2400
    html = (out / "index.html").read_text()
    assert "cvsd codes at 64000 Hz" in html and "compare at 8000 Hz" in html
    res = CliRunner().invoke(cli, ["roundtrip", str(tmp_path / "tone.wav"), "-c", "cvsd", "--out-dir", str(tmp_path / "rt")])
    assert res.exit_code == 0 and "cvsd codes 64000 Hz input; resampling from 8000 Hz" in res.output
