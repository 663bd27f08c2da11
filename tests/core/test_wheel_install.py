"""A non-editable wheel works on its own: build it, install it into a fresh venv, run it elsewhere.

The repository is copied to a temporary directory (the build writes ``build/`` and egg-info
into the source tree), a wheel is built with ``pip wheel --no-deps`` (build isolation: pip
fetches setuptools from the index or its cache), and installed with ``--no-deps`` into a new
venv created with ``--system-site-packages`` so the dependencies come from the test
environment.  ``inwhale-hw demo`` and ``inwhale-hw verify ima-adpcm --block decoder`` then run
from a directory that is not the checkout: they need the bundled samples as package data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SKIP_COPY = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "demo-output")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = Path(shutil.copytree(ROOT, tmp_path_factory.mktemp("src") / "inwhale_hw", ignore=_SKIP_COPY))
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(dist), str(src)],
        capture_output=True, text=True,
    )
    if done.returncode:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-3000:]}")
    (built,) = dist.glob("inwhale_hw-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_the_samples_and_no_top_level_extras(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "inwhale_hw/audio_samples/speech_8k.wav" in names
    assert "inwhale_hw/audio_samples/music_44k.wav" in names
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"inwhale_hw"}


@pytest.mark.slow
def test_installed_wheel_runs_demo_and_verify_from_another_directory(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, text=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli = env_dir / "bin" / "inwhale-hw"
    where = subprocess.run([str(python), "-c", "import inwhale_hw; print(inwhale_hw.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in where and str(ROOT) not in where
    demo = subprocess.run([str(cli), "demo", "-o", "page", "-q"], cwd=elsewhere, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr
    assert "listening page for 2 sample(s)" in demo.stdout
    assert (elsewhere / "page" / "index.html").is_file() and (elsewhere / "page" / "speech_8k" / "original.wav").is_file()
    verify = subprocess.run([str(cli), "verify", "ima-adpcm", "--block", "decoder"], cwd=elsewhere,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr + verify.stdout
