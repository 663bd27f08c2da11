"""``inwhale-hw accel sweep SWEEP.toml -o OUT``: the design-space sweep of :mod:`inwhale_hw.scale.sweep`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ParameterError
from ..scale.engine import open_engine
from ..scale.sweep import best_points, load_sweep, run_sweep
from ..scale.sweep_report import write_sweep_outputs
from .batch_cmd import cluster_options
from .progress import progress_bar

__all__ = ["sweep"]


@click.command("sweep")
@click.argument("sweep_file", metavar="SWEEP.toml", type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "--out-dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def sweep(sweep_file, out_dir, quiet, scheduler, workers, serial) -> None:
    """Simulate every configuration of SWEEP.toml on every model; write the sweep table and plot."""
    spec = load_sweep(sweep_file)
    out = Path(out_dir)
    if not out.parent.exists():
        raise ParameterError(f"the directory {str(out.parent)!r} of --out-dir does not exist")
    total = len(spec.models) * len(spec.points) * spec.shards
    with open_engine(scheduler, workers=workers, serial=serial, announce=lambda t: click.echo(t, err=True)) as engine:
        with progress_bar(total, "sweep", quiet=quiet) as bar:
            rows = run_sweep(spec, engine, progress=lambda n, _total: bar(n))
        for note in engine.notes:
            click.echo(f"note: {note}", err=True)
    best = best_points(rows, spec.max_accuracy_loss)
    written = write_sweep_outputs(rows, best, out)
    click.echo((out / "sweep.md").read_text() + "\n" + written["best.md"].read_text())
