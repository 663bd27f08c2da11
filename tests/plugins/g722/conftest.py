"""Where the ITU-T STL lives: ``$INWHALE_HW_SHARED/itu-stl`` or ``<repo>/../shared/itu-stl``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def find_stl_g722() -> Path:
    """The STL's src/g722 directory; skips locally, fails under CI=true when absent."""
    roots = [Path(os.environ["INWHALE_HW_SHARED"])] if os.environ.get("INWHALE_HW_SHARED") else []
    roots.append(Path(__file__).resolve().parents[3].parent / "shared")
    for root in roots:
        path = root / "itu-stl" / "src" / "g722"
        if (path / "test_data" / "inpsp.bin").is_file():
            return path
    message = f"ITU-T STL not found under {', '.join(map(str, roots))} (set INWHALE_HW_SHARED)"
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


@pytest.fixture
def stl_g722() -> Path:
    """The STL's src/g722 directory (see :func:`find_stl_g722`)."""
    return find_stl_g722()
