"""inwhale_hw.compat.audioop.lin2adpcm / adpcm2lin against CPython 3.11's audioop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from inwhale_hw.compat import audioop as ours

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop as reference


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_bit_exact_with_random_states_and_lengths(width):
    rng = np.random.default_rng(width)
    for trial in range(120):
        n = int(rng.integers(0, 400))
        fragment = rng.integers(0, 256, n * width, dtype=np.uint8).tobytes()
        state = None if trial % 6 == 0 else (int(rng.integers(-32768, 32768)), int(rng.integers(0, 89)))
        assert ours.lin2adpcm(fragment, width, state) == reference.lin2adpcm(fragment, width, state)
        assert ours.adpcm2lin(fragment, width, state) == reference.adpcm2lin(fragment, width, state)


def test_odd_sample_count_drops_the_last_code_but_advances_the_state():
    x = np.array([0, 1000, -2000, 3000, 500], dtype=np.int16).tobytes()
    data, state = ours.lin2adpcm(x, 2, None)
    assert len(data) == 2
    assert (data, state) == reference.lin2adpcm(x, 2, None)
    assert state != ours.lin2adpcm(x[:-2], 2, None)[1]


def test_chained_calls_match():
    rng = np.random.default_rng(9)
    pcm = rng.integers(-20000, 20000, 3000).astype(np.int16).tobytes()
    s_ours = s_ref = None
    for a, b in ((0, 1000), (1000, 1002), (1002, 6000)):
        out_ours, s_ours = ours.lin2adpcm(pcm[a:b], 2, s_ours)
        out_ref, s_ref = reference.lin2adpcm(pcm[a:b], 2, s_ref)
        assert out_ours == out_ref and s_ours == s_ref
        back_ours, _ = ours.adpcm2lin(out_ours, 2, s_ours)
        assert back_ours == reference.adpcm2lin(out_ref, 2, s_ref)[0]


@pytest.mark.parametrize("function", ["lin2adpcm", "adpcm2lin"])
@pytest.mark.parametrize(
    "state,error",
    [
        ((0, 89), ValueError),
        ((32768, 0), ValueError),
        ((-32769, 0), ValueError),
        ((0, -1), ValueError),
        ([0, 0], TypeError),
        ((0,), TypeError),
        ((0, 0, 0), TypeError),
        ((0.5, 0), TypeError),
        ((2**40, 0), OverflowError),
    ],
)
def test_bad_states_raise_what_audioop_raises(function, state, error):
    with pytest.raises(error):
        getattr(reference, function)(b"\0\0", 2, state)
    with pytest.raises(error):
        getattr(ours, function)(b"\0\0", 2, state)


@pytest.mark.parametrize("function", ["lin2adpcm", "adpcm2lin"])
def test_bad_width_and_length(function):
    for width in (0, 5):
        with pytest.raises(reference.error):
            getattr(reference, function)(b"\0\0", width, None)
        with pytest.raises(ours.error, match=str(width)):
            getattr(ours, function)(b"\0\0", width, None)
    with pytest.raises(ours.error, match="3 bytes"):
        ours.lin2adpcm(b"\0\0\0", 2, None)
    with pytest.raises(TypeError):
        getattr(ours, function)("text", 2, None)
