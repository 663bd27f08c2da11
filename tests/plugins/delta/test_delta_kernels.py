"""The numba delta-modulation encoder gives the bits of the Python loop (INWHALE_HW_NUMBA=0 path)."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.plugins.delta import kernels
from inwhale_hw.plugins.delta.model import encode_channel


@pytest.mark.parametrize("step", [1, 512, 32767])
def test_kernel_equals_the_python_loop(step):
    if not kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    rng = np.random.default_rng(step)
    x = np.clip(np.cumsum(rng.normal(0, 900, 30000)), -32768, 32767).astype(np.int16)
    x[1000:1500] = 32767
    x[2000:2500] = -32768
    for start in (0, 32767, -32768, 123):
        c1, r1, y1 = encode_channel(x.tolist(), start, step)
        c2, r2, y2 = kernels.encode_channel(x, start, step)
        assert (list(c2), list(r2), y2) == (c1, r1, y1)


def test_model_is_the_same_with_and_without_kernel(monkeypatch):
    rng = np.random.default_rng(4)
    x = np.clip(np.cumsum(rng.normal(0, 900, (20000, 2)), axis=0), -32768, 32767).astype(np.int16)
    codes, recon = get_quantizer("delta").encode_with_reconstruction(x)
    monkeypatch.setattr(kernels, "ENABLED", False)
    slow_codes, slow_recon = get_quantizer("delta").encode_with_reconstruction(x)
    np.testing.assert_array_equal(slow_codes, codes)
    np.testing.assert_array_equal(slow_recon, recon)
