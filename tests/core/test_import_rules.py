"""scripts/check_imports.py: the package keeps its import rules, and the checker catches breaks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_imports.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_the_package_has_no_violations():
    result = _run()
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "0 import rule violation(s)" in result.stderr
    modules = int(result.stderr.split(" in ")[1].split()[0])
    assert modules > 100  # it really walked inwhale_hw/, plugins/ and hdl/


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def _check(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess:
    _write(tmp_path, {"core/__init__.py": "", "plugins/__init__.py": "", "hdl/__init__.py": "", **files})
    return _run("--map", f"inwhale_hw={tmp_path / 'core'}", "--map", f"inwhale_hw.plugins={tmp_path / 'plugins'}",
                "--map", f"inwhale_hw.hdl={tmp_path / 'hdl'}")


def test_a_clean_synthetic_package_passes(tmp_path):
    result = _check(tmp_path, {
        "core/a.py": "from . import b\nfrom .b import VALUE\n",
        "core/b.py": "VALUE = 1\n",
        "plugins/fam/__init__.py": "from .model import Model\n",
        "plugins/fam/model.py": "from inwhale_hw.hdl import comp\nfrom .tables import _TABLE\n",
        "plugins/fam/tables.py": "_TABLE = ()\n",
        "hdl/comp.py": "from inwhale_hw import b\n",
    })
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_cycles_are_caught_even_through_function_and_type_checking_imports(tmp_path):
    result = _check(tmp_path, {
        "core/a.py": "def f():\n    from .b import g\n    return g\n",
        "core/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n",
        "core/c.py": "import inwhale_hw.a\n",
    })
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines == ["cycle: inwhale_hw.a: inwhale_hw.a -> inwhale_hw.b -> inwhale_hw.c -> inwhale_hw.a"]


def test_private_names_and_modules_from_another_package_are_caught(tmp_path):
    result = _check(tmp_path, {
        "core/sub/__init__.py": "",
        "core/sub/_secret.py": "X = 1\n",
        "core/sub/impl.py": "_hidden = 1\n__dunder__ = 2\n",
        "core/sub/ok.py": "from .impl import _hidden\nfrom . import _secret\n",
        "core/user.py": "from .sub.impl import _hidden, __dunder__\nfrom inwhale_hw.sub import _secret\n",
    })
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "private: inwhale_hw.user: line 1: imports _hidden from inwhale_hw.sub.impl",
        "private: inwhale_hw.user: line 2: imports private module inwhale_hw.sub._secret",
    ]


def test_hdl_and_core_importing_plugins_are_caught(tmp_path):
    result = _check(tmp_path, {
        "plugins/fam/__init__.py": "",
        "plugins/fam/tables.py": "TABLE = ()\n",
        "hdl/comp.py": "def build():\n    from inwhale_hw.plugins.fam.tables import TABLE\n    return TABLE\n",
        "core/compat.py": "import inwhale_hw.plugins.fam.tables\n",
        "core/host.py": "import importlib\nimportlib.import_module('inwhale_hw.plugins.fam')\n",
    })
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "core-plugins: inwhale_hw.compat: line 1: imports inwhale_hw.plugins.fam.tables",
        "hdl-plugins: inwhale_hw.hdl.comp: line 2: imports inwhale_hw.plugins.fam.tables",
    ]
