"""Outputs appear whole or not at all: missing directories, write errors, re-runs, signals, ENOSPC.

Kill tests run the real console script in a subprocess and send SIGTERM while it works; afterwards
no temporary (``.*.iwtmp-<pid>-*``) and no partial output may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw.audio.atomic import TEMP_PATTERN, atomic_path, remove_stale_temps
from inwhale_hw.cli import cli
from inwhale_hw.errors import OutputError

CLI = [sys.executable, "-m", "inwhale_hw"]


def _wav(path: Path, seconds: float = 0.5, rate: int = 8000, channels: int = 1) -> Path:
    rng = np.random.default_rng(1)
    n = int(seconds * rate)
    x = (np.sin(np.arange(n) * 0.05)[:, None] * 9000 + rng.normal(0, 500, (n, channels))).astype(np.int16)
    sf.write(str(path), x, rate, subtype="PCM_16")
    return path


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if TEMP_PATTERN.match(p.name)]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["encode", "decode", "roundtrip", "listen"])
def test_missing_output_directory_is_refused_naming_it(tmp_path, command):
    src = _wav(tmp_path / "in.wav")
    coded = tmp_path / "in.ul"
    assert _run("encode", str(src), "-c", "mulaw", "-o", str(coded))[0] == 0
    missing = tmp_path / "nonexistent_dir"
    args = {
        "encode": ["encode", str(src), "-c", "mulaw", "-o", str(missing / "x.wav")],
        "decode": ["decode", str(coded), "-o", str(missing / "x.wav")],
        "roundtrip": ["roundtrip", str(src), "-c", "mulaw", "--out-dir", str(missing / "sub")],
        "listen": ["listen", str(src), "-c", "mulaw", "-o", str(missing / "page")],
    }[command]
    code, out = _run(*args)
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1 and f"directory {missing} does not exist" in lines[0], out
    assert not missing.exists()


def test_out_dir_may_create_its_final_directory(tmp_path):
    src = _wav(tmp_path / "in.wav")
    code, out = _run("roundtrip", str(src), "-c", "mulaw", "--out-dir", str(tmp_path / "new"))
    assert code == 0, out
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        "coded.wav", "decoded.wav", "metrics.json", "residual.wav"
    ]
    assert _temps(tmp_path) == []


def test_write_error_names_the_users_path_not_the_temporary(tmp_path):
    src = _wav(tmp_path / "in.wav")
    code, out = _run("encode", str(src), "-c", "mulaw", "-o", "/sys/x.wav")
    assert code == 1
    assert "/sys/x.wav: cannot write" in out and "iwtmp" not in out and len(out.strip().splitlines()) == 1


def test_listen_rerun_replaces_the_page_without_stale_codec_folders(tmp_path):
    src = _wav(tmp_path / "in.wav")
    page = tmp_path / "page"
    assert _run("listen", str(src), "-c", "mulaw", "-c", "alaw", "-o", str(page))[0] == 0
    assert (page / "in" / "alaw").is_dir()
    assert _run("listen", str(src), "-c", "mulaw", "-o", str(page))[0] == 0
    assert sorted(p.name for p in (page / "in").iterdir() if p.is_dir()) == ["mulaw"]
    assert _temps(tmp_path) == []


def test_foreign_directory_is_not_replaced(tmp_path):
    src = _wav(tmp_path / "in.wav")
    (tmp_path / "mine").mkdir()
    keep = tmp_path / "mine" / "thesis.tex"
    keep.write_text("precious")
    for args in (["listen", str(src), "-c", "mulaw", "-o"], ["roundtrip", str(src), "-c", "mulaw", "--out-dir"]):
        code, out = _run(*args, str(tmp_path / "mine"))
        assert code == 1 and "did not write" in out
    assert keep.read_text() == "precious"


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_file = tmp_path / f".x.iwtmp-{dead.pid}-abc123.tmp.wav"
    stale_dir = tmp_path / f".page.iwtmp-{dead.pid}-def456.tmpdir"
    live_file = tmp_path / f".y.iwtmp-{os.getpid()}-ghi789.tmp.wav"
    foreign = tmp_path / ".x.something.tmp.wav"
    for p in (stale_file, live_file, foreign):
        p.write_bytes(b"x")
    stale_dir.mkdir()
    (stale_dir / "index.html").write_text("partial")
    with atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("done")
    assert not stale_file.exists() and not stale_dir.exists()
    assert live_file.exists() and foreign.exists() and (tmp_path / "out.txt").read_text() == "done"
    assert remove_stale_temps(tmp_path) == []


def test_atomic_path_body_failure_leaves_destination_untouched(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(dest) as tmp:
            tmp.write_bytes(b"new, partial")
            raise KeyboardInterrupt
    assert dest.read_bytes() == b"old" and _temps(tmp_path) == []
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_path(tmp_path / "no" / "a.bin"):
            pass


def _long_input(tmp_path: Path) -> Path:
    return _wav(tmp_path / "long.wav", seconds=120, rate=44100, channels=2)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 60.0) -> bool:
    """SIGTERM ``proc`` as soon as ``ready()``; True if it was still running then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            return True
        time.sleep(0.005)
    proc.wait(timeout=60)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("command", ["roundtrip", "listen"])
def test_sigterm_during_directory_build_leaves_nothing(tmp_path, command):
    src = _long_input(tmp_path)
    out = tmp_path / "out"
    args = {
        "roundtrip": ["roundtrip", str(src), "-c", "ima-adpcm", "--out-dir", str(out)],
        "listen": ["listen", str(src), "-c", "mulaw", "-c", "ima-adpcm", "-o", str(out)],
    }[command]
    proc = subprocess.Popen(CLI + args, cwd=tmp_path, stderr=subprocess.PIPE)
    killed = _kill_when(proc, lambda: any(".out.iwtmp-" in p.name for p in tmp_path.iterdir()))
    assert killed, "the command finished before its temporary directory was seen"
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr.read()
    assert not out.exists()
    assert _temps(tmp_path) == []


@pytest.mark.slow
def test_sigterm_during_encode_leaves_no_temporary(tmp_path):
    """Signals at several moments: each run either completed or left neither output nor temporary."""
    src = _long_input(tmp_path)
    out = tmp_path / "out.wav"
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen(CLI + ["encode", str(src), "-c", "ima-adpcm", "-o", str(out)], cwd=tmp_path)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert _temps(tmp_path) == []
        if proc.returncode != 0:
            # -SIGTERM: the signal came before the handler was installed (start-up) or after the
            # output was renamed into place (shutdown); either way never a partial output
            assert proc.returncode in (128 + signal.SIGTERM, -signal.SIGTERM)
        if proc.returncode == 0 or (proc.returncode == -signal.SIGTERM and out.exists()):
            assert sf.info(str(out)).frames >= 120 * 44100  # complete (libsndfile counts the last block's padding)
            out.unlink()
        assert not out.exists()


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if sys.platform != "linux":
        pytest.skip("tmpfs mounting is Linux-only")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a 256 KiB tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("command", ["encode", "decode", "roundtrip", "listen"])
def test_enospc_leaves_no_partial_output(tmp_path, small_tmpfs, command):
    src = _wav(tmp_path / "in.wav", seconds=30, rate=16000)
    coded = tmp_path / "in.iwc"
    assert _run("encode", str(src), "-c", "dpcm", "-o", str(coded))[0] == 0
    args = {
        "encode": ["encode", str(src), "-c", "mulaw", "-o", str(small_tmpfs / "x.wav")],
        "decode": ["decode", str(coded), "-o", str(small_tmpfs / "x.wav")],
        "roundtrip": ["roundtrip", str(src), "-c", "mulaw", "--out-dir", str(small_tmpfs / "rt")],
        "listen": ["listen", str(src), "-c", "mulaw", "-o", str(small_tmpfs / "page")],
    }[command]
    code, out = _run(*args)
    assert code == 1 and "No space left on device" in out and len(out.strip().splitlines()) == 1, out
    assert list(small_tmpfs.iterdir()) == []
