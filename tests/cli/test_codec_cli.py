"""encode / decode / roundtrip through the click CLI: results checked with libsndfile, sox and
numpy recomputation; bad input gives one line, exit 1 and no output."""

from __future__ import annotations

import json
from fractions import Fraction
import subprocess

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from inwhale_hw import get_quantizer
from inwhale_hw.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _speechlike(path, rate=8000, seconds=0.5, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    x = 9000 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2 + rng.normal(0, 500, len(t))
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    pcm = np.stack([pcm, pcm[::-1]], axis=1) if channels == 2 else pcm
    sf.write(path, pcm, rate, subtype="PCM_16")
    return pcm


@pytest.mark.parametrize("law, subtype", [("mulaw", "ULAW"), ("alaw", "ALAW")])
def test_encode_libsndfile_flavor_writes_libsndfiles_file_and_decode_matches(tmp_path, law, subtype):
    pcm = _speechlike(tmp_path / "in.wav", channels=2)
    res = run("encode", tmp_path / "in.wav", "-c", law, "-p", "flavor=libsndfile", "-o", tmp_path / "out.wav")
    assert res.exit_code == 0, res.output
    sf.write(tmp_path / "ref.wav", pcm, 8000, subtype=subtype)
    assert (tmp_path / "out.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()
    res = run("decode", tmp_path / "out.wav", "-o", tmp_path / "dec.wav")
    assert res.exit_code == 0, res.output
    decoded, rate = sf.read(tmp_path / "dec.wav", dtype="int16")
    assert rate == 8000 and np.array_equal(decoded, sf.read(tmp_path / "ref.wav", dtype="int16")[0])


def test_raw_ul_decodes_like_sox(tmp_path, require_tool):
    sox = require_tool("sox")
    _speechlike(tmp_path / "in.wav")
    assert run("encode", tmp_path / "in.wav", "-c", "ulaw", "-o", tmp_path / "a.ul").exit_code == 0
    assert run("decode", tmp_path / "a.ul", "-o", tmp_path / "a.wav").exit_code == 0
    out = subprocess.run(
        [sox, "-t", "ul", "-r", "8000", "-c", "1", str(tmp_path / "a.ul"), "-t", "s16", "-"],
        check=True, capture_output=True,
    ).stdout
    assert np.array_equal(sf.read(tmp_path / "a.wav", dtype="int16")[0], np.frombuffer(out, "<i2"))


def test_encode_with_rate_resamples_first(tmp_path):
    _speechlike(tmp_path / "in.wav", rate=22050, seconds=0.3)
    res = run("encode", tmp_path / "in.wav", "-c", "alaw", "--rate", "8000", "-o", tmp_path / "o.wav")
    assert res.exit_code == 0, res.output
    info = sf.info(tmp_path / "o.wav")
    assert info.samplerate == 8000 and info.frames == round(0.3 * 8000)


def test_encode_any_codec_to_iwc_and_back(tmp_path):
    pcm = _speechlike(tmp_path / "in.wav")
    res = run("encode", tmp_path / "in.wav", "-c", "delta", "-p", "step=300", "-o", tmp_path / "d.iwc")
    assert res.exit_code == 0, res.output
    assert run("decode", tmp_path / "d.iwc", "-o", tmp_path / "d.wav").exit_code == 0
    q = get_quantizer("delta", step=300)
    assert np.array_equal(sf.read(tmp_path / "d.wav", dtype="int16")[0], q.decode(q.encode(pcm)))
    res = run("encode", tmp_path / "in.wav", "-c", "delta", "-o", tmp_path / "d.wav2.wav")
    assert res.exit_code == 1 and "no standard WAV format" in res.output


def test_roundtrip_writes_decoded_residual_and_metrics(tmp_path):
    pcm = _speechlike(tmp_path / "in.wav", channels=2)
    out = tmp_path / "rt"
    res = run("roundtrip", tmp_path / "in.wav", "-c", "mulaw", "-p", "flavor=audioop", "--out-dir", out)
    assert res.exit_code == 0, res.output
    decoded, _ = sf.read(out / "decoded.wav", dtype="int16")
    coded_ref, _ = sf.read(out / "coded.wav", dtype="int16")  # libsndfile decodes our coded file
    assert np.array_equal(decoded, coded_ref)
    record = json.loads((out / "metrics.json").read_text())
    gain = record["residual"]["gain"]
    r = pcm.astype(np.int64) - decoded.astype(np.int64)
    residual, _ = sf.read(out / "residual.wav", dtype="int16")
    assert np.array_equal(residual, np.clip(np.rint(r * gain), -32768, 32767))
    peak = int(np.abs(r).max())
    assert gain * peak <= 32767 < 2 * gain * peak  # the largest power of two that fits
    assert f"x{gain:g}" in res.output and "residual.wav" in res.output
    e = r.astype(np.float64)
    assert record["metrics"]["snr_db"] == pytest.approx(10 * np.log10(np.sum(pcm.astype(float) ** 2) / np.sum(e**2)))
    assert record["metrics"]["max_abs_error"] == peak
    assert record["params"] == {"flavor": "audioop"} and record["metrics"]["bitrate_bps"] == 8 * 8000 * 2
    res = run("roundtrip", tmp_path / "in.wav", "-c", "mulaw", "--residual-gain", "1", "--out-dir", tmp_path / "g1")
    assert res.exit_code == 0
    r_itu = pcm.astype(np.int64) - sf.read(tmp_path / "g1" / "decoded.wav", dtype="int16")[0]
    assert np.array_equal(sf.read(tmp_path / "g1" / "residual.wav", dtype="int16")[0], r_itu)
    assert json.loads((tmp_path / "g1" / "metrics.json").read_text())["residual"]["gain_mode"] == "fixed"


def test_float_input_saturation_is_warned(tmp_path):
    x = np.linspace(-1.2, 1.2, 801)
    sf.write(tmp_path / "f.wav", x, 8000, subtype="FLOAT")
    res = CliRunner().invoke(cli, ["encode", str(tmp_path / "f.wav"), "-c", "alaw", "-o", str(tmp_path / "o.al")])
    assert res.exit_code == 0
    stored = sf.read(tmp_path / "f.wav", dtype="float32")[0]
    expected = sum(not -32768 <= round(Fraction(float(v)) * 32768) <= 32767 for v in stored)
    assert expected > 0
    assert f"warning: {tmp_path / 'f.wav'}: {expected} sample(s) beyond int16 full scale were saturated" in res.output


def _bad_input_cases(tmp_path):
    _speechlike(tmp_path / "ok.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio at all\n" * 10)
    nan = np.zeros(100, np.float32)
    nan[42] = np.nan
    sf.write(tmp_path / "nan.wav", nan, 8000, subtype="FLOAT")
    (tmp_path / "weird.xyz").write_bytes(b"\x00\x01garbage" * 10)
    ok = tmp_path / "ok.wav"
    return [
        (["encode", ok, "-c", "opus", "-o", "OUT/x.wav"], ["unknown codec 'opus'", "available audio codecs:", "mulaw"]),
        (["encode", ok, "-c", "mulaw", "-p", "flavor=fast", "-o", "OUT/x.wav"], ["flavor='fast'", "'itu', 'audioop', 'libsndfile'"]),
        (["encode", ok, "-c", "alaw", "-p", "speed=2", "-o", "OUT/x.wav"], ["unknown parameter 'speed'", "allowed parameters: flavor"]),
        (["encode", ok, "-c", "alaw", "-p", "flavor", "-o", "OUT/x.wav"], ["'flavor'", "expected key=value"]),
        (["encode", tmp_path / "text.wav", "-c", "mulaw", "-o", "OUT/x.wav"], ["not an audio file", "readable containers:"]),
        (["encode", tmp_path / "empty.wav", "-c", "mulaw", "-o", "OUT/x.wav"], ["empty.wav", "empty (0 bytes)"]),
        (["encode", tmp_path / "nan.wav", "-c", "mulaw", "-o", "OUT/x.wav"], ["frame 42, channel 0 is nan", "must be finite"]),
        (["encode", ok, "-c", "mulaw", "-o", "OUT/x.mp3"], ["'.mp3'", "allowed: .wav", ".iwc"]),
        (["decode", tmp_path / "weird.xyz", "-o", "OUT/x.wav"], ["unsupported coded container", "allowed: RIFF/WAVE", "0x0007 mulaw"]),
        (["decode", ok, "-o", "OUT/x.wav"], ["plain format tag 0x0001 (PCM) WAV", "0x0006 alaw"]),
        (["decode", tmp_path / "empty.wav", "-o", "OUT/x.wav"], ["empty (0 bytes)"]),
        (["roundtrip", tmp_path / "nan.wav", "-c", "alaw", "--out-dir", "OUT"], ["frame 42, channel 0 is nan"]),
        (["roundtrip", ok, "-c", "alaw", "--residual-gain", "-3", "--out-dir", "OUT"], ["residual gain '-3'", "'auto' or a positive number"]),
        (["roundtrip", ok, "-c", "nope", "--out-dir", "OUT"], ["unknown codec 'nope'"]),
    ]


def test_bad_input_one_line_exit_1_no_output(tmp_path):
    for args, needles in _bad_input_cases(tmp_path):
        out_dir = tmp_path / "OUT"
        out_dir.mkdir(exist_ok=True)  # a missing output directory is its own error (test_whole_or_nothing)
        argv = [str(a).replace("OUT", str(out_dir)) if str(a).startswith("OUT") else str(a) for a in args]
        res = CliRunner().invoke(cli, argv)
        lines = res.output.strip().splitlines()
        assert res.exit_code == 1, (argv, res.output)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (argv, res.output)
        for needle in needles:
            assert needle in lines[0], (needle, lines[0])
        assert list(out_dir.iterdir()) == [], argv
