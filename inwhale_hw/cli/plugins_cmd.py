"""``inwhale-hw plugins`` and ``inwhale-hw info``: what the registry holds."""

from __future__ import annotations

import json
from typing import Any

import click

from ..host import PluginHost, get_host
from ..params import Param
from ..quantizer import Quantizer

__all__ = ["commands", "quantizer_json", "hardware_json", "plugins_json"]


def _param_json(spec: Param) -> dict[str, Any]:
    return {
        "name": spec.name,
        "default": None if spec.required else _jsonable(spec.default),
        "required": spec.required,
        "allowed": spec.allowed(),
        "doc": spec.doc,
    }


def _jsonable(value: Any) -> Any:
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, (str, int, float)):
        return value.name
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def quantizer_json(host: PluginHost, name: str) -> dict[str, Any]:
    """Description of one registered quantizer, as ``plugins --json`` and ``info --json`` print it."""
    entry = host.registry.entry(name)
    cls: type[Quantizer] = entry.cls
    return {
        "name": cls.name,
        "aliases": list(entry.aliases),
        "plugin": entry.plugin,
        "kind": cls.kind,
        "summary": cls.summary,
        "capabilities": cls.capabilities(),
        "blocks": list(cls.blocks),
        "references": list(cls.references),
        "parameters": [_param_json(p) for p in cls.param_specs()],
    }


def hardware_json(host: PluginHost, name: str) -> dict[str, Any]:
    """Description of one registered hardware block set (``plugins --json``, ``info --json``)."""
    entry = host.hardware.entry(name)
    cls = entry.cls
    return {
        "name": cls.name,
        "aliases": [],
        "plugin": entry.plugin,
        "kind": cls.kind,
        "summary": cls.summary,
        "capabilities": cls.capabilities(),
        "blocks": list(cls.blocks),
        "references": list(cls.references),
        "parameters": [_param_json(p) for p in cls.param_specs()],
    }


def plugins_json(host: PluginHost) -> list[dict[str, Any]]:
    out = []
    for info in host.plugins.values():
        out.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "builtin": info.builtin,
                "available": info.available,
                "error": info.error,
                "quantizers": [quantizer_json(host, q) for q in info.quantizers],
                "hardware": [hardware_json(host, h) for h in info.hardware],
            }
        )
    return out


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--all", "show_all", is_flag=True, help="Also show parameters and full tracebacks.")
def plugins_command(as_json: bool, show_all: bool) -> None:
    """List plugins, the quantizers and hardware models each registers, and plugins that failed to load."""
    host = get_host()
    if as_json:
        click.echo(json.dumps(plugins_json(host), indent=2))
        return
    for info in host.plugins.values():
        if not info.available:
            continue
        origin = "built-in" if info.builtin else "entry point"
        click.echo(f"{info.name}  ({info.distribution} {info.version}, {origin})")
        for qname in info.quantizers:
            entry = host.registry.entry(qname)
            cls = entry.cls
            aliases = f" (aliases: {', '.join(entry.aliases)})" if entry.aliases else ""
            click.echo(f"  {cls.name:<14} {cls.kind:<7} {' '.join(cls.capabilities())}{aliases}")
            click.echo(f"  {'':<14} {cls.summary}")
            if show_all:
                for spec in cls.param_specs():
                    click.echo(f"  {'':<16}-p {_describe_param(spec)}")
        for hname in info.hardware:
            hcls = host.hardware.get(hname)
            click.echo(f"  {hcls.name:<14} {hcls.kind:<7} {' '.join(hcls.capabilities())}")
            click.echo(f"  {'':<14} {hcls.summary}")
            if show_all:
                for spec in hcls.param_specs():
                    click.echo(f"  {'':<16}-p {_describe_param(spec)}")
    failed = host.unavailable()
    if failed:
        click.echo("")
        click.echo("Unavailable plugins:")
        for info in failed:
            click.echo(f"  {info.name}  ({info.distribution} {info.version}): {info.error}")
            if show_all and info.traceback:
                click.echo("    " + info.traceback.rstrip().replace("\n", "\n    "))


def _describe_param(spec: Param) -> str:
    default = "required" if spec.required else f"default {_jsonable(spec.default)!r}"
    doc = f"  {spec.doc}" if spec.doc else ""
    return f"{spec.name}: {spec.allowed()}, {default}.{doc}"


@click.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info_command(name: str, as_json: bool) -> None:
    """Describe quantizer or hardware model NAME: parameters, references, capabilities."""
    host = get_host()
    if name not in host.registry and name in host.hardware:
        data = hardware_json(host, name)
        cls: Any = host.hardware.get(name)
    else:
        data = quantizer_json(host, name)
        cls = host.registry.get(name)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['name']}: {data['summary']}")
    click.echo(f"  kind:         {data['kind']}")
    click.echo(f"  plugin:       {data['plugin']}")
    if data["aliases"]:
        click.echo(f"  aliases:      {', '.join(data['aliases'])}")
    click.echo(f"  capabilities: {' '.join(data['capabilities'])}")
    if data["blocks"]:
        click.echo(f"  hdl blocks:   {', '.join(data['blocks'])}")
    if cls.param_specs():
        click.echo("  parameters:")
        for spec in cls.param_specs():
            click.echo(f"    {_describe_param(spec)}")
    if data["references"]:
        click.echo("  references:")
        for ref in data["references"]:
            click.echo(f"    - {ref}")


commands = [plugins_command, info_command]
