"""Optional numba kernel for the linear delta-modulation encoder (the ``numba`` extra).

The loop of :func:`.model.encode_channel` on int64 arrays, compiled with ``cache=True``: code 1
and ``y += D`` when ``x >= y``, else code 0 and ``y -= D``, ``y`` saturated to int16 (all
values stay within int16 +- 32767, so int64 is exact).  The decoder is a vectorized saturating
scan and needs no kernel.  ``INWHALE_HW_NUMBA=0`` forces the Python loop.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ENABLED", "encode_channel"]

try:  # pragma: no branch - depends on the environment
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

ENABLED = numba is not None and os.environ.get("INWHALE_HW_NUMBA", "1").strip() not in ("0", "false", "no", "off")

if numba is not None:

    @numba.njit(cache=True, nogil=True)
    def encode_kernel(xs, y, step):
        codes = np.empty(xs.size, np.int64)
        recon = np.empty(xs.size, np.int64)
        for t in range(xs.size):
            if xs[t] >= y:
                y += step
                if y > 32767:
                    y = 32767
                codes[t] = 1
            else:
                y -= step
                if y < -32768:
                    y = -32768
                codes[t] = 0
            recon[t] = y
        return codes, recon, y


def encode_channel(xs: np.ndarray, y: int, step: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Compiled :func:`.model.encode_channel`: (codes, reconstruction, last y)."""
    codes, recon, y = encode_kernel(np.ascontiguousarray(xs, dtype=np.int64), y, step)
    return codes, recon, int(y)
