"""OKI ADPCM: any chunking = one call, plain-Python kernels = numba, packing, registry, bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import AudioFormatError, InputError, ParameterError
from inwhale_hw.plugins.oki import OkiAdpcm


def _pcm(n, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 900, (n, channels or 1)), axis=0)
    x = np.clip(x, -32768, 32767).astype(np.int16)
    return x[:, 0].copy() if channels is None else x


@pytest.mark.parametrize("flavor", ["standard", "libsndfile"])
@pytest.mark.parametrize("channels", [None, 2])
def test_any_chunking_gives_one_call_bits(flavor, channels):
    q = OkiAdpcm(flavor=flavor)
    pcm = _pcm(3001, channels)
    codes = q.encode(pcm)
    enc = q.encoder()
    parts = [enc.encode(c) for c in np.split(pcm, [1, 2, 100, 1500, 2999])] + [enc.flush()]
    np.testing.assert_array_equal(np.concatenate(parts), codes)
    dec = q.decoder()
    parts = [dec.decode(c) for c in np.split(codes, [3, 700, 701])] + [dec.flush()]
    np.testing.assert_array_equal(np.concatenate(parts), q.decode(codes))


def test_plain_python_path_gives_the_numba_bits():
    pytest.importorskip("numba")
    pcm = _pcm(2000, seed=3)
    script = (
        "import sys, numpy as np; from inwhale_hw.plugins.oki import kernels as k, OkiAdpcm; "
        "pcm = np.frombuffer(sys.stdin.buffer.read(), dtype='<i2'); out = bytes([k.ENABLED]); "
        "out += b''.join(OkiAdpcm(flavor=f).encode(pcm).tobytes() + OkiAdpcm(flavor=f).decode(np.arange(2000) % 16).tobytes() "
        "for f in ('standard', 'libsndfile')); sys.stdout.buffer.write(out)"
    )
    outs = {f: subprocess.run([sys.executable, "-c", script], input=pcm.tobytes(), capture_output=True, check=True,
                              env=dict(os.environ, INWHALE_HW_NUMBA=f)).stdout for f in ("0", "1")}
    assert outs["0"][0] == 0 and outs["1"][0] == 1 and outs["0"][1:] == outs["1"][1:]


def test_packing_and_registry():
    q = get_quantizer("vox")
    assert isinstance(q, OkiAdpcm)
    codes = np.array([1, 2, 15, 0, 7], dtype=np.uint8)
    assert q.pack_codes(codes) == bytes([0x12, 0xF0, 0x70])
    np.testing.assert_array_equal(q.unpack_codes(q.pack_codes(codes), 5, 1), codes)
    with pytest.raises(AudioFormatError):
        q.unpack_codes(b"\x00", 5, 1)


def test_bad_input_is_typed():
    with pytest.raises(ParameterError):
        OkiAdpcm(flavor="ima")
    with pytest.raises(InputError):
        OkiAdpcm().decode(np.array([16]))
