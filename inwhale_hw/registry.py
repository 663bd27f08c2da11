"""The registries that ``register_quantizers`` and ``register_hardware`` hooks fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import DuplicateQuantizerError, ParameterError, UnknownQuantizerError
from .hardware import HardwareBlocks
from .quantizer import KINDS, Quantizer

__all__ = ["QuantizerRegistry", "RegisteredQuantizer", "HardwareRegistry", "RegisteredHardware"]


@dataclass(frozen=True)
class RegisteredQuantizer:
    """A quantizer class with the plugin that registered it."""

    cls: type[Quantizer]
    plugin: str
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.cls.name


@dataclass
class QuantizerRegistry:
    """Name -> quantizer class, filled by plugins through :meth:`add`."""

    _entries: dict[str, RegisteredQuantizer] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)
    #: name of the plugin whose hook is running; set by the plugin host
    current_plugin: str = "<direct>"

    def add(self, cls: type[Quantizer], aliases: tuple[str, ...] | list[str] = ()) -> type[Quantizer]:
        """Register ``cls`` under ``cls.name`` and ``aliases``; return ``cls``."""
        if not (isinstance(cls, type) and issubclass(cls, Quantizer)):
            raise ParameterError(
                f"plugin {self.current_plugin!r}: registry.add() expects a Quantizer subclass, got {cls!r}"
            )
        name = cls.name
        if not isinstance(name, str) or not name or name != name.strip():
            raise ParameterError(
                f"plugin {self.current_plugin!r}: quantizer class {cls.__qualname__} has invalid name {name!r}"
            )
        if cls.kind not in KINDS:
            raise ParameterError(
                f"plugin {self.current_plugin!r}: quantizer {name!r} has kind {cls.kind!r}; "
                f"allowed kinds: {', '.join(KINDS)}"
            )
        aliases = tuple(aliases)
        for key in (name, *aliases):
            owner = self._owner(key)
            if owner is not None:
                raise DuplicateQuantizerError(
                    f"quantizer name {key!r} from plugin {self.current_plugin!r} is already "
                    f"registered by plugin {owner!r}"
                )
        self._entries[name] = RegisteredQuantizer(cls, self.current_plugin, aliases)
        for alias in aliases:
            self._aliases[alias] = name
        return cls

    def _owner(self, key: str) -> str | None:
        if key in self._entries:
            return self._entries[key].plugin
        if key in self._aliases:
            return self._entries[self._aliases[key]].plugin
        return None

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered (used when its hook fails half-way)."""
        for name in [n for n, e in self._entries.items() if e.plugin == plugin]:
            for alias in self._entries.pop(name).aliases:
                self._aliases.pop(alias, None)

    def resolve(self, name: str) -> str:
        """Canonical name for ``name`` or an alias of it."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = ", ".join(sorted(self._entries)) or "none"
        raise UnknownQuantizerError(f"unknown quantizer {name!r}; available: {known}")

    def get(self, name: str) -> type[Quantizer]:
        return self._entries[self.resolve(name)].cls

    def entry(self, name: str) -> RegisteredQuantizer:
        return self._entries[self.resolve(name)]

    def create(self, name: str, **params: Any) -> Quantizer:
        return self.get(name)(**params)

    def entries(self, kind: str | None = None) -> list[RegisteredQuantizer]:
        """Registered quantizers sorted by name, optionally only those of ``kind``."""
        items = sorted(self._entries.values(), key=lambda e: e.name)
        return [e for e in items if kind is None or e.cls.kind == kind]

    def names(self, kind: str | None = None) -> list[str]:
        return [e.name for e in self.entries(kind)]

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class RegisteredHardware:
    """A hardware block-set class with the plugin that registered it."""

    cls: type[HardwareBlocks]
    plugin: str

    @property
    def name(self) -> str:
        return self.cls.name


@dataclass
class HardwareRegistry:
    """Name -> hardware block-set class (not quantizers), filled by ``register_hardware`` hooks.

    Names share one namespace with the quantizers of ``quantizers``: ``verify NAME`` resolves a
    quantizer first, so a hardware model may not take a quantizer's name or alias.
    """

    quantizers: QuantizerRegistry = field(default_factory=QuantizerRegistry)
    _entries: dict[str, RegisteredHardware] = field(default_factory=dict)
    #: name of the plugin whose hook is running; set by the plugin host
    current_plugin: str = "<direct>"

    def add(self, cls: type[HardwareBlocks]) -> type[HardwareBlocks]:
        """Register ``cls`` under ``cls.name``; return ``cls``."""
        if not (isinstance(cls, type) and issubclass(cls, HardwareBlocks)):
            raise ParameterError(
                f"plugin {self.current_plugin!r}: hardware registry.add() expects a HardwareBlocks subclass, "
                f"got {cls!r}"
            )
        name = cls.name
        if not isinstance(name, str) or not name or name != name.strip():
            raise ParameterError(
                f"plugin {self.current_plugin!r}: hardware class {cls.__qualname__} has invalid name {name!r}"
            )
        if not cls.blocks:
            raise ParameterError(f"plugin {self.current_plugin!r}: hardware model {name!r} declares no blocks")
        owner = self._entries[name].plugin if name in self._entries else self.quantizers._owner(name)
        if owner is not None:
            raise DuplicateQuantizerError(
                f"hardware model name {name!r} from plugin {self.current_plugin!r} is already "
                f"registered by plugin {owner!r}"
            )
        self._entries[name] = RegisteredHardware(cls, self.current_plugin)
        return cls

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered (used when its hook fails half-way)."""
        for name in [n for n, e in self._entries.items() if e.plugin == plugin]:
            del self._entries[name]

    def entry(self, name: str) -> RegisteredHardware:
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownQuantizerError(f"unknown hardware model {name!r}; available: {known}")
        return self._entries[name]

    def get(self, name: str) -> type[HardwareBlocks]:
        return self.entry(name).cls

    def create(self, name: str, **params: Any) -> HardwareBlocks:
        return self.get(name)(**params)

    def entries(self) -> list[RegisteredHardware]:
        return sorted(self._entries.values(), key=lambda e: e.name)

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
