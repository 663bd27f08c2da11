"""shift-only requantization at the int32 rails with large left shifts: no int64 wrap."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.nn.profiles import shift_only
from inwhale_hw.nn.requant import shift_round_half_up


def _exact(acc: int, k: int, zp: int, lo: int, hi: int) -> int:
    value = (acc + (1 << (k - 1))) >> k if k > 0 else acc << -k
    return min(max(value + zp, lo), hi)


@pytest.mark.parametrize("k", [-40, -33, -32, -31, -1, 0, 1, 31, 40])
@pytest.mark.parametrize("zp", [-128, -5, 0, 7, 127])
def test_shift_only_matches_python_ints_at_the_rails(k, zp):
    acc = np.array([-(2**31), -(2**31) + 1, -1, 0, 1, 2**31 - 1], dtype=np.int64)
    scale = 2.0**-k
    got = shift_only(acc, scale, 1.0, 1.0, zero_point=zp, dtype=np.int8)
    expected = [_exact(int(a), k, zp, -128, 127) for a in acc]
    assert got.tolist() == expected


def test_left_shift_saturates_instead_of_wrapping():
    x = np.array([-(2**31), 2**31 - 1, 3, 0], dtype=np.int64)
    got = shift_round_half_up(x, np.int64(-40))
    rail = 2**62
    assert got.tolist() == [-rail, rail, 3 << 40, 0]
