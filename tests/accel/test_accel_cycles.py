"""Cycle formulas against a cycle-by-cycle simulation of a systolic array (plain Python).

The simulation clocks an R x C grid: in cycle ``t`` processing element (i, j) works on stream
position ``s = t - i - j`` (operands skewed by row and column and passed one PE per cycle);
tiles follow each other in the stream, zero-padded at the edges.  It checks both the numbers
(the tiles' results equal ``A @ B``) and the cycle at which the last MAC happens.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from inwhale_hw.accel.cycles import mac_cycles, utilization, vector_cycles
from inwhale_hw.errors import ParameterError


def _tiles(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str):
    """Per tile, the (stream length, operand function) that PE (i, j) consumes."""
    m, k = a.shape
    n = b.shape[1]
    tiles = []
    if dataflow == "output-stationary":  # PE (i, j) owns C[m0 + i, n0 + j], stream over k
        for m0, n0 in itertools.product(range(0, m, rows), range(0, n, cols)):
            tiles.append((k, lambda i, j, s, m0=m0, n0=n0: (m0 + i, n0 + j, s)))
    else:  # weight-stationary: PE (i, j) holds W[k0 + i, n0 + j], stream over the rows m of A
        for k0, n0 in itertools.product(range(0, k, rows), range(0, n, cols)):
            tiles.append((m, lambda i, j, s, k0=k0, n0=n0: (s, n0 + j, k0 + i)))
    return tiles


def simulate_array(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str):
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    tiles = _tiles(a, b, rows, cols, dataflow)
    starts = np.cumsum([0] + [length for length, _ in tiles])
    total = int(starts[-1])
    last = -1
    for t in itertools.count():
        s_min = t - (rows - 1) - (cols - 1)
        if s_min >= total:
            break
        for i in range(rows):
            for j in range(cols):
                s = t - i - j
                if not 0 <= s < total:
                    continue
                tile = int(np.searchsorted(starts, s, side="right")) - 1
                row, col, kk = tiles[tile][1](i, j, s - int(starts[tile]))
                last = t  # the PE is clocked (zero-padded operands still flow)
                if row < m and col < n and kk < k:
                    out[row, col] += int(a[row, kk]) * int(b[kk, col])
    return out, last + 1


@pytest.mark.parametrize("dataflow", ["output-stationary", "weight-stationary"])
@pytest.mark.parametrize("m, k, n, rows, cols", [(5, 7, 3, 2, 2), (4, 3, 9, 3, 4), (1, 10, 10, 4, 4), (6, 1, 2, 2, 3)])
def test_formula_equals_cycle_simulation(dataflow, m, k, n, rows, cols):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.integers(-128, 128, (m, k))
    b = rng.integers(-128, 128, (k, n))
    out, cycles = simulate_array(a, b, rows, cols, dataflow)
    assert np.array_equal(out, a @ b)
    assert mac_cycles((1, m, n, k), rows, cols, dataflow) == cycles
    assert mac_cycles((3, m, n, k), rows, cols, dataflow) == 3 * (cycles - rows - cols + 2) + rows + cols - 2


def test_vector_cycles_utilization_and_errors():
    assert vector_cycles(0, 16) == 0 and vector_cycles(17, 16) == 2 and vector_cycles(16, 16) == 1
    assert mac_cycles((1, 0, 4, 4), 4, 4) == 0
    assert utilization(64 * 9, 9 + 6, 4, 4) == pytest.approx(576 / (15 * 16))
    with pytest.raises(ParameterError, match="row-stationary"):
        mac_cycles((1, 2, 2, 2), 2, 2, "row-stationary")
    with pytest.raises(ParameterError, match="lanes=0"):
        vector_cycles(5, 0)
