"""MS-ADPCM streaming: any chunking gives the one-call bytes and samples; bad input is typed."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw import get_quantizer
from inwhale_hw.errors import AudioFormatError, InputError, ParameterError
from inwhale_hw.plugins.msadpcm import MsAdpcm
from inwhale_hw.plugins.msadpcm.wav import decode_payload, encode_payload
from inwhale_hw.plugins.msadpcm.tables import COEFS

from msadpcm_tools import signal


@pytest.mark.parametrize("method", ["search", "libsndfile"])
@pytest.mark.parametrize("channels", [1, 2])
def test_any_chunking_gives_one_call_bytes(method, channels):
    pcm = signal(5000, channels, seed=3)
    frames = pcm.reshape(len(pcm), -1)
    codec = MsAdpcm(method=method, trellis_nodes=4)
    whole, _ = encode_payload(frames.astype(np.int64), 256 * channels, codec.flavor, method, 4)
    enc = codec.encoder(rate=8000)
    cuts = np.sort(np.random.default_rng(channels).choice(np.arange(1, len(pcm)), 25, replace=False))
    parts = [enc.encode(chunk) for chunk in np.split(pcm, cuts)] + [enc.flush()]
    assert np.concatenate(parts).tobytes() == whole
    expected = decode_payload(whole, channels, 256 * channels, COEFS, "standard", None)
    dec = codec.decoder(channels=channels, rate=8000)
    data = np.frombuffer(whole, dtype=np.uint8)
    out = [dec.decode(chunk) for chunk in np.split(data, [1, 5, 300, 301, 2000])] + [dec.flush()]
    np.testing.assert_array_equal(np.concatenate(out).reshape(expected.shape), expected)
    with pytest.raises(InputError):
        dec.decode(data[:10])


def test_plain_encode_decode_roundtrip_and_registry():
    pcm = signal(3000, 1, seed=1)
    q = get_quantizer("ms-adpcm", block_size=256)
    out = q.decode(q.encode(pcm))
    assert out.shape[0] >= pcm.size and np.mean((out[: pcm.size] - pcm.astype(float)) ** 2) < np.mean(pcm.astype(float) ** 2) / 100


def test_bad_input_is_typed():
    with pytest.raises(ParameterError):
        MsAdpcm(method="sox")
    with pytest.raises(AudioFormatError, match="block align"):
        decode_payload(b"\0" * 20, 2, 13, COEFS, "standard", None)
    bad = bytearray(MsAdpcm(block_size=256).encode(signal(600, 1)).tobytes())
    bad[0] = 9
    with pytest.raises(AudioFormatError, match="predictor index 9"):
        decode_payload(bytes(bad), 1, 256, COEFS, "standard", None)


def test_plain_python_path_gives_the_numba_bits():
    pytest.importorskip("numba")
    import os
    import subprocess
    import sys

    pcm = signal(1200, 2, seed=9)
    script = (
        "import sys, numpy as np; from inwhale_hw.plugins.msadpcm import kernels as k, MsAdpcm; "
        "pcm = np.frombuffer(sys.stdin.buffer.read(), dtype='<i2').reshape(-1, 2); out = bytes([k.ENABLED]); "
        "out += b''.join(MsAdpcm(method=m, flavor=f, block_size=512, trellis_nodes=4).encode(pcm).tobytes() "
        "for m in ('search', 'libsndfile') for f in ('standard', 'ffmpeg')); "
        "c = MsAdpcm(block_size=512).encode(pcm); "
        "out += b''.join(MsAdpcm(flavor=f, block_size=512).decode(c).tobytes() for f in ('standard', 'ffmpeg')); "
        "sys.stdout.buffer.write(out)"
    )
    outs = {f: subprocess.run([sys.executable, "-c", script], input=pcm.tobytes(), capture_output=True, check=True,
                              env=dict(os.environ, INWHALE_HW_NUMBA=f)).stdout for f in ("0", "1")}
    assert outs["0"][0] == 0 and outs["1"][0] == 1 and outs["0"][1:] == outs["1"][1:]
    assert len(outs["0"]) > 1 + 4 * 1024
