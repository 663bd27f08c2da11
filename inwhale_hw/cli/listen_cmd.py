"""``inwhale-hw listen`` and ``inwhale-hw demo``: the offline listening page.

``listen IN... [-c CODEC ...] [-p [CODEC.]KEY=VALUE ...] -o DIR`` writes ``DIR/index.html``.
Without ``-c`` every audio codec in the registry is used with its default parameters, so
new built-ins and third-party plugins appear without changes here (one that cannot be
built with its defaults, e.g. a required parameter, is skipped with a warning).  ``-p key=value``
applies to every selected codec that declares ``key``; ``-p codec.key=value`` to one codec.
``demo`` builds the page for the bundled ``audio_samples/`` and prints its path.
A progress line naming the input and the codec being worked on (with ETA) is shown on stderr
when it is a terminal, unless ``--quiet``.  Inputs are streamed: memory is bounded by the block.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from ..audio import coded
from ..audio.roundtrip import parse_gain
from ..errors import InwhaleError, ParameterError
from ..listen import PageInput, build_listening_page
from ..listen.isolate import can_time_out
from ..samples import samples_dir
from ..quantizer import Quantizer
from .codec_cmds import content_option, input_options, open_input, parse_params
from .progress import Progress, quiet_option

__all__ = ["commands", "select_codecs"]

SAMPLE_SUFFIXES = (".wav", ".flac")


def _split_params(items: tuple[str, ...], names: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Split ``[codec.]key=value`` items into per-codec and unqualified parameters."""
    qualified: dict[str, list[str]] = {}
    plain: list[str] = []
    for item in items:
        key = item.partition("=")[0]
        codec, dot, _ = key.rpartition(".")
        if dot:
            if codec not in names:
                raise ParameterError(
                    f"parameter {item!r} names codec {codec!r}, which is not selected; selected codecs: {', '.join(names)}"
                )
            qualified.setdefault(codec, []).append(item[len(codec) + 1 :])
        else:
            plain.append(item)
    return {c: parse_params(v) for c, v in qualified.items()}, parse_params(plain)


def select_codecs(names: tuple[str, ...], items: tuple[str, ...]) -> list[Quantizer]:
    """Build the codecs for ``listen``: the named ones, or every audio codec when none are named."""
    explicit = bool(names)
    available = coded.audio_codecs()
    chosen = list(dict.fromkeys(names)) if explicit else available
    if not chosen:
        raise ParameterError("no audio codec is registered; see `inwhale-hw plugins`")
    per_codec, plain = _split_params(items, chosen)
    from ..host import get_host

    registry = get_host().registry
    for key in plain:
        if not any(key in {p.name for p in registry.get(n).param_specs()} for n in chosen if n in registry):
            declared = "; ".join(
                f"{n}: {', '.join(p.name for p in registry.get(n).param_specs()) or 'none'}"
                for n in chosen if n in registry
            )
            raise ParameterError(f"parameter {key!r} is not declared by any selected codec ({declared})")
    codecs = []
    for name in chosen:
        declared = {p.name for p in registry.get(name).param_specs()} if name in registry else set()
        params = {k: v for k, v in plain.items() if k in declared}
        params.update(per_codec.get(name, {}))
        try:
            codecs.append(coded.make_codec(name, params))
        except InwhaleError as exc:
            if explicit or params:  # the user asked for this codec or these parameters
                raise
            click.echo(f"warning: skipping codec {name!r}: {exc}", err=True)
    return codecs


def _page_inputs(paths: list[str], rate: int | None, dither: bool, seed: int | None) -> list[PageInput]:
    pages = []
    for p in paths:
        open_input(p, rate, dither, seed)  # bad input stops here, before anything is written
        pages.append(PageInput(Path(p).name, functools.partial(open_input, p, rate, dither, seed)))
    return pages


def _build(
    inputs: list[PageInput], codecs: list[Quantizer], out_dir: str, gain: str | float, quiet: bool,
    timeout: float | None = None, content: str = "auto",
) -> Path:
    return build_listening_page(
        inputs, codecs, out_dir, gain=gain, task=Progress(quiet).task, timeout=timeout, content=content,
        report=lambda text: click.echo(f"warning: {text}", err=True),
    )


def _check_timeout(value: float | None) -> float | None:
    if value is not None and not (value > 0 and value < float("inf")):
        raise ParameterError(f"--codec-timeout {value!r} is not allowed; expected a positive number of seconds")
    if value is not None and not can_time_out():
        click.echo("warning: --codec-timeout needs fork() (Linux); codecs run without a time limit here", err=True)
    return value


@click.command("listen")
@click.argument("inputs", metavar="IN...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-c", "--codec", "codec_names", multiple=True, help="Audio codec (repeatable; default: all).")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="[CODEC.]KEY=VALUE",
    help="Codec parameter; unqualified keys apply to every selected codec that declares them.",
)
@input_options
@click.option("--residual-gain", default="auto", show_default=True, help="'auto' (power of two) or a positive gain.")
@click.option("-o", "--out-dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--codec-timeout", type=float, default=None, metavar="SECONDS",
    help="Run each codec in a child process and mark it failed after SECONDS (default: no limit).",
)
@content_option
@quiet_option
def listen_command(
    inputs, codec_names, params, rate, dither, seed, residual_gain, out_dir, codec_timeout, content, quiet
) -> None:
    """Write OUT_DIR/index.html: players, spectrograms and metrics for every codec on IN.

    A codec that fails or times out is shown on the page with its error; the others complete.
    """
    codecs = select_codecs(codec_names, params)
    gain = parse_gain(residual_gain)
    timeout = _check_timeout(codec_timeout)
    index = _build(_page_inputs(list(inputs), rate, dither, seed), codecs, out_dir, gain, quiet, timeout, content)
    click.echo(str(index))


@click.command("demo")
@click.option("-o", "--out-dir", default="demo-output", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--samples", "samples", default=None, type=click.Path(file_okay=False),
    help="Directory of input files (default: the bundled audio_samples/).",
)
@quiet_option
def demo_command(out_dir, samples, quiet) -> None:
    """The listening page for the bundled samples with every audio codec; prints its path."""
    folder = Path(samples) if samples else samples_dir()
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in SAMPLE_SUFFIXES) if folder.is_dir() else []
    if not files:
        raise ParameterError(
            f"no sample files ({', '.join(SAMPLE_SUFFIXES)}) found in {folder}; pass --samples DIR"
        )
    codecs = select_codecs((), ())
    index = _build(_page_inputs([str(p) for p in files], None, False, None), codecs, out_dir, "auto", quiet)
    click.echo(f"listening page for {len(files)} sample(s) x {len(codecs)} codec(s): {', '.join(q.name for q in codecs)}")
    click.echo(str(index.resolve()))


commands = [listen_command, demo_command]
