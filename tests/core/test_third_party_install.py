"""Install the example plugin and a broken one as real distributions and use them by name.

Both are copied to a temporary directory (pip's build writes into the source tree) and installed
with pip into a temporary ``--target`` directory (not into the test environment), then a fresh
interpreter with that directory on PYTHONPATH is asked what it sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "third_party_plugin"
BROKEN = Path(__file__).resolve().parent / "data" / "broken_plugin"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    sources = tmp_path_factory.mktemp("src")
    for project in (EXAMPLE, BROKEN):
        project = Path(shutil.copytree(project, sources / project.name, ignore=shutil.ignore_patterns("build", "*.egg-info")))
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
             "--disable-pip-version-check", "--target", str(target), str(project)],
            check=True, capture_output=True, text=True,
        )
    return target


def _run(site: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("INWHALE_HW_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("INWHALE_HW_STRICT_PLUGINS", None)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=check)


def test_example_plugin_listed_with_distribution(site):
    out = _run(site, "-m", "inwhale_hw", "plugins", "--json").stdout
    plugins = {p["name"]: p for p in json.loads(out)}
    bitcrush = plugins["bitcrush"]
    assert bitcrush["available"] and not bitcrush["builtin"]
    assert (bitcrush["distribution"], bitcrush["version"]) == ("inwhale-hw-bitcrush", "0.1.0")
    assert [q["name"] for q in bitcrush["quantizers"]] == ["bitcrush"]
    assert bitcrush["quantizers"][0]["aliases"] == ["crush"]


def test_broken_plugins_unavailable_and_everything_else_works(site):
    out = _run(site, "-m", "inwhale_hw", "plugins", "--json").stdout
    plugins = {p["name"]: p for p in json.loads(out)}
    assert not plugins["broken_import"]["available"]
    assert "not_installed_anywhere" in plugins["broken_import"]["error"]
    duplicate = plugins["duplicate_name"]
    assert not duplicate["available"]
    assert "'uniform'" in duplicate["error"] and "inwhale_hw.plugins.tensor" in duplicate["error"]
    builtins_ok = [p for p in plugins.values() if p["builtin"]]
    assert builtins_ok and all(p["available"] for p in builtins_ok)

    text = _run(site, "-m", "inwhale_hw", "plugins").stdout
    assert "Unavailable plugins:" in text
    assert "broken_import" in text.split("Unavailable plugins:")[1]


def test_example_usable_by_name_and_passes_conformance(site):
    code = (
        "import numpy as np, inwhale_hw\n"
        "from inwhale_hw.testing import check_quantizer\n"
        "q = inwhale_hw.get_quantizer('crush', bits='4')\n"
        "x = np.array([-32768, -2049, 0, 2048, 32767], dtype=np.int16)\n"
        "print(q.decode(q.encode(x)).tolist(), sep='')\n"
        "print(len(check_quantizer(type(q), {'bits': 4}).checks))\n"
        "print(inwhale_hw.get_quantizer('uniform').name)\n"
    )
    lines = _run(site, "-c", code).stdout.splitlines()
    # 4 bits keep round_half_up(x / 4096), saturated to [-8, 7]
    assert lines[0] == "[-32768, -4096, 0, 4096, 28672]"
    assert int(lines[1]) > 5
    assert lines[2] == "uniform"


def test_example_hardware_verifies_by_name(site):
    out = _run(site, "-m", "inwhale_hw", "verify", "crush", "--block", "decoder", "-p", "bits=6",
               "--simulator", "amaranth").stdout
    assert "64 vectors checked, 0 mismatches" in out


@pytest.mark.slow
def test_example_plugin_own_tests_pass_with_check_hardware(site):
    result = _run(site, "-m", "pytest", str(EXAMPLE / "tests"), "-q", "-p", "no:cacheprovider",
                  "--rootdir", str(EXAMPLE), check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "15 passed" in result.stdout


def test_info_for_the_example_plugin(site):
    out = _run(site, "-m", "inwhale_hw", "info", "bitcrush").stdout
    assert "plugin:       bitcrush" in out
    assert "bits: int in [1, 16], default 8" in out


def test_strict_mode_fails_loudly_with_broken_plugin(site):
    env_code = "import os; os.environ['INWHALE_HW_STRICT_PLUGINS']='1'; import inwhale_hw; inwhale_hw.list_quantizers()"
    result = _run(site, "-c", env_code, check=False)
    assert result.returncode != 0
    assert "PluginLoadError" in result.stderr
