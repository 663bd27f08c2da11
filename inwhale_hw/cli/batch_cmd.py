"""``inwhale-hw batch``: codec evaluation over a corpus, on Dask or in this process.

::

    inwhale-hw batch corpus/ -c mulaw -c ima-adpcm -o results/
    inwhale-hw batch manifest.csv --grid codecs.toml -o results/ --scheduler tcp://head:8786

See :mod:`inwhale_hw.scale.batch` for the tasks and the grid file and
:mod:`inwhale_hw.scale.engine` for where they run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ParameterError
from ..scale.batch import CodecConfig, load_grid, run_batch
from ..scale.batch_report import write_batch_outputs
from ..scale.corpus import discover
from ..scale.engine import open_engine
from .codec_cmds import content_option
from .listen_cmd import select_codecs
from .progress import progress_bar

__all__ = ["command", "cluster_options", "codec_configs"]


def cluster_options(fn):
    """``--scheduler``, ``--workers`` and ``--serial``, shared by ``batch`` and ``accel sweep``."""
    fn = click.option("--serial", is_flag=True, help="Run every task in this process, one after the other.")(fn)
    fn = click.option("--workers", type=click.IntRange(1, 1024), default=None,
                      help="Worker processes of the local cluster (default: one per core).")(fn)
    fn = click.option("--scheduler", default=None, metavar="ADDRESS",
                      help="A running Dask scheduler, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS, "
                           "else a local cluster).")(fn)
    return fn


def codec_configs(names: tuple[str, ...], params: tuple[str, ...], grid: str | None) -> list[CodecConfig]:
    """Configurations from a TOML grid, or from ``-c``/``-p`` as ``listen`` selects codecs."""
    if grid:
        if names or params:
            raise ParameterError("--grid replaces -c/-p; give one or the other")
        return load_grid(grid)
    configs = []
    for q in select_codecs(names, params):
        defaults = {p.name: p.default for p in q.param_specs()}
        chosen = tuple(sorted((k, v) for k, v in q.params.items() if v != defaults.get(k)))
        configs.append(CodecConfig(q.name, chosen))
    return configs


@click.command("batch")
@click.argument("source", metavar="INPUT", type=click.Path(exists=True))
@click.option("--glob", "globs", multiple=True, help="File name pattern in a directory (repeatable; default: audio files).")
@click.option("-c", "--codec", "codec_names", multiple=True, help="Audio codec (repeatable; default: all).")
@click.option("-p", "--param", "params", multiple=True, metavar="[CODEC.]KEY=VALUE", help="Codec parameter, as in listen.")
@click.option("--grid", type=click.Path(dir_okay=False, exists=True), default=None, help="TOML grid of codec configurations.")
@click.option("--rate", type=int, default=None, metavar="HZ", help="Resample every input to HZ first.")
@click.option("-o", "--out-dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--force", is_flag=True, help="Recompute tasks whose results are stored in the output directory.")
@click.option("--ship-files/--shared-files", default=None,
              help="Send file contents to the workers (default: only with --scheduler, whose workers may not see this disk).")
@click.option("--pages/--no-pages", default=True, show_default=True, help="Listening pages for best/median/worst files.")
@content_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def command(source, globs, codec_names, params, grid, rate, out_dir, force, ship_files, pages, content, quiet,
            scheduler, workers, serial) -> None:
    """Run codecs over every file of INPUT (a directory, a list file or a CSV manifest)."""
    items = discover(source, tuple(globs) or None)
    configs = codec_configs(codec_names, params, grid)
    out = Path(out_dir)
    if not out.parent.exists():
        raise ParameterError(f"the directory {str(out.parent)!r} of --out-dir does not exist")
    ship = bool(scheduler) if ship_files is None else ship_files
    total = len(items) * len(configs)
    with open_engine(scheduler, workers=workers, serial=serial, announce=lambda t: click.echo(t, err=True)) as engine:
        with progress_bar(total, "batch", quiet=quiet) as bar:
            result = run_batch(items, configs, out, engine, rate=rate, force=force, ship_bytes=ship,
                               progress=lambda n, _total: bar(n), content=content)
        for note in engine.notes:
            click.echo(f"note: {note}", err=True)
    written = write_batch_outputs(result, configs, items, out, rate=rate, pages=pages)
    click.echo(f"{len(items)} file(s) x {len(configs)} config(s): {result.computed} computed, {result.reused} reused, "
               f"{len(result.failures)} failed", err=True)
    click.echo(str(written["index.html"]))
    if result.failures:
        sys.exit(1)
