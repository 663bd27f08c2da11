"""Speech metrics: the excerpt rule, and PESQ/STOI equal to the packages called directly."""

from __future__ import annotations

import numpy as np
import pytest
from pesq import pesq
from pystoi import stoi
from scipy.signal import resample_poly

from inwhale_hw.errors import ParameterError
from inwhale_hw.speech import SpeechExcerpts, check_content_hint, speech_record

RATE = 16000


def _burst(seconds: float, seed: int, rate: int = RATE) -> np.ndarray:
    """A speech-like burst: a 150 Hz harmonic tone with a 4 Hz syllable envelope, about -12 dBFS."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    tone = sum(np.sin(2 * np.pi * 150 * k * t + rng.uniform(0, 6)) / k for k in range(1, 12))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return np.round(tone * env * 4000).astype(np.int16)


def _silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.int16)


def _degrade(x: np.ndarray, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 300, len(x))
    return np.clip(np.round(x + noise), -32768, 32767).astype(np.int16)


def _feed(ex: SpeechExcerpts, ref: np.ndarray, test: np.ndarray, block: int) -> None:
    for i in range(0, len(ref), block):
        ex.update(ref[i : i + block], test[i : i + block])


def test_excerpt_rule_segments_minimum_gap_and_cap():
    # 0.5 s silence | 2 s burst | 0.3 s pause (bridged) | 1 s burst | 1 s silence (ends it)
    # | 0.6 s burst (too short) | 1 s silence | 25 s burst (cut at 20 s; its last 5 s are the third) | 3 s burst (ignored)
    parts = [_silence(0.5), _burst(2, 1), _silence(0.3), _burst(1, 2), _silence(1), _burst(0.6, 3), _silence(1),
             _burst(25, 4), _silence(1), _burst(3, 5)]
    ref = np.concatenate(parts)
    ex = SpeechExcerpts(RATE)
    _feed(ex, ref, ref, 4567)
    got = ex.finish()
    assert [(e.start / RATE, round(e.frames / RATE, 2)) for e in got] == [(0.5, 3.3), (6.4, 20.0), (26.4, 5.0)]
    assert np.array_equal(got[0].reference, ref[8000 : 8000 + len(got[0].reference)].astype(np.float32))


def test_excerpts_do_not_depend_on_block_size_and_mix_channels():
    ref = np.concatenate([_silence(0.2), _burst(1.5, 7), _silence(0.7), _burst(1.2, 8)])
    stereo = np.stack([ref, ref // 2], axis=1)
    a, b = SpeechExcerpts(RATE), SpeechExcerpts(RATE)
    _feed(a, stereo, stereo, 1000)
    _feed(b, stereo, stereo, 77)
    ea, eb = a.finish(), b.finish()
    assert len(ea) == 2 and [e.start for e in ea] == [e.start for e in eb]
    assert all(np.array_equal(x.reference, y.reference) for x, y in zip(ea, eb))
    assert np.array_equal(ea[0].reference, ((stereo[ea[0].start : ea[0].start + ea[0].frames].astype(np.float64)).mean(axis=1)).astype(np.float32))


def _reference_scores(ref: np.ndarray, deg: np.ndarray, rate: int) -> dict[str, float]:
    """The packages called directly on the documented resampling (resample_poly, x / 32768)."""
    def at(x, fs):
        g = np.gcd(rate, fs)
        return resample_poly(x.astype(np.float64) / 32768.0, fs // g, rate // g)

    return {
        "pesq_nb": pesq(8000, at(ref, 8000), at(deg, 8000), "nb"),
        "pesq_wb": pesq(16000, at(ref, 16000), at(deg, 16000), "wb"),
        "stoi": stoi(at(ref, 10000), at(deg, 10000), 10000),
        "estoi": stoi(at(ref, 10000), at(deg, 10000), 10000, extended=True),
    }


@pytest.mark.parametrize("rate", [16000, 44100])
def test_scores_equal_the_packages_on_the_excerpt(rate):
    ref = np.concatenate([_silence(0.4, rate), _burst(3, 11, rate), _silence(0.8, rate)])
    deg = _degrade(ref)
    ex = SpeechExcerpts(rate)
    _feed(ex, ref, deg, 10000)
    record = speech_record(ex, "auto")
    assert record["shown"] and len(record["excerpts"]) == 1
    e = ex.excerpts[0]
    want = _reference_scores(ref[e.start : e.start + e.frames], deg[e.start : e.start + e.frames], rate)
    for key, value in want.items():
        assert record[key] == pytest.approx(value, abs=1e-6), key
    assert 1.0 < record["pesq_nb"] < 4.6 and 0.0 < record["stoi"] <= 1.0


def test_narrowband_input_has_no_wideband_pesq_and_hints_decide():
    rate = 8000
    ref = np.concatenate([_silence(0.5, rate), _burst(2, 3, rate), _silence(0.6, rate)])
    ex = SpeechExcerpts(rate)
    _feed(ex, ref, _degrade(ref), 3000)
    rec = speech_record(ex, "speech")
    assert rec["shown"] and rec["pesq_wb"] is None and rec["pesq_nb"] is not None
    music = SpeechExcerpts(rate)
    _feed(music, ref, ref, 3000)
    assert speech_record(music, "music") == {**speech_record(SpeechExcerpts(rate), "music"),
                                             "decision": "content hint: music", "shown": False}
    tone = _burst(4, 9, rate)  # no pauses: auto says not speech
    auto = SpeechExcerpts(rate)
    _feed(auto, tone, tone, 3000)
    rec = speech_record(auto, "auto")
    assert not rec["shown"] and "not speech" in rec["decision"] and "pesq_nb" not in rec


def test_bad_hint_is_a_parameter_error():
    with pytest.raises(ParameterError, match="speechy"):
        check_content_hint("speechy")


def test_missing_speech_extra_is_stated_not_fatal(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pystoi(name, *args, **kwargs):
        if name == "pystoi":
            raise ImportError("no module named pystoi")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pystoi)
    rate = 8000
    ref = np.concatenate([_silence(0.5, rate), _burst(2, 3, rate), _silence(0.6, rate)])
    ex = SpeechExcerpts(rate)
    _feed(ex, ref, _degrade(ref), 3000)
    rec = speech_record(ex, "speech")
    assert not rec["shown"] and "pesq_nb" not in rec
    assert "not computed: pystoi not installed (pip install 'inwhale_hw[speech]')" in rec["decision"]
