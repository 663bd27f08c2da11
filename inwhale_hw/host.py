"""The plugin host: loads built-in and third-party plugins into one registry.

Built-ins are the modules named in :data:`DEFAULT_PLUGINS`; third-party plugins come from the
entry-point group ``inwhale_hw`` (``[project.entry-points.inwhale_hw]`` in their
pyproject).  Both go through the same path: the module is imported and registered with a
pluggy ``PluginManager``, then each plugin's ``register_quantizers`` and ``register_hardware``
hooks are called with their registries.  A plugin that fails to import or register is recorded as unavailable with its
error, and everything it registered is withdrawn; all other plugins keep working.
"Fails" includes ``SystemExit`` and any other ``BaseException`` except ``KeyboardInterrupt``
(and the CLI's own :class:`~inwhale_hw.errors.SignalExit`): a plugin calling ``sys.exit()`` at
import cannot end the host.

Environment switches (read when the host is built):

``INWHALE_HW_STRICT_PLUGINS=1``
    re-raise the first plugin failure as :class:`~inwhale_hw.errors.PluginLoadError`.
``INWHALE_HW_DISABLE_PLUGIN_AUTOLOAD=1``
    skip entry points; load only the built-ins.
"""

from __future__ import annotations

import importlib
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

import pluggy

from . import hookspecs
from .errors import PluginLoadError, SignalExit
from .registry import HardwareRegistry, QuantizerRegistry
from .version import __version__

__all__ = ["DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "PluginHost", "PluginInfo", "get_host", "reset_host"]

ENTRY_POINT_GROUP = "inwhale_hw"

#: Built-in plugin modules, loaded like third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "inwhale_hw.plugins.tensor",
    "inwhale_hw.plugins.g711",
    "inwhale_hw.plugins.delta",
    "inwhale_hw.plugins.cvsd",
    "inwhale_hw.plugins.dpcm",
    "inwhale_hw.plugins.adpcm",
    "inwhale_hw.plugins.g726",
    "inwhale_hw.plugins.g722",
    "inwhale_hw.plugins.msadpcm",
    "inwhale_hw.plugins.oki",
    "inwhale_hw.plugins.accel_blocks",
    "inwhale_hw.plugins.gguf",
    "inwhale_hw.plugins.minifloat",
    "inwhale_hw.plugins.mx",
    "inwhale_hw.plugins.bnb",
)


@dataclass
class PluginInfo:
    """What the host knows about one plugin."""

    name: str
    distribution: str
    version: str
    builtin: bool
    quantizers: list[str] = field(default_factory=list)
    hardware: list[str] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None

    @property
    def available(self) -> bool:
        return self.error is None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class PluginHost:
    """A pluggy manager plus the registry its plugins filled in."""

    def __init__(
        self,
        builtins: tuple[str, ...] | list[str] = DEFAULT_PLUGINS,
        entry_points: bool | None = None,
        strict: bool | None = None,
    ) -> None:
        self.strict = _env_flag("INWHALE_HW_STRICT_PLUGINS") if strict is None else strict
        load_entry_points = (
            not _env_flag("INWHALE_HW_DISABLE_PLUGIN_AUTOLOAD") if entry_points is None else entry_points
        )
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.registry = QuantizerRegistry()
        self.hardware = HardwareRegistry(self.registry)
        self.plugins: dict[str, PluginInfo] = {}
        for module_name in builtins:
            info = PluginInfo(module_name, "inwhale_hw", __version__, builtin=True)
            self._load(info, lambda name=module_name: importlib.import_module(name))
        if load_entry_points:
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = getattr(ep, "dist", None)
                info = PluginInfo(
                    ep.name,
                    dist.metadata["Name"] if dist is not None else "?",
                    dist.version if dist is not None else "?",
                    builtin=False,
                )
                self._load(info, ep.load)

    def _load(self, info: PluginInfo, loader: Callable[[], Any]) -> None:
        self.plugins[info.name] = info
        try:
            plugin = loader()
            self.pm.register(plugin, name=info.name)
        except (KeyboardInterrupt, SignalExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - any plugin failure (even sys.exit) is recorded, not fatal
            self._fail(info, exc)
            return
        registries = {"register_quantizers": self.registry, "register_hardware": self.hardware}
        try:
            for hook_name, registry in registries.items():
                registry.current_plugin = info.name
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin_name == info.name:
                        impl.function(registry=registry)
        except (KeyboardInterrupt, SignalExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit at registration too
            for registry in registries.values():
                registry.remove_plugin(info.name)
            self.pm.unregister(name=info.name)
            self._fail(info, exc)
            return
        finally:
            for registry in registries.values():
                registry.current_plugin = "<direct>"
        info.quantizers = [e.name for e in self.registry.entries() if e.plugin == info.name]
        info.hardware = [e.name for e in self.hardware.entries() if e.plugin == info.name]

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.error = f"{type(exc).__name__}: {exc}"
        info.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if self.strict:
            raise PluginLoadError(f"plugin {info.name!r} failed to load: {info.error}") from exc

    def unavailable(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if not p.available]

    def add_commands(self, cli: Any) -> None:
        """Let plugins add CLI commands through ``register_commands``."""
        self.pm.hook.register_commands(cli=cli)


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host() -> None:
    """Forget the process-wide host so the next :func:`get_host` reloads plugins (for tests)."""
    global _HOST
    _HOST = None
