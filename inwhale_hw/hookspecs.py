"""Hook specifications for inwhale_hw plugins (pluggy project name ``inwhale_hw``).

A plugin is a module (built-in, listed in ``DEFAULT_PLUGINS``) or an object loaded from the
entry-point group ``inwhale_hw``.  It implements hooks with the :data:`hookimpl` marker::

    from inwhale_hw import hookimpl

    @hookimpl
    def register_quantizers(registry):
        registry.add(MyQuantizer, aliases=("mine",))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from .registry import HardwareRegistry, QuantizerRegistry

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl", "register_quantizers", "register_hardware", "register_commands"]

PROJECT_NAME = "inwhale_hw"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_quantizers(registry: "QuantizerRegistry") -> None:
    """Register quantizer classes by calling ``registry.add(cls, aliases=())``.

    ``registry.add`` raises :class:`inwhale_hw.errors.DuplicateQuantizerError` when the name or
    an alias is already taken, naming both plugins.
    """


@hookspec
def register_hardware(registry: "HardwareRegistry") -> None:
    """Register hardware block sets (:class:`inwhale_hw.hardware.HardwareBlocks`) with ``registry.add(cls)``."""


@hookspec
def register_commands(cli: "click.Group") -> None:
    """Add click commands to the ``inwhale-hw`` command group (``cli.add_command(cmd)``)."""
