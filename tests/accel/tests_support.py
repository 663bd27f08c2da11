"""Helpers of the accelerator tests: optional reference modules skip locally, fail under CI."""

from __future__ import annotations

import importlib.util
import os

import pytest

__all__ = ["need_module"]


def need_module(name: str, why: str) -> None:
    """Skip (locally) or fail (``CI=true``) when the reference module ``name`` is missing."""
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed: {why}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
