"""The R x C MAC array (hdl/mac_array.py): per-clock traces against the accumulator model,
whole tiles against nn.matmul, exact Python ints, and exact arithmetic on decoded weights."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment

from inwhale_hw import get_quantizer, nn
from inwhale_hw.plugins.accel_blocks.hardware import MacBlocks
from inwhale_hw.plugins.accel_blocks.golden import array_trace
from inwhale_hw.plugins.accel_blocks.vectors import array_vectors
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl.mac_array import MacArray
from inwhale_hw.hdlsim import run_amaranth, run_icarus, verify


def tile_inputs(a: np.ndarray, b: np.ndarray, bias: np.ndarray, clear_first: bool = True) -> dict[str, np.ndarray]:
    """Clocks that apply column k of ``a`` and row k of ``b``, ``clear`` on the first."""
    k = a.shape[1]
    inputs = {"clear": np.r_[int(clear_first), np.zeros(k - 1, dtype=np.int64)], "accumulate": np.ones(k, dtype=np.int64)}
    inputs |= {f"a__{r}": a[r] for r in range(a.shape[0])}
    inputs |= {f"b__{c}": b[:, c] for c in range(b.shape[1])}
    inputs |= {f"bias__{c}": np.full(k, bias[c]) for c in range(b.shape[1])}
    return inputs


def concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def tile(outputs: dict[str, np.ndarray], rows: int, cols: int, clock: int, name: str = "acc") -> np.ndarray:
    return np.array([[outputs[f"{name}__{r}__{c}"][clock] for c in range(cols)] for r in range(rows)])


def test_golden_trace_equals_python_int_pes():
    rows, cols, acc_bits = 2, 3, 14
    v = array_vectors(rows, cols, acc_bits, count=1500, seed=4)
    out = array_trace(v, rows, cols, acc_bits, "sat")
    lo, hi = -(1 << 13), (1 << 13) - 1
    for r in range(rows):
        for c in range(cols):
            acc, flag, seen, flags = 0, 0, [], []
            for x, w, bias, clear, accumulate in zip(v[f"a__{r}"].tolist(), v[f"b__{c}"].tolist(),
                                                     v[f"bias__{c}"].tolist(), v["clear"].tolist(),
                                                     v["accumulate"].tolist()):
                acc, flag = (bias, 0) if clear else (acc, flag)
                if accumulate:
                    s = acc + x * w
                    flag |= not lo <= s <= hi
                    acc = min(max(s, lo), hi)
                seen.append(acc)
                flags.append(flag)
            assert out[f"acc__{r}__{c}"].tolist() == seen
            assert out[f"overflowed__{r}__{c}"].tolist() == flags
    assert any(out[f"overflowed__{r}__{c}"].any() for r in range(rows) for c in range(cols))


def test_amaranth_random_tiles_and_rails():
    report = verify(MacBlocks(rows=2, cols=2, acc_bits=18, overflow="sat"), "array", count=1200, seed=1)
    assert report.ok, report


@pytest.mark.parametrize("params, pipeline", [
    ({"rows": 3, "cols": 4, "acc_bits": 32, "overflow": "wrap"}, 0),
    ({"rows": 2, "cols": 2, "acc_bits": 16, "overflow": "wrap", "weights": "pow2", "bits": 5}, 1),
    ({"rows": 2, "cols": 3, "acc_bits": 20, "overflow": "sat", "weights": "apot", "bits": 4}, 0),
])
def test_icarus_random_tiles_and_rails(params, pipeline, require_tool):
    require_tool("iverilog")
    report = verify(MacBlocks(**params), "array", simulator="icarus", hw={"pipeline": pipeline}, count=3000, seed=2)
    assert report.ok, report


@pytest.mark.parametrize("simulator", ["amaranth", "icarus"])
@pytest.mark.parametrize("overflow", ["wrap", "sat"])
def test_tiles_equal_nn_matmul(simulator, overflow, require_tool):
    """Y = bias + A @ B for several tiles, and a second K-chunk accumulated without clear."""
    runner = run_amaranth
    if simulator == "icarus":
        require_tool("iverilog")
        runner = run_icarus
    rng = np.random.default_rng(5)
    rows, cols, acc_bits = 3, 2, 20
    tiles, parts = [], []
    for k in (1, 7, 40, 64):
        a = np.where(rng.random((rows, k)) < 0.3, -128, rng.integers(-128, 128, (rows, k)))
        b = np.where(rng.random((k, cols)) < 0.3, -128, rng.integers(-128, 128, (k, cols)))
        bias = rng.integers(-(1 << 19), 1 << 19, cols)
        if k == 64:  # 40 products of -128 * -128 pass the 20-bit rail
            a[:, :40], b[:40], bias[:] = -128, -128, 0
        tiles.append((a, b, bias))
        parts.append(tile_inputs(a, b, bias))
    a2 = rng.integers(-128, 128, (rows, 9))
    b2 = rng.integers(-128, 128, (9, cols))
    parts.append(tile_inputs(a2, b2, np.zeros(cols, dtype=np.int64), clear_first=False))
    run = runner(MacArray(rows, cols, acc_bits, overflow), concat(*parts))
    ends = np.cumsum([len(p["clear"]) for p in parts]) - 1
    for (a, b, bias), end in zip(tiles, ends):
        result = nn.matmul(a, b, bias[None, :], acc_bits=acc_bits, overflow=overflow)
        np.testing.assert_array_equal(tile(run.outputs, rows, cols, end), result.values)
        if overflow == "wrap":  # modular: the wrapped exact sum, in Python ints
            exact = [[int(bias[c]) + sum(int(x) * int(w) for x, w in zip(a[r], b[:, c])) for c in range(cols)]
                     for r in range(rows)]
            wrapped = [[(v + (1 << 19)) % (1 << 20) - (1 << 19) for v in row] for row in exact]
            assert tile(run.outputs, rows, cols, end).tolist() == wrapped
    a, b, bias = tiles[-1]
    chained = nn.matmul(np.hstack([a, a2]), np.vstack([b, b2]), bias[None, :], acc_bits=acc_bits, overflow=overflow)
    np.testing.assert_array_equal(tile(run.outputs, rows, cols, ends[-1]), chained.values)
    assert tile(run.outputs, rows, cols, ends[3], "overflowed").all()


def test_pow2_tile_is_the_product_with_the_decoded_weights(require_tool):
    """x * decode(code) summed over a tile == 2^e_min * Y, exactly (wide accumulator)."""
    require_tool("iverilog")
    rng = np.random.default_rng(6)
    q = get_quantizer("pow2", bits=4)
    weights = rng.normal(0, 0.3, (16, 3))
    codes = q.encode(weights)
    a = rng.integers(-128, 128, (2, 16))
    run = run_icarus(MacArray(2, 3, 32, "wrap", weights="pow2", bits=4),
                     tile_inputs(a, codes.astype(np.int64), np.zeros(3, dtype=np.int64)))
    y = tile(run.outputs, 2, 3, 15)
    np.testing.assert_array_equal(y * 2.0 ** q.min_exponent, a @ q.decode(codes))
    assert np.abs(y).max() > 0


@pytest.mark.parametrize("kwargs, quoted", [
    ({"rows": 0}, "rows=0"),
    ({"cols": 17}, "cols=17"),
    ({"weights": "int4"}, "weights='int4'"),
    ({"weights": "pow2", "bits": 7}, "bits=7"),
    ({"overflow": "clip"}, "overflow='clip'"),
])
def test_bad_construction_quotes_the_value(kwargs, quoted):
    with pytest.raises(ParameterError, match=quoted):
        MacArray(**kwargs)


def test_ports_and_latency():
    array = MacArray(2, 3, 24, weights="apot", bits=5, pipeline=1)
    Fragment.get(array, None)
    assert array.latency == 2
    assert (len(array.a), len(array.b), len(array.bias), len(array.acc), len(array.acc[0])) == (2, 3, 3, 2, 3)
    assert len(array.b[0]) == 5 and not array.b[0].shape().signed and len(array.acc[1][2]) == 24
