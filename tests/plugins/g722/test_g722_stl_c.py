"""G.722 against the ITU-T STL C code (src/g722: g722.c, funcg722.c) compiled with ``cc``.

The shared STL copy lacks its basic-operator library (src/basop), so ``stl_basop_shim.h`` stands
in for ``stl.h`` (the STL2005 operator definitions; test-only).  ``stl_g722_driver.c`` calls
``g722_encode`` / ``g722_decode`` sample pair by sample pair.  Signals include rails and
full-scale noise, which drive the QMF's LIMIT and the basic operators' saturation.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from inwhale_hw.plugins.g722 import G722

HERE = Path(__file__).parent


_BUILT: dict[str, Path] = {}


@pytest.fixture
def stl_driver(stl_g722, require_tool, tmp_path_factory):
    """The compiled driver (built once per session)."""
    cc = require_tool("cc")
    if "exe" not in _BUILT:
        build = tmp_path_factory.mktemp("stl_g722")
        shutil.copy(HERE / "stl_basop_shim.h", build / "stl.h")
        exe = build / "g722drv"
        subprocess.run(
            [cc, "-O1", "-w", f"-I{build}", f"-I{stl_g722}", "-o", str(exe), str(HERE / "stl_g722_driver.c"),
             str(stl_g722 / "g722.c"), str(stl_g722 / "funcg722.c")],
            check=True, capture_output=True,
        )
        _BUILT["exe"] = exe
    return _BUILT["exe"]


def _run(exe, args, data: bytes) -> bytes:
    return subprocess.run([str(exe), *args], input=data, capture_output=True, check=True).stdout


def _signals():
    rng = np.random.default_rng(191)
    n = 16000 * 3
    t = np.arange(n) / 16000
    speechy = 9000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + rng.normal(0, 800, n)
    rails = np.repeat(rng.choice([-32768, 32767, 0, -1, 1], n // 40), 40)
    noise = rng.integers(-32768, 32768, n)
    return {"speechy": speechy, "rails": rails, "noise": noise}


@pytest.mark.parametrize("name", ["speechy", "rails", "noise"])
def test_encode_and_decode_match_stl_c(stl_driver, name):
    pcm = np.clip(_signals()[name], -32768, 32767).astype("<i2")
    codes = np.frombuffer(_run(stl_driver, ["e"], pcm.tobytes()), dtype=np.uint8)
    np.testing.assert_array_equal(G722().encode(pcm), codes)
    for bitrate, mode in ((64000, 1), (56000, 2), (48000, 3)):
        theirs = np.frombuffer(_run(stl_driver, ["d", str(mode)], codes.tobytes()), dtype="<i2")
        np.testing.assert_array_equal(G722(bitrate=bitrate).decode(codes), theirs)


def test_random_codes_decode_like_stl_c(stl_driver):
    codes = np.random.default_rng(3).integers(0, 256, 30000).astype(np.uint8)
    for bitrate, mode in ((64000, 1), (56000, 2), (48000, 3)):
        theirs = np.frombuffer(_run(stl_driver, ["d", str(mode)], codes.tobytes()), dtype="<i2")
        np.testing.assert_array_equal(G722(bitrate=bitrate).decode(codes), theirs)
