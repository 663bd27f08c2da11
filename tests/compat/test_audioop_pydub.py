"""pydub's AudioSegment operations give the same bytes with the drop-in as with audioop.

pydub imports ``audioop`` at module level (``pydub.utils``); each run imports pydub afresh
with ``sys.modules["audioop"]`` set to the real module or to the drop-in, applies the
operations that call audioop (gain, overlay, pan, fades, channel, rate and width changes,
loudness, peak, reverse) to seeded stereo noise and a mono tone at widths 1, 2 and 4, and
returns every result's raw bytes and numbers.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from inwhale_hw.compat import audioop as ours

pytest.importorskip("pydub", reason="pydub is not installed")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop as cpython


def _fresh_pydub(module):
    saved = {name: mod for name, mod in sys.modules.items() if name == "pydub" or name.startswith("pydub.")}
    previous = sys.modules.get("audioop")
    for name in saved:
        del sys.modules[name]
    sys.modules["audioop"] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pydub

            return pydub
    finally:
        if previous is None:
            del sys.modules["audioop"]
        else:
            sys.modules["audioop"] = previous
        for name in [n for n in sys.modules if n == "pydub" or n.startswith("pydub.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def _operations(module) -> dict[str, object]:
    pydub = _fresh_pydub(module)
    assert pydub.utils.audioop is module
    rng = np.random.default_rng(5)
    results: dict[str, object] = {}
    for width, dtype in ((1, np.int8), (2, np.int16), (4, np.int32)):
        top = np.iinfo(dtype).max
        stereo = rng.integers(-top // 2, top // 2, size=(4410, 2)).astype(dtype)
        tone = (0.6 * top * np.sin(2 * np.pi * 440 * np.arange(6000) / 22050)).astype(dtype)
        a = pydub.AudioSegment(stereo.tobytes(), sample_width=width, frame_rate=44100, channels=2)
        b = pydub.AudioSegment(tone.tobytes(), sample_width=width, frame_rate=22050, channels=1)
        cases = {
            "apply_gain": a.apply_gain(-3.5),
            "gain_op": b + 6,
            "overlay": a.overlay(b.set_channels(2).set_frame_rate(44100), position=30, gain_during_overlay=-2),
            "pan": b.pan(-0.35),
            "fade": a.fade_in(30).fade_out(45),
            "fade_gain": b.fade(to_gain=-20, start=10, duration=100),
            "set_channels_mono": a.set_channels(1),
            "set_channels_stereo": b.set_channels(2),
            "set_frame_rate_up": b.set_frame_rate(48000),
            "set_frame_rate_down": a.set_frame_rate(8000),
            "set_sample_width": b.set_sample_width(1 if width != 1 else 2),
            "reverse": a.reverse(),
            "invert_phase": b.invert_phase(),
            "append_crossfade": b.append(b, crossfade=50),
        }
        for name, segment in cases.items():
            results[f"{name}/w{width}"] = (segment.raw_data, segment.sample_width, segment.frame_rate, segment.channels)
        results[f"numbers/w{width}"] = (a.rms, a.max, b.rms, b.max, a.dBFS, b.max_dBFS)
    return results


def test_pydub_operations_byte_identical_with_the_drop_in():
    expected = _operations(cpython)
    got = _operations(ours)
    assert got.keys() == expected.keys()
    different = [key for key in expected if got[key] != expected[key]]
    assert not different, f"pydub results differ for {different}"
    assert all(len(value[0]) for key, value in expected.items() if not key.startswith("numbers"))
