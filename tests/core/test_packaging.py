"""Packaging: every package is listed, and the mapped directories refuse top-level import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {
    "plugins": "inwhale_hw.plugins", "hdl": "inwhale_hw.hdl", "audio_samples": "inwhale_hw.audio_samples",
    "inwhale_hw": "inwhale_hw",
}


def test_every_package_directory_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"] == {
        "inwhale_hw.plugins": "plugins", "inwhale_hw.hdl": "hdl", "inwhale_hw.audio_samples": "audio_samples"
    }
    found = set()
    for top, dotted in MAPPED.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((dotted, *rel)))
    assert found - listed == set(), "packages missing from [tool.setuptools] packages"
    assert listed - found == set(), "listed packages that do not exist"


@pytest.mark.parametrize("name", ["plugins", "hdl", "audio_samples"])
def test_top_level_import_from_repo_root_fails_clearly(name):
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"the package 'inwhale_hw.{name}', not '{name}'" in result.stderr


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "inwhale_hw", "--version"], capture_output=True, text=True)
    import inwhale_hw

    assert result.returncode == 0
    assert result.stdout.strip() == f"inwhale-hw, version {inwhale_hw.__version__}"
