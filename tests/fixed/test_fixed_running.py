"""Compiled running sums (inwhale_hw.fixed.running) against its NumPy path and Python ints.

The reference is a scalar loop in Python integers written from the stated recurrence
(``S_0 = policy(c)``, ``S_{k+1} = policy(S_k + a b)``, overflow = some unclamped value outside
the range, peak over the exact partial sums).  The compiled kernel is run in each of its
arithmetic types (float32, float64, int64) wherever :func:`compute_dtype` allows it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from inwhale_hw.fixed import running

needs_numba = pytest.mark.skipif(not running.ENABLED, reason="numba (optional extra) not installed or disabled")
DTYPES = (np.float32, np.float64, np.int64)


def _reference(a, b, c, rows, bits, mode):
    """(state, overflowed, peak) per output of the rows, in Python ints."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def policy(t):
        if lo <= t <= hi:
            return t
        return (hi if t > hi else lo) if mode == "sat" else 0

    state, over, peak = [], [], []
    for i in rows:
        srow, orow, prow = [], [], []
        for j in range(b.shape[1]):
            exact = int(c[i, j])
            flag = not lo <= exact <= hi
            top = abs(exact)
            s = policy(exact)
            for k in range(a.shape[1]):
                p = int(a[i, k]) * int(b[k, j])
                exact += p
                top = max(top, abs(exact))
                flag |= not lo <= s + p <= hi
                s = policy(s + p)
            srow.append(s)
            orow.append(flag)
            prow.append(top)
        state.append(srow)
        over.append(orow)
        peak.append(prow)
    return state, over, peak


def _range(bits):
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _check_all_paths(a, b, c, rows, bits, mode, track):
    expected = _reference(a, b, c, rows, bits, mode)
    state, over, peak = running.running_rows_numpy(a, b, c, rows, *_range(bits), mode, track)
    assert state.tolist() == expected[0] and over.tolist() == expected[1]
    assert (peak.tolist() == expected[2]) if track else peak is None
    if not running.ENABLED:
        return 0
    a_max = int(np.abs(a.astype(np.int64)).max(initial=0))
    b_max = int(np.abs(b.astype(np.int64)).max(initial=0))
    c_max = int(np.abs(c.astype(np.int64)).max(initial=0))
    bound = c_max + a.shape[1] * a_max * b_max
    narrowest = running.compute_dtype(bound, a_max * b_max, c_max, 1 << (bits - 1), track)
    ran = 0
    for dtype in DTYPES[DTYPES.index(narrowest):]:
        state, over, peak = running.running_rows(a, b, c, rows, *_range(bits), mode, track, dtype)
        assert state.dtype == np.int64
        assert state.tolist() == expected[0], dtype
        assert over.tolist() == expected[1], dtype
        assert (peak.tolist() == expected[2]) if track else peak is None
        ran += 1
    return ran


@pytest.mark.parametrize("mode", running.MODES)
@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("bits", [8, 12, 16])
def test_random_rows_match_python_ints(mode, track, bits):
    rng = np.random.default_rng(bits * 7 + track)
    a = rng.integers(-128, 128, (9, 33)).astype(np.int8)
    b = rng.integers(-255, 256, (33, 21)).astype(np.int16)
    c = rng.integers(-(1 << bits), 1 << bits, (9, 21))
    rows = np.array([0, 3, 4, 8])
    ran = _check_all_paths(a, b, c, rows, bits, mode, track)
    assert ran >= 1 or not running.ENABLED


@pytest.mark.parametrize("mode", running.MODES)
def test_rails_and_exact_boundaries(mode):
    # 8-bit register [-128, 127]; each column walks a partial sum onto or just past a limit
    a = np.array([[127, 1, -1, -128, 127], [-128, -128, 127, 127, -1]], dtype=np.int8)
    b = np.array(
        [[1, 1, -1, 0, 1, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, -1, 0], [0, 0, 0, 0, 0, 0]],
        dtype=np.int8,
    ).astype(np.int16)
    c = np.array([[0, 0, -1, 0, 0, 127], [-1, 0, 0, 1, 0, -128]])
    ran = _check_all_paths(a, b, c, np.array([0, 1]), 8, mode, True)
    assert ran >= 1 or not running.ENABLED
    state, over, _ = running.running_rows_numpy(a, b, c, np.array([0]), -128, 127, mode, False)
    # column 0: 0 + 127 = 127 exactly at the top: no overflow; column 1: 127 + 1 = 128 overflows
    assert over[0, 0] == False and over[0, 1] == True  # noqa: E712 - numpy bools
    assert state[0, 0] == 127 and state[0, 1] == (127 if mode == "sat" else 0)
    # column 2: -1 - 127 = -128 exactly at the bottom; column 5: 127 - 1 stays in range
    assert over[0, 2] == False and state[0, 2] == -128  # noqa: E712
    assert over[0, 5] == False and state[0, 5] == 127 - 1  # noqa: E712


def test_start_value_outside_the_range_is_an_overflow():
    a = np.zeros((1, 2), dtype=np.int8)
    b = np.zeros((2, 2), dtype=np.int8)
    c = np.array([[200, -129]])
    for mode, expected in (("sat", [[127, -128]]), ("zero", [[0, 0]])):
        assert _check_all_paths(a, b, c, np.array([0]), 8, mode, True) >= 1 or not running.ENABLED
        state, over, _ = running.running_rows_numpy(a, b, c, np.array([0]), -128, 127, mode, False)
        assert state.tolist() == expected and over.all()


@pytest.mark.parametrize("bits", [20, 40, 62])
def test_wide_operands_use_wider_arithmetic(bits):
    rng = np.random.default_rng(bits)
    a = rng.integers(-(1 << 20), 1 << 20, (3, 17))
    b = rng.integers(-(1 << 20), 1 << 20, (17, 18))
    c = rng.integers(-(1 << 30), 1 << 30, (3, 18))
    for mode in running.MODES:
        for track in (False, True):
            _check_all_paths(a, b, c, np.arange(3), bits, mode, track)


def test_compute_dtype_boundaries():
    # clamped steps: 2^(w-1) + max|a b|; with track also the exact bound
    assert running.compute_dtype(10**9, 1 << 14, 0, 1 << 17, False) is np.float32
    assert running.compute_dtype(10**9, 1 << 14, 0, 1 << 17, True) is np.float64
    assert running.compute_dtype(1 << 24, (1 << 23), 0, 1 << 23, True) is np.float32
    assert running.compute_dtype(1 << 24, (1 << 23) + 1, 0, 1 << 23, False) is np.float64
    assert running.compute_dtype(1 << 24, 1, (1 << 24) + 1, 1 << 7, False) is np.float64
    assert running.compute_dtype(1 << 60, 1 << 60, 0, 1 << 39, True) is np.int64
    assert running.compute_dtype(1 << 62, 1 << 62, 0, 1 << 63, False) is None


@needs_numba
def test_rows_split_over_threads_match_one_thread(monkeypatch):
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (64, 300)).astype(np.int8)
    b = rng.integers(-128, 128, (300, 700)).astype(np.int8)
    c = np.zeros((64, 700), dtype=np.int64)
    rows = np.arange(1, 64, 2)
    many = running.running_rows(a, b, c, rows, *_range(17), "sat", False, np.float32)  # above the serial limit
    monkeypatch.setattr(running, "_WORKERS", 1)
    one = running.running_rows(a, b, c, rows, *_range(17), "sat", False, np.float32)
    ref = running.running_rows_numpy(a, b, c, rows, *_range(17), "sat", False)
    for x, y, z in zip(many[:2], one[:2], ref[:2]):
        assert np.array_equal(x, y) and np.array_equal(x, z)
    assert many[1].any() and not many[1].all()


def test_environment_variable_forces_numpy():
    code = "from inwhale_hw.fixed import running; print(running.ENABLED)"
    env = dict(os.environ, INWHALE_HW_NUMBA="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@needs_numba
@pytest.mark.parametrize("mode", running.MODES)
def test_batched_products_with_few_columns_run_transposed(mode):
    # 8 columns < TILE: each product runs as b^T a^T, with a^T copied by the blocked transposer
    # (a has >= 2^16 elements); the risky mask selects the columns run, the rest is untouched
    rng = np.random.default_rng(21)
    a3 = rng.integers(-128, 128, (2, 2100, 40)).astype(np.int16)
    b3 = rng.integers(-128, 128, (1, 40, 8)).astype(np.int8)
    c3 = np.broadcast_to(rng.integers(-2000, 2000, (1, 1, 8)), (2, 2100, 8))
    risky = np.zeros((2, 2100, 8), dtype=bool)
    risky[0, :, 3] = True
    risky[1, 5, :] = True
    lo, hi = _range(15)
    values = np.full((2, 2100, 8), -7, dtype=np.int64)
    over, peak = running.running_products(a3, b3, c3, risky, values, lo, hi, mode, True, np.float32)
    expected = [running.running_rows_numpy(a3[g], b3[0], c3[g], np.arange(2100), lo, hi, mode, True) for g in (0, 1)]
    assert np.array_equal(values[0][:, 3], expected[0][0][:, 3]) and np.array_equal(values[1], expected[1][0])
    assert np.array_equal(over[0][:, 3], expected[0][1][:, 3]) and np.array_equal(over[1], expected[1][1])
    assert (values[0][:, [0, 1, 2, 4, 5, 6, 7]] == -7).all() and not over[0][:, [0, 1, 2, 4, 5, 6, 7]].any()
    assert peak == max(int(expected[0][2][:, 3].max()), int(expected[1][2].max()))
    assert over.any() and not over[1].all()
