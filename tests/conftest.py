"""Shared fixtures.

``require_tool("iverilog")`` returns the path of an external program; when it is missing the
test skips locally but fails under ``CI=true`` (``.ci/run`` installs every tool the suite uses).
"""

from __future__ import annotations

import os
import shutil
from typing import Callable

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (the Debian package is installed by .ci/run)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Function returning an external tool's path; skips locally, fails under CI=true if absent."""
    return _require_tool


@pytest.fixture(autouse=True)
def _fresh_plugin_host():
    """Each test sees plugins loaded from scratch, unaffected by earlier tests."""
    from inwhale_hw.host import reset_host

    reset_host()
    yield
    reset_host()
