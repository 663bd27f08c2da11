"""``inwhale-hw plugins`` / ``info`` through click's runner, and one-line errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

import inwhale_hw
from inwhale_hw.cli import cli
from inwhale_hw.host import DEFAULT_PLUGINS


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_plugins_lists_every_builtin_and_quantizer():
    result = _invoke("plugins")
    assert result.exit_code == 0, result.output
    for module in DEFAULT_PLUGINS:
        assert f"{module}  (inwhale_hw {inwhale_hw.__version__}, built-in)" in result.output
    for name in inwhale_hw.list_quantizers():
        assert f"  {name} " in result.output


def test_plugins_json_matches_registry():
    data = json.loads(_invoke("plugins", "--json").output)
    listed = sorted(q["name"] for p in data for q in p["quantizers"])
    assert listed == inwhale_hw.list_quantizers()
    for plugin in data:
        assert {"name", "distribution", "version", "builtin", "available", "error", "quantizers"} <= set(plugin)


def test_plugins_all_shows_parameters():
    result = _invoke("plugins", "--all")
    assert result.exit_code == 0
    some = inwhale_hw.get_quantizer(inwhale_hw.list_quantizers()[0])
    for spec in type(some).param_specs():
        assert f"-p {spec.name}: " in result.output


def test_info_shows_parameters_references_capabilities():
    name = inwhale_hw.list_quantizers()[0]
    cls = type(inwhale_hw.get_quantizer(name))
    result = _invoke("info", name)
    assert result.exit_code == 0
    assert result.output.startswith(f"{name}: {cls.summary}")
    assert "capabilities: encode decode stream" in result.output
    for spec in cls.param_specs():
        assert f"    {spec.name}: {spec.allowed()}" in result.output
    data = json.loads(_invoke("info", name, "--json").output)
    assert data["name"] == name and data["kind"] == cls.kind


def test_unknown_name_is_one_line_and_nonzero():
    result = _invoke("info", "nonexistent-codec")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("Error: unknown quantizer 'nonexistent-codec'; available:")
