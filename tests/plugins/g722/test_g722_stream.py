"""G.722 streaming (any chunking = one call), the plain-Python kernels = the numba ones, stereo,
odd lengths, registry and bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.plugins.g722 import G722


def _pcm(n, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    base = 8000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 3000, n)
    if channels is None:
        return np.clip(base, -32768, 32767).astype(np.int16)
    cols = [np.clip(base * (c + 1) / channels + rng.normal(0, 500, n), -32768, 32767) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.int16)


@pytest.mark.parametrize("channels", [None, 2])
def test_any_chunking_gives_one_call_bits(channels):
    pcm = _pcm(4001, channels)
    codec = G722(bitrate=56000)
    whole = codec.encode(pcm)
    assert whole.shape[0] == 2001  # the odd last sample is paired with a zero
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, pcm.shape[0]), 40, replace=False))
    enc = codec.encoder()
    parts = [enc.encode(chunk) for chunk in np.split(pcm, cuts)]
    np.testing.assert_array_equal(np.concatenate(parts + [enc.flush()]), whole)
    decoded = codec.decode(whole)
    dec = codec.decoder()
    parts = [dec.decode(chunk) for chunk in np.split(whole, [1, 7, 8, 500, 1999])]
    np.testing.assert_array_equal(np.concatenate(parts + [dec.flush()]), decoded)
    assert decoded.shape[0] == 2 * whole.shape[0]


def test_channels_are_independent_streams():
    pcm = _pcm(3000, 2)
    codec = G722()
    both = codec.encode(pcm)
    for ch in range(2):
        np.testing.assert_array_equal(both[:, ch], codec.encode(pcm[:, ch].copy()))


def test_plain_python_path_gives_the_numba_bits():
    pytest.importorskip("numba")
    pcm = _pcm(1200, seed=4)
    script = (
        "import sys, numpy as np; from inwhale_hw.plugins.g722 import kernels as k, G722; "
        "pcm = np.frombuffer(sys.stdin.buffer.read(), dtype='<i2'); c = G722().encode(pcm); "
        "sys.stdout.buffer.write(bytes([k.ENABLED]) + c.tobytes() + G722(bitrate=48000).decode(c).tobytes())"
    )
    outs = {}
    for flag in ("0", "1"):
        env = dict(os.environ, INWHALE_HW_NUMBA=flag)
        outs[flag] = subprocess.run([sys.executable, "-c", script], input=pcm.tobytes(), env=env,
                                    capture_output=True, check=True).stdout
    assert outs["0"][0] == 0 and outs["1"][0] == 1
    assert outs["0"][1:] == outs["1"][1:] and len(outs["0"]) == 1 + 600 + 2400


def test_registered_with_alias():
    assert isinstance(get_quantizer("g722"), G722)
    assert type(get_quantizer("g.722", bitrate=48000)).__name__ == "G722"
    assert G722(bitrate=48000).bits_per_sample == 3.0
    assert G722().required_rate == 16000


def test_bad_input_is_typed():
    with pytest.raises(ParameterError, match="bitrate"):
        G722(bitrate=32000)
    with pytest.raises(InputError):
        G722().decode(np.array([256, 3]))
    with pytest.raises(InputError):
        G722().encode(np.array([40000, 0]))
