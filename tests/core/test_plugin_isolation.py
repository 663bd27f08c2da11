"""Plugins cannot break the host (issue 11, section 4).

* ``SystemExit`` (or any ``BaseException`` but ``KeyboardInterrupt``) at import or registration
  makes the plugin unavailable; the rest load;
* what a codec's ``encode``/``decode`` return is checked before anything is written;
* ``listen`` shows a codec that raises, exits or times out as failed and completes the others;
* ``check_quantizer`` catches degenerate decoders and codes outside the declared range.
"""

from __future__ import annotations

import sys
import textwrap
import time
import types

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw import Quantizer, hookimpl
from inwhale_hw.audio import coded
from inwhale_hw.audio.stream import open_audio
from inwhale_hw.audio.pipeline import decode_file, encode_file
from inwhale_hw.errors import PluginOutputError, SignalExit
from inwhale_hw.host import PluginHost
from inwhale_hw.listen import PageInput, build_listening_page
from inwhale_hw.testing import check_quantizer


class _Exit(BaseException):
    """A BaseException that is neither Exception nor KeyboardInterrupt."""


def _module_file(tmp_path, monkeypatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def _good(monkeypatch) -> str:
    mod = types.ModuleType("fake_good_plugin")

    @hookimpl
    def register_quantizers(registry):
        registry.add(type("Good", (Quantizer,), {"name": "good-q", "summary": "ok", "kind": "audio"}))

    mod.register_quantizers = register_quantizers
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return mod.__name__


@pytest.mark.parametrize("statement, shown", [("sys.exit(3)", "SystemExit: 3"), ("raise GeneratorExit('x')", "GeneratorExit: x")])
def test_exit_at_import_makes_the_plugin_unavailable(tmp_path, monkeypatch, statement, shown):
    bad = _module_file(tmp_path, monkeypatch, "fake_exiting_plugin", f"import sys\n{statement}\n")
    host = PluginHost(builtins=(bad, _good(monkeypatch)), entry_points=False, strict=False)
    assert host.plugins[bad].error == shown
    assert host.registry.names() == ["good-q"]


def test_exit_at_registration_makes_the_plugin_unavailable(monkeypatch):
    mod = types.ModuleType("fake_exit_at_register")

    @hookimpl
    def register_quantizers(registry):
        registry.add(type("Half", (Quantizer,), {"name": "half-q", "summary": "x", "kind": "audio"}))
        raise _Exit("registration ended the process")

    mod.register_quantizers = register_quantizers
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    host = PluginHost(builtins=(mod.__name__, _good(monkeypatch)), entry_points=False, strict=False)
    assert host.plugins[mod.__name__].error == "_Exit: registration ended the process"
    assert host.registry.names() == ["good-q"]  # what it registered before failing is withdrawn


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SignalExit])
def test_interrupts_and_our_signal_exit_at_import_still_propagate(tmp_path, monkeypatch, exc):
    """Ctrl-C, and SIGTERM/SIGINT turned into SignalExit by the CLI, must stop the host."""
    bad = _module_file(
        tmp_path, monkeypatch, "fake_interrupting_plugin",
        f"from inwhale_hw.errors import SignalExit\nraise {exc.__name__}(143)\n",
    )
    with pytest.raises(exc):
        PluginHost(builtins=(bad,), entry_points=False, strict=False)


class _Codec(Quantizer):
    """A byte codec (mu-law-like) whose encode/decode can be broken on purpose."""

    name = "broken-codec"
    summary = "test codec"
    kind = "audio"
    code_dtype = np.uint8
    mode = "ok"

    def encode(self, x):
        x = self._check_pcm(x)
        if self.mode == "nan-codes":
            return np.full(x.shape[:1] + (3,), np.nan)
        if self.mode == "wide-codes":
            return (x.astype(np.int32) + 32768).astype(np.int32)  # 16-bit values for 8-bit codes
        return ((x.astype(np.int32) + 32768) >> 8).astype(np.uint8)

    def decode(self, codes):
        codes = self._check_codes(codes, 0, 255)
        if self.mode == "float-decode":
            return codes.astype(np.float64) * np.inf
        if self.mode == "zeros":
            return np.zeros(codes.shape, np.int16)
        if self.mode == "raise":
            raise RuntimeError("decoder exploded")
        if self.mode == "exit":
            sys.exit(4)
        if self.mode == "hang":
            time.sleep(60)
        return ((codes.astype(np.int32) << 8) - 32768).astype(np.int16)


_MODES = ("ok", "nan-codes", "wide-codes", "float-decode", "zeros", "raise", "exit", "hang")
_CLASSES = {m: type(f"Codec_{m}", (_Codec,), {"name": f"broken-{m}", "mode": m}) for m in _MODES}


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    """A host whose registry holds the built-ins plus one broken codec class per mode."""
    host = PluginHost(entry_points=False)
    for cls in _CLASSES.values():
        host.registry.add(cls)
    monkeypatch.setattr("inwhale_hw.host._HOST", host)


def _codec(mode: str) -> _Codec:
    return _CLASSES[mode]()


def _input(tmp_path, seconds=0.25):
    path = tmp_path / "in.wav"
    x = (np.sin(np.arange(int(8000 * seconds)) * 0.07) * 9000).astype(np.int16)
    sf.write(str(path), x, 8000, subtype="PCM_16")
    return path


@pytest.mark.parametrize("mode, message", [
    ("nan-codes", "codec 'broken-nan-codes' encode returned dtype float64 with non-finite values; expected an integer array"),
    ("wide-codes", r"codec 'broken-wide-codes' encode returned value \d+; allowed range \[0, 255\]"),
])
def test_bad_encoder_output_is_refused_before_a_file_exists(tmp_path, mode, message):
    out = tmp_path / "out.iwc"
    with pytest.raises(PluginOutputError, match=message):
        encode_file(open_audio(_input(tmp_path)), _codec(mode), out)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.wav"]


def test_bad_decoder_output_is_refused_before_a_file_exists(tmp_path, monkeypatch):
    src = tmp_path / "ok.iwc"
    encode_file(open_audio(_input(tmp_path)), _codec("float-decode"), src)
    with pytest.raises(PluginOutputError, match="decode returned dtype float64"):
        decode_file(src, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


def test_listen_shows_failed_codecs_and_completes_the_others(tmp_path):
    page = tmp_path / "page"
    inputs = [PageInput("in.wav", lambda: open_audio(_input(tmp_path)))]
    reports = []
    codecs = [coded.make_codec("mulaw"), _codec("raise"), _codec("exit"), _codec("hang")]
    start = time.monotonic()
    index = build_listening_page(inputs, codecs, page, timeout=5.0, report=reports.append)
    assert time.monotonic() - start < 50
    html = index.read_text()
    assert "failed: RuntimeError: decoder exploded" in html
    assert "failed: SystemExit: 4" in html
    assert "failed: timed out after 5 s (--codec-timeout)" in html
    assert (page / "in" / "mulaw" / "decoded.wav").is_file() and "broken-hang" in html
    assert sorted(p.name for p in (page / "in").iterdir() if p.is_dir()) == ["mulaw"]
    assert len(reports) == 3 and all(r.startswith("codec '") for r in reports)


def test_listen_without_timeout_isolates_exceptions_in_process(tmp_path):
    inputs = [PageInput("in.wav", lambda: open_audio(_input(tmp_path)))]
    broken = _codec("raise")
    index = build_listening_page(inputs, [broken, coded.make_codec("alaw")], tmp_path / "page")
    assert "failed: RuntimeError: decoder exploded" in index.read_text()
    assert (tmp_path / "page" / "in" / "alaw" / "metrics.json").is_file()


def test_check_quantizer_catches_a_degenerate_decoder():
    check_quantizer(_CLASSES["ok"])
    with pytest.raises(AssertionError, match="decoding is degenerate: channel 0 decodes to the constant 0"):
        check_quantizer(_CLASSES["zeros"])


def test_check_quantizer_catches_codes_outside_bits_per_sample():
    four_bits = type("FourBits", (_CLASSES["ok"],), {"bits_per_sample": property(lambda self: 4.0)})
    with pytest.raises(AssertionError, match=r"code \d+ is outside \[0, 15\]"):
        check_quantizer(four_bits)
