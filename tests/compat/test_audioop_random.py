"""Seeded randomized comparison of every drop-in function with CPython 3.11's ``audioop``.

Fragments of every width mix uniform noise, the rails (min, max, -1, 0, 1), runs of equal
samples and smooth waves, with lengths from 0 to a few thousand samples; factors include
0, +-1, huge, tiny and non-finite values; ``ratecv`` runs with random rates, weights and
channel counts, chained over random splits of the input (state carried), and from random
valid states.  Every result (value and type) or exception type must equal audioop's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from inwhale_hw.compat import audioop as ours

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop as cpython

WIDTHS = (1, 2, 3, 4)
FACTORS = (0.0, 1.0, -1.0, 0.5, -0.5, 0.7, 1.5, 2.0, 1e-9, -3.3e-5, 1e12, -1e300, 0.9999999999, math.inf, -math.inf, math.nan, 3)


def _pack(values: np.ndarray, width: int) -> bytes:
    return b"".join(int(v).to_bytes(width, "little", signed=True) for v in values) if width == 3 else (
        values.astype({1: "<i1", 2: "<i2", 4: "<i4"}[width]).tobytes()
    )


def fragment(rng: np.random.Generator, width: int, n: int | None = None) -> bytes:
    lo, hi = -(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1
    n = int(rng.choice([0, 1, 2, 3, 5, 8, 64, 255, 1000, 3001])) if n is None else n
    kind = rng.integers(5)
    if kind == 0:
        values = rng.integers(lo, hi, n, endpoint=True)
    elif kind == 1:
        values = rng.choice([lo, hi, -1, 0, 1, lo + 1, hi - 1], n)
    elif kind == 2:
        values = np.repeat(rng.integers(lo, hi, n // 4 + 1, endpoint=True), 4)[:n]
    elif kind == 3:
        values = np.round(hi * 0.9 * np.sin(np.arange(n) * rng.uniform(0.001, 0.5))).astype(np.int64)
    else:
        values = rng.integers(-3, 4, n)
    data = _pack(np.asarray(values, dtype=np.int64), width)
    assert len(data) == n * width
    return data


def same(name: str, *args) -> None:
    try:
        expected = getattr(cpython, name)(*args)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        with pytest.raises(type(exc) if type(exc) is not cpython.error else ours.error):
            getattr(ours, name)(*args)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(ours, name)(*args)
    assert type(got) is type(expected), f"{name}{_show(args)}: type {type(got)} vs {type(expected)}"
    # repr: nan equals nan, and -0.0 differs from 0.0
    assert repr(got) == repr(expected), f"{name}{_show(args)}: {_show((got,))} vs audioop {_show((expected,))}"


def _show(args) -> str:
    return "(" + ", ".join(f"<{len(a)} bytes>" if isinstance(a, bytes) else repr(a) for a in args) + ")"


@pytest.mark.parametrize("width", WIDTHS)
def test_measuring_and_transforming_functions(width):
    rng = np.random.default_rng(100 + width)
    for _ in range(120):
        a = fragment(rng, width)
        b = fragment(rng, width, len(a) // width)
        for name in ("max", "minmax", "avg", "rms", "avgpp", "maxpp", "cross", "reverse", "byteswap",
                     "lin2ulaw", "lin2alaw", "ulaw2lin", "alaw2lin"):
            same(name, a, width)
        same("add", a, b, width)
        same("bias", a, width, int(rng.choice([0, 1, -1, 2**31 - 1, -(2**31), int(rng.integers(-(2**31), 2**31))])))
        for factor in rng.choice(np.array(FACTORS, dtype=object), 3):
            same("mul", a, width, factor)
            same("tostereo", a, width, factor, float(rng.choice(FACTORS)))
            same("tomono", a, width, factor, float(rng.choice(FACTORS)))
        for newwidth in WIDTHS:
            same("lin2lin", a, width, newwidth)
        if len(a):
            same("getsample", a, width, int(rng.integers(-1, len(a) // width + 1)))
        state = (int(rng.integers(-32768, 32768)), int(rng.integers(0, 89)))
        same("lin2adpcm", a, width, state)
        same("adpcm2lin", a[: len(a) // 2], width, state)


def test_sixteen_bit_matching_functions():
    rng = np.random.default_rng(7)
    for _ in range(150):
        a = fragment(rng, 2)
        r = fragment(rng, 2, int(rng.integers(0, len(a) // 2 + 2)))
        same("findfit", a, r)
        same("findmax", a, int(rng.integers(-1, len(a) // 2 + 2)))
        same("findfactor", a, fragment(rng, 2, len(a) // 2))
        same("findfactor", a, a)
    same("findfit", b"\0" * 40, b"\0" * 4)
    same("findfactor", b"\0\0", b"\0\0")


@pytest.mark.parametrize("width", WIDTHS)
def test_ratecv_chained_state_random_rates_weights_channels(width):
    rng = np.random.default_rng(200 + width)
    rates = (1, 2, 3, 7, 8000, 11025, 16000, 22050, 44100, 48000, 96000)
    for _ in range(60):
        channels = int(rng.integers(1, 4))
        inrate, outrate = (int(v) for v in rng.choice(rates, 2))
        frames = int(rng.choice([0, 1, 2, 5, 100, 1001]))
        while frames > 2 and frames * outrate > 20_000 * inrate:  # bounded output
            frames //= 10
        data = fragment(rng, width, frames * channels)
        weights = [] if rng.random() < 0.3 else [int(rng.integers(1, 50)), int(rng.choice([0, 1, 3, 10, 1000]))]
        whole = cpython.ratecv(data, width, channels, inrate, outrate, None, *weights)
        assert ours.ratecv(data, width, channels, inrate, outrate, None, *weights) == whole
        cuts = np.sort(rng.integers(0, frames + 1, int(rng.integers(1, 5)))) * width * channels
        state_a = state_b = None
        out_a, out_b = b"", b""
        for lo, hi in zip([0, *cuts], [*cuts, len(data)]):
            part_a, state_a = cpython.ratecv(data[lo:hi], width, channels, inrate, outrate, state_a, *weights)
            part_b, state_b = ours.ratecv(data[lo:hi], width, channels, inrate, outrate, state_b, *weights)
            assert (part_b, state_b) == (part_a, state_a)
            out_a, out_b = out_a + part_a, out_b + part_b
        assert out_b == out_a == whole[0] and state_b == whole[1]
        # a random state, as if the rates changed between calls (d from another ratio); d < 0:
        # from d >= 0 audioop writes past its output buffer (and aborts), the drop-in does not
        hi = (1 << 31) - 1
        state = (int(rng.integers(-2 * max(inrate, outrate), 0)),
                 tuple((int(rng.integers(-hi, hi)), int(rng.integers(-hi, hi))) for _ in range(channels)))
        same("ratecv", data, width, channels, inrate, outrate, state, *weights)


BAD_ARGS = [
    ("max", (b"abc", 2)), ("max", ("abcd", 2)), ("max", (b"ab", 2.0)), ("max", (b"ab", 2**40)),
    ("getsample", (b"ab", 2, 1)), ("getsample", (b"ab", 2, -1)), ("getsample", (b"ab", 2, 2**70)),
    ("mul", (b"ab", 2, "1")), ("mul", (b"ab", 2, None)), ("bias", (b"ab", 2, 2**31)), ("bias", (b"ab", 2, 1.0)),
    ("add", (b"ab", b"abcd", 2)), ("add", (b"abc", b"abc", 2)), ("tomono", (b"ab", 2, 1, 1)),
    ("lin2lin", (b"abc", 2, 3)), ("lin2lin", (b"ab", 2, 5)), ("lin2lin", (b"ab", 5, 2)),
    ("ratecv", (b"ab", 2, 0, 1, 1, None)), ("ratecv", (b"ab", 2, 1, 0, 1, None)), ("ratecv", (b"ab", 2, 1, 1, 1, None, 0)),
    ("ratecv", (b"ab", 2, 1, 1, 1, None, 1, -1)), ("ratecv", (b"ab", 2, 2**30, 1, 1, None)),
    ("ratecv", (b"ab", 2, 1, 1, 1, (0, ((0, 0), (0, 0))))), ("ratecv", (b"ab", 2, 1, 1, 1, (0, ((0,),)))),
    ("ratecv", (b"ab", 2, 1, 1, 1, [0, ((0, 0),)])), ("ratecv", (b"ab", 2, 1, 1, 1, (0, [(0, 0)]))),
    ("ratecv", (b"ab", 2, 1, 1, 1, (2**40, ((0, 0),)))), ("ratecv", (b"ab", 2, 1, 1, 1, (0, ((0, 0.5),)))),
    ("ratecv", (b"abc", 2, 1, 1, 1, None)), ("ratecv", (b"ab", 7, 1, 1, 1, None)),
    ("findfit", (b"abc", b"ab")), ("findfit", (b"ab", b"abcd")), ("findmax", (b"ab", 2)), ("findmax", (b"ab", -1)),
    ("findfactor", (b"ab", b"abcd")), ("findfactor", (b"abc", b"abc")),
    ("lin2adpcm", (b"ab", 2, (0, 89))), ("lin2adpcm", (b"ab", 2, (0,))), ("lin2adpcm", (b"ab", 2, [0, 0])),
    ("adpcm2lin", (b"ab", 2, (40000, 0))), ("adpcm2lin", (b"ab", 2, (2**40, 0))), ("adpcm2lin", (b"ab", 0, None)),
    ("ulaw2lin", (b"ab", 5)), ("lin2ulaw", (b"abc", 2)), ("byteswap", (b"abc", 2)), ("reverse", (b"abc", 4)),
]


@pytest.mark.parametrize(("name", "args"), BAD_ARGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_ARGS)])
def test_bad_arguments_raise_what_audioop_raises(name, args):
    with pytest.raises(Exception) as real:
        getattr(cpython, name)(*args)
    expected = ours.error if real.type is cpython.error else real.type
    with pytest.raises(expected):
        getattr(ours, name)(*args)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy-fallback"])
def test_ratecv_prefilter_both_paths_equal_audioop(monkeypatch, compiled):
    from inwhale_hw.compat import _kernels

    if compiled and not _kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    monkeypatch.setattr(_kernels, "ENABLED", compiled)
    rng = np.random.default_rng(11)
    for width in WIDTHS:
        for weights in ((1, 1), (3, 1), (2, 7), (2**31 - 1, 2**31 - 2), (5, 2**30)):
            data = fragment(rng, width, 2 * 3000)
            state = (-3, ((int(rng.integers(-(2**31), 2**31)), int(rng.integers(-(2**31), 2**31))),) * 2)
            same("ratecv", data, width, 2, 44100, 16000, state, *weights)
            same("ratecv", data, width, 2, 8000, 8000, None, *weights)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy-fallback"])
def test_long_fragments_cross_block_boundaries_and_inexact_double_sums(monkeypatch, compiled):
    """Fragments longer than the drop-in's 65536-sample blocks (extrema, runs and sums carried
    across blocks) and 32-bit full-scale noise, where audioop's double sums round."""
    from inwhale_hw.compat import _kernels

    if compiled and not _kernels.ENABLED:
        pytest.skip("numba is not installed or INWHALE_HW_NUMBA=0")
    monkeypatch.setattr(_kernels, "ENABLED", compiled)
    rng = np.random.default_rng(3)
    n = 200_003
    shapes = (
        rng.integers(-3, 4, n),
        np.repeat(rng.integers(-100, 100, n // 50 + 1), 50)[:n],
        np.round(1000 * np.sin(np.arange(n) * 0.0001)),
    )
    for values in shapes:
        for width in (1, 2, 4):
            data = _pack(np.asarray(values, dtype=np.int64) << (8 * width - 8), width)
            for name in ("avgpp", "maxpp", "rms", "avg", "cross", "max", "minmax"):
                same(name, data, width)
    noise = rng.integers(-(2**31), 2**31, 3 * 10**6).astype(np.int32).tobytes()
    rails = np.tile(np.array([-(2**31), 2**31 - 1], dtype=np.int32), 3 * 10**6 // 2)
    rails[::7] = rng.integers(-(2**31), 2**31, rails[::7].size)  # swing sums above 2**53: rounded doubles
    for data in (noise, rails.tobytes()):
        for name in ("avgpp", "maxpp", "rms", "avg"):
            same(name, data, 4)
