"""Locating the ITU-T STL G.726 code and Appendix II vectors, and building the STL coder.

The STL lives in ``shared/itu-stl`` next to the repository (``<repo>/../shared``) or where
``INWHALE_HW_SHARED`` points.  Missing: skip locally, fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

__all__ = ["g726_dir", "read_vector", "build_stl", "run_stl", "HOMING_LENGTH"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[3]
#: the homing sequences pcm_init.* and i_ini_* hold 3496 samples; the files carry padding after
HOMING_LENGTH = 3496


def _missing(message: str):
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def g726_dir() -> Path:
    """``shared/itu-stl/src/g726``."""
    root = Path(os.environ.get("INWHALE_HW_SHARED", REPO.parent / "shared"))
    path = root / "itu-stl" / "src" / "g726"
    if not (path / "g726.c").is_file():
        _missing(f"the ITU-T STL G.726 code is not at {path} (set INWHALE_HW_SHARED to the shared/ folder)")
    return path


def read_vector(name: str) -> np.ndarray:
    """One Appendix II vector (16-bit little-endian words) as int64."""
    return np.fromfile(g726_dir() / "test_data" / name, dtype="<u2").astype(np.int64)


_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "g726.h"
/* usage: drv enc|dec law(0 u, 1 A) rate-bits < words > words  (raw 16-bit words, one call) */
int main(int argc, char **argv) {
  static short in[1 << 20], out[1 << 20];
  G726_state st;
  char law = argv[2][0];
  long n = fread(in, sizeof(short), 1 << 20, stdin);
  if (argv[1][0] == 'e') G726_encode(in, out, n, &law, (short) atoi(argv[3]), 1, &st);
  else G726_decode(in, out, n, &law, (short) atoi(argv[3]), 1, &st);
  fwrite(out, sizeof(short), n, stdout);
  return 0;
}
"""


def build_stl(tmp: Path) -> Path:
    """Compile g726.c with a one-call driver using the system C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        _missing("no C compiler (cc) to build the STL G.726 reference")
    src = g726_dir()
    (tmp / "drv.c").write_text(_DRIVER)
    exe = tmp / "g726ref"
    subprocess.run([cc, "-O1", "-w", "-I", str(src), str(tmp / "drv.c"), str(src / "g726.c"), "-o", str(exe)], check=True)
    return exe


def run_stl(exe: Path, mode: str, law: str, bits: int, words: np.ndarray) -> np.ndarray:
    """Run the STL encoder or decoder from reset over ``words``."""
    law_char = {"ulaw": "0", "alaw": "1"}[law]
    out = subprocess.run([str(exe), mode, law_char, str(bits)], input=words.astype("<i2").tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.int64)
