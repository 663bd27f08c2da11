"""The ``inwhale-hw`` command line (also ``python -m inwhale_hw``).

Each command lives in its own module of this package; :data:`COMMAND_MODULES` lists them and
each module exposes a click command object named ``command`` (or a list ``commands``).
Plugins add further commands through the ``register_commands`` hook.  Any
:class:`~inwhale_hw.errors.InwhaleError` becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..version import __version__
from ..errors import InwhaleError

__all__ = ["cli", "main", "COMMAND_MODULES"]

COMMAND_MODULES: tuple[str, ...] = (
    "inwhale_hw.cli.plugins_cmd",
    "inwhale_hw.cli.codec_cmds",
    "inwhale_hw.cli.listen_cmd",
    "inwhale_hw.cli.hdl_cmds",
    "inwhale_hw.cli.sqnr_cmd",
    "inwhale_hw.cli.accel_cmd",
    "inwhale_hw.cli.batch_cmd",
)


class InwhaleGroup(click.Group):
    """A click group that turns our typed errors into one clean line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InwhaleError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from exc


@click.group(cls=InwhaleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="inwhale-hw")
def cli() -> None:
    """Bit-accurate quantizer models, their plugins, and matching hardware."""


def _add_builtin_commands() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        for command in getattr(module, "commands", None) or [module.command]:
            cli.add_command(command)


_add_builtin_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from ..audio.atomic import install_signal_cleanup
    from ..host import get_host

    install_signal_cleanup()
    get_host().add_commands(cli)
    cli.main(args=argv, prog_name="inwhale-hw")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
