"""The plugin host: loading, failure isolation, duplicates, strict mode, entry points."""

from __future__ import annotations

import sys
import types

import pytest

import inwhale_hw
from inwhale_hw import Quantizer, hookimpl
from inwhale_hw.errors import DuplicateQuantizerError, PluginLoadError, UnknownQuantizerError
from inwhale_hw.host import DEFAULT_PLUGINS, PluginHost


def _quantizer(qname: str) -> type[Quantizer]:
    return type(f"Q_{qname}", (Quantizer,), {"name": qname, "summary": "test", "kind": "audio"})


def _module(monkeypatch, modname: str, *names: str, fail_after: int | None = None) -> str:
    mod = types.ModuleType(modname)

    @hookimpl
    def register_quantizers(registry):
        for i, qname in enumerate(names):
            if fail_after is not None and i == fail_after:
                raise RuntimeError(f"{modname} broke after {i} quantizers")
            registry.add(_quantizer(qname))

    mod.register_quantizers = register_quantizers
    monkeypatch.setitem(sys.modules, modname, mod)
    return modname


def test_builtins_load_through_the_registration_path():
    host = PluginHost(entry_points=False)
    assert list(host.plugins) == list(DEFAULT_PLUGINS)
    failed = {p.name: p.error for p in host.unavailable()}
    assert failed == {}
    for info in host.plugins.values():
        assert info.builtin and info.distribution == "inwhale_hw" and (info.quantizers or info.hardware)


def test_failed_import_is_recorded_and_others_work(monkeypatch):
    good = _module(monkeypatch, "fake_good", "alpha")
    host = PluginHost(builtins=(good, "fake_missing_module_xyz"), entry_points=False, strict=False)
    missing = host.plugins["fake_missing_module_xyz"]
    assert not missing.available
    assert "fake_missing_module_xyz" in missing.error
    assert host.registry.names() == ["alpha"]
    assert isinstance(host.registry.create("alpha"), Quantizer)


def test_duplicate_name_names_both_plugins_and_keeps_the_first(monkeypatch):
    first = _module(monkeypatch, "fake_first", "shared")
    second = _module(monkeypatch, "fake_second", "other", "shared")
    host = PluginHost(builtins=(first, second), entry_points=False, strict=False)
    error = host.plugins[second].error
    assert error is not None and "'shared'" in error
    assert "fake_first" in error and "fake_second" in error
    assert host.registry.entry("shared").plugin == first
    assert "other" not in host.registry, "a failed plugin's partial registrations are withdrawn"


def test_registry_add_rejects_duplicate_alias(monkeypatch):
    from inwhale_hw.registry import QuantizerRegistry

    reg = QuantizerRegistry()
    reg.current_plugin = "p1"
    reg.add(_quantizer("one"), aliases=("uno",))
    reg.current_plugin = "p2"
    with pytest.raises(DuplicateQuantizerError, match="'uno' from plugin 'p2' is already registered by plugin 'p1'"):
        reg.add(_quantizer("two"), aliases=("uno",))
    assert reg.resolve("uno") == "one"


def test_hook_failure_midway_withdraws_partial_registration(monkeypatch):
    mod = _module(monkeypatch, "fake_half", "h1", "h2", fail_after=1)
    host = PluginHost(builtins=(mod,), entry_points=False, strict=False)
    assert host.registry.names() == []
    assert "broke after 1" in host.plugins[mod].error


def test_strict_mode_reraises(monkeypatch):
    monkeypatch.setenv("INWHALE_HW_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="fake_missing_module_xyz"):
        PluginHost(builtins=("fake_missing_module_xyz",), entry_points=False)


def test_disable_autoload_skips_entry_points(monkeypatch):
    calls = []
    monkeypatch.setattr("inwhale_hw.host.metadata.entry_points", lambda group: calls.append(group) or [])
    monkeypatch.setenv("INWHALE_HW_DISABLE_PLUGIN_AUTOLOAD", "1")
    PluginHost(builtins=())
    assert calls == []
    monkeypatch.delenv("INWHALE_HW_DISABLE_PLUGIN_AUTOLOAD")
    PluginHost(builtins=())
    assert calls == ["inwhale_hw"]


def test_unknown_quantizer_lists_available():
    with pytest.raises(UnknownQuantizerError) as info:
        inwhale_hw.get_quantizer("no-such-codec")
    message = str(info.value)
    assert "'no-such-codec'" in message
    assert all(name in message for name in inwhale_hw.list_quantizers())


def test_registry_rejects_non_quantizers_and_bad_kinds():
    from inwhale_hw.errors import ParameterError
    from inwhale_hw.registry import QuantizerRegistry

    reg = QuantizerRegistry()
    with pytest.raises(ParameterError, match="expects a Quantizer subclass"):
        reg.add(object)  # type: ignore[arg-type]
    bad = type("Bad", (Quantizer,), {"name": "bad", "summary": "s", "kind": "video"})
    with pytest.raises(ParameterError, match="kind 'video'"):
        reg.add(bad)


def _hardware_module(monkeypatch, modname: str, hname: str, fail: bool = False) -> str:
    from inwhale_hw import HardwareBlocks

    mod = types.ModuleType(modname)

    @hookimpl
    def register_hardware(registry):
        registry.add(type(f"H_{hname}", (HardwareBlocks,), {"name": hname, "summary": "t", "blocks": ("b",)}))
        if fail:
            raise RuntimeError(f"{modname} broke after registering {hname}")

    mod.register_hardware = register_hardware
    monkeypatch.setitem(sys.modules, modname, mod)
    return modname


def test_hardware_models_register_through_their_own_hook(monkeypatch):
    good = _hardware_module(monkeypatch, "fake_hw", "gizmo")
    broken = _hardware_module(monkeypatch, "fake_hw_broken", "widget", fail=True)
    host = PluginHost(builtins=(good, broken), entry_points=False, strict=False)
    assert host.hardware.names() == ["gizmo"]
    assert host.plugins[good].hardware == ["gizmo"] and host.plugins[good].quantizers == []
    assert "broke after registering widget" in host.plugins[broken].error


def test_duplicate_hardware_names_name_both_plugins(monkeypatch):
    first = _hardware_module(monkeypatch, "fake_hw_a", "gizmo")
    second = _hardware_module(monkeypatch, "fake_hw_b", "gizmo")
    clash = _module(monkeypatch, "fake_q_gizmo", "gizmo2")
    third = _hardware_module(monkeypatch, "fake_hw_c", "gizmo2")
    host = PluginHost(builtins=(first, second, clash, third), entry_points=False, strict=False)
    assert host.hardware.entry("gizmo").plugin == "fake_hw_a"
    assert "DuplicateQuantizerError" in host.plugins[second].error
    assert "'fake_hw_a'" in host.plugins[second].error and "'fake_hw_b'" in host.plugins[second].error
    assert "'fake_q_gizmo'" in host.plugins[third].error  # a quantizer already owns the name


def test_builtin_hardware_models_are_listed():
    host = PluginHost(entry_points=False)
    assert host.hardware.names() == ["mac", "requant"]
    assert "mac" in inwhale_hw.list_hardware() and "mulaw" in inwhale_hw.list_hardware()
    assert "nibble" not in inwhale_hw.list_hardware()
