"""IMA ADPCM WAV with the ``libsndfile`` method: the whole file equals libsndfile's writer.

Reference: libsndfile's own IMA ADPCM writer (``soundfile.write(..., subtype="IMA_ADPCM")``),
mono and stereo, 8/16/44.1/48 kHz, lengths that end mid-block, exactly on a block and inside
the first block.  The one field that differs by design is ``fact``: libsndfile stores the
padded frame count (halved in stereo), we store the exact count -- checked explicitly.
Also: the last partial block is padded with zeros in the default method (no held-DC tail).
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw.audio import coded
from inwhale_hw.audio.pcm import Audio


def _fact_at(blob: bytes) -> int:
    return blob.index(b"fact") + 8


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_libsndfile_method_is_byte_identical_to_libsndfile(channels, rate):
    q = coded.make_codec("ima-adpcm", {"encoder": "libsndfile"})
    rng = np.random.default_rng(rate + channels)
    spb = (coded.make_codec("ima-adpcm").wav_encoder(rate, channels)[1]).samples_per_block
    for n in (1, 1001, 5003, 3 * spb, 3 * spb + 7):
        x = rng.normal(0, 5000, (n, channels)).clip(-32768, 32767).astype(np.int16)
        ref = io.BytesIO()
        sf.write(ref, x, rate, format="WAV", subtype="IMA_ADPCM")
        theirs = ref.getvalue()
        ours, _ = coded.encode_to_bytes(Audio(x, rate), q, "wav")
        at = _fact_at(ours)
        assert struct.unpack_from("<I", ours, at)[0] == n
        blocks = -(-n // spb)
        assert struct.unpack_from("<I", theirs, at)[0] == blocks * spb // channels  # libsndfile's rule
        assert ours[:at] + theirs[at : at + 4] + ours[at + 4 :] == theirs, (n, channels, rate)


def test_default_method_pads_the_last_block_with_zeros(tmp_path):
    x = np.full((300, 1), 12000, dtype=np.int16)  # a DC level: a repeated last sample would hold it
    path = tmp_path / "dc.wav"
    path.write_bytes(coded.encode_to_bytes(Audio(x, 8000), coded.make_codec("ima-adpcm"), "wav")[0])
    blob = path.read_bytes()
    data = blob[blob.index(b"data") + 8 :]
    from inwhale_hw.plugins.adpcm.wav import decode_payload

    padded, _ = decode_payload(data, 1, 256, None)  # every frame the blocks hold, as a player ignoring fact
    assert len(padded) > 300 and np.abs(padded[-40:]).max() < 2000
