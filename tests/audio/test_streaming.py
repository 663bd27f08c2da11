"""Streaming = one call: block reading, resampling, coded writing and reading, for every codec.

References: the one-shot paths (``encode_to_bytes``, ``read_coded``), which the rest of the
suite checks against libsndfile, audioop and the ITU STL; ``scipy.signal.resample_poly``;
libsndfile (soundfile) for the PCM and RF64 files.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from inwhale_hw.audio import coded
from inwhale_hw.audio.coded_stream import CodedWriter, open_coded
from inwhale_hw.audio.pcm import Audio, read_audio
from inwhale_hw.audio.stream import PcmWriter, StreamResampler, open_audio, rebuffer
from inwhale_hw.audio import wav


def _random_blocks(x: np.ndarray, rng: np.random.Generator, largest: int):
    at = 0
    while at < len(x):
        size = int(rng.integers(1, largest))
        yield x[at : at + size]
        at += size


def _signal(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    tone = 9000 * np.sin(2 * np.pi * t * (0.013 + 0.007 * np.arange(channels)))
    return np.clip(tone + rng.normal(0, 1500, (n, channels)), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("src, dst", [(8000, 64000), (44100, 8000), (48000, 44100), (64000, 8000), (8000, 11025)])
def test_stream_resampler_equals_resample_poly(src, dst):
    rng = np.random.default_rng(src + dst)
    for _ in range(4):
        x = rng.standard_normal((int(rng.integers(1, 12000)), int(rng.integers(1, 3))))
        r = StreamResampler(src, dst, x.shape[1])
        parts = [r.push(b) for b in _random_blocks(x, rng, 3000)] + [r.flush()]
        g = np.gcd(src, dst)
        assert np.array_equal(np.concatenate(parts), resample_poly(x, dst // g, src // g, axis=0))


def test_rebuffer_gives_fixed_blocks():
    x = np.arange(1000)[:, None]
    out = list(rebuffer(iter([x[:3], x[3:700], x[700:]]), 128))
    assert [len(b) for b in out] == [128] * 7 + [104] and np.array_equal(np.concatenate(out), x)


@pytest.mark.parametrize("subtype, rate, dither", [("PCM_16", None, False), ("FLOAT", None, True), ("PCM_16", 11025, True)])
def test_block_reading_equals_one_call_for_any_block_size(tmp_path, subtype, rate, dither):
    x = _signal(20011, 2, 1)
    path = tmp_path / "in.wav"
    sf.write(path, x.astype(np.float64) / 32768 * (1.2 if subtype == "FLOAT" else 1), 16000, subtype=subtype)
    one = read_audio(path, rate=rate, dither=dither, seed=7)
    for block in (1000, 4096, 777):
        stream = open_audio(path, rate=rate, dither=dither, seed=7, block_frames=block)
        got = np.concatenate(list(stream.blocks()))
        assert np.array_equal(got, one.samples) and stream.frames == one.frames
        assert stream.conversion.saturated == one.conversion.saturated


CODEC_CASES = [
    ("mulaw", {}, ".wav"), ("alaw", {}, ".al"), ("mulaw", {}, ".iwc"), ("companding", {}, ".iwc"),
    ("ima-adpcm", {}, ".wav"), ("ima-adpcm", {"encoder": "libsndfile"}, ".wav"), ("ima-adpcm", {}, ".iwc"),
    ("dpcm", {}, ".iwc"), ("dpcm", {"bits": "3"}, ".iwc"), ("delta", {}, ".iwc"), ("cvsd", {}, ".iwc"),
]


@pytest.mark.parametrize("name, params, ext", CODEC_CASES)
@pytest.mark.parametrize("channels", [1, 2])
def test_coded_writer_and_reader_equal_one_call(tmp_path, name, params, ext, channels):
    q = coded.make_codec(name, params)
    rate = q.required_rate or 8000
    x = _signal(5003, channels, 3)
    audio = Audio(x, rate)
    blob, payload = coded.encode_to_bytes(audio, q, coded.container_of(tmp_path / f"a{ext}"))
    rng = np.random.default_rng(len(blob))
    path = tmp_path / f"s{ext}"
    with CodedWriter(path, q, rate, channels, len(x)) as writer:
        for block in _random_blocks(x, rng, 1500):  # sizes that split IMA blocks, bytes and states
            writer.write(block)
    assert path.read_bytes() == blob and writer.payload_bytes == payload
    raw = {"raw_channels": channels} if ext == ".al" else {}
    one = coded.read_coded(path, **raw).audio.samples
    reader = open_coded(path, **raw)
    for block in (8, 1000, 2047):
        assert np.array_equal(np.concatenate(list(reader.blocks(block))), one)
    assert reader.frames == len(one) == len(x)


def test_pcm_writer_writes_what_libsndfile_writes(tmp_path):
    x = _signal(3000, 2, 5)
    with PcmWriter(tmp_path / "a.wav", 8000, 2, len(x)) as out:
        for block in _random_blocks(x, np.random.default_rng(1), 900):
            out.write(block)
    sf.write(tmp_path / "b.wav", x, 8000, subtype="PCM_16")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_large_outputs_switch_to_rf64(tmp_path):
    x = _signal(100, 1, 6)
    with PcmWriter(tmp_path / "big.wav", 8000, 1, frames_hint=3 << 30) as out:
        out.write(x)
    assert (tmp_path / "big.wav").read_bytes()[:4] == b"RF64"
    back, _ = sf.read(tmp_path / "big.wav", dtype="int16")
    assert np.array_equal(back, x[:, 0])


def test_rf64_coded_header_is_read_back():
    header = wav.wav_header(7, 1, 8000, 1, 8, 5 << 30, 5 << 30)
    assert header[:4] == b"RF64"
    blob = header + b"\x55" * 64  # the data is cut short: the reader recovers what is there
    parsed = wav.read_wav(blob)
    assert parsed.fmt.format_tag == 7 and parsed.data == b"\x55" * 64
    assert parsed.fact_frames == 5 << 30 and parsed.missing_bytes == (5 << 30) - 64


@pytest.mark.parametrize("name, params", [("mulaw", {}), ("ima-adpcm", {}), ("dpcm", {"bits": "3"}), ("delta", {})])
def test_streaming_roundtrip_equals_the_one_call_roundtrip(tmp_path, name, params):
    import json

    from inwhale_hw.audio.pipeline import roundtrip_files
    from inwhale_hw.audio.roundtrip import run_roundtrip

    x = _signal(70001, 2, 8)  # more than one 2^16-frame block
    sf.write(tmp_path / "in.wav", x, 16000, subtype="PCM_16")
    q = coded.make_codec(name, params)
    one = run_roundtrip(read_audio(tmp_path / "in.wav"), q)
    (tmp_path / "out").mkdir()
    trip = roundtrip_files(lambda: open_audio(tmp_path / "in.wav", block_frames=9999), q, tmp_path / "out")
    decoded, _ = sf.read(tmp_path / "out" / "decoded.wav", dtype="int16", always_2d=True)
    residual, _ = sf.read(tmp_path / "out" / "residual.wav", dtype="int16", always_2d=True)
    assert np.array_equal(decoded, one.decoded.samples) and np.array_equal(residual, one.residual)
    assert (tmp_path / "out" / f"coded{coded.default_extension(q)}").read_bytes() == one.coded_bytes
    assert trip.gain == one.gain and trip.residual_saturated == one.residual_saturated
    ours, theirs = trip.metrics.to_dict(), one.metrics.to_dict()
    assert ours["segmental_snr_db"] == pytest.approx(theirs["segmental_snr_db"], abs=1e-9)
    assert ours["snr_db"] == pytest.approx(theirs["snr_db"], abs=1e-9)
    for key in ("max_abs_error", "error_histogram", "bitrate_bps", "payload_bitrate_bps", "segmental_snr_frame_samples"):
        assert ours[key] == theirs[key], key
    record = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert record["codec_rate"] == record["rate"] == 16000


@pytest.mark.parametrize("method", ["search", "libsndfile"])
def test_ima_wav_streaming_over_several_batches(tmp_path, method):
    from inwhale_hw.plugins.adpcm.wav_stream import BATCH_SAMPLES

    x = _signal(BATCH_SAMPLES + 77777, 2, 9)  # more than two coding batches, a partial last block
    q = coded.make_codec("ima-adpcm", {"encoder": method})
    blob, _ = coded.encode_to_bytes(Audio(x, 44100), q, "wav")
    with CodedWriter(tmp_path / "s.wav", q, 44100, 2, len(x)) as writer:
        for block in _random_blocks(x, np.random.default_rng(4), 90000):
            writer.write(block)
    assert (tmp_path / "s.wav").read_bytes() == blob
