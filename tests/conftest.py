"""Shared fixtures: external tools skip locally but fail under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """Path of the external program ``name``; skip (locally) or fail (CI=true) when absent."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package installed by .ci/run)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _fresh_plugin_host():
    """Each test sees plugins loaded from scratch, unaffected by earlier tests."""
    from inwhale_hw.host import reset_host

    reset_host()
    yield
    reset_host()
