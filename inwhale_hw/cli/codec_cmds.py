"""``inwhale-hw encode``, ``decode`` and ``roundtrip``: audio files through any audio codec.

Inputs are read block by block with :func:`inwhale_hw.audio.stream.open_audio` (anything
libsndfile reads; float data rounded half-to-even and saturated, with a warning when samples
saturate) and go through :mod:`inwhale_hw.audio.pipeline`, so memory is bounded by the block.
Outputs are written atomically; bad input stops before any file is written.  A progress line
(with ETA) is drawn on stderr when it is a terminal, unless ``--quiet``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from ..audio import coded
from ..audio.atomic import atomic_dir, check_output_dir
from ..audio.coded_stream import open_coded
from ..audio.pcm import Audio, AudioSaturationWarning, AudioTruncationWarning
from ..audio.stream import read_audio
from ..audio.pipeline import decode_file, encode_file, roundtrip_files
from ..audio.roundtrip import is_roundtrip_dir, parse_gain
from ..audio.stream import AudioStream, open_audio
from ..errors import ParameterError
from .progress import Progress, quiet_option

__all__ = [
    "commands", "parse_params", "load_input", "open_input", "warn_saturation", "rate_note", "input_options", "content_option",
    "format_metrics",
]


def parse_params(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("key=value", ...)`` -> ``{"key": "value"}``; values stay strings for Param coercion."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"parameter {item!r} is not allowed; expected key=value, e.g. -p flavor=itu")
        if key in params:
            raise ParameterError(f"parameter {key!r} is given twice ({params[key]!r} and {value!r})")
        params[key] = value
    return params


def load_input(path: str, rate: int | None, dither: bool, seed: int | None) -> Audio:
    """Read ``path`` as int16 PCM; print a one-line warning if samples saturated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioSaturationWarning)
        audio = read_audio(path, rate=rate, dither=dither, seed=seed)
    message = audio.conversion.saturation_message(path) if audio.conversion else None
    if message:
        click.echo(f"warning: {message}", err=True)
    return audio


def content_option(fn):
    """``--content auto|speech|music``: whether PESQ/STOI (speech metrics) are computed."""
    return click.option(
        "--content", type=click.Choice(["auto", "speech", "music"]), default="auto", show_default=True,
        help="Speech metrics (PESQ, STOI) for speech, none for music; auto: speech if >= 10% of 20 ms frames are "
        "below -40 dBFS.",
    )(fn)


def input_options(fn):
    """The input-conversion options shared by encode, roundtrip and listen."""
    fn = click.option("--seed", type=int, default=None, help="Seed of the TPDF dither (default: unseeded).")(fn)
    fn = click.option(
        "--dither/--no-dither", default=False,
        help="Add TPDF dither (+-1 LSB triangular) before rounding float or resampled input to int16.",
    )(fn)
    fn = click.option(
        "--rate", "rate", type=int, default=None, metavar="HZ",
        help="Resample the input to HZ first (scipy resample_poly), e.g. --rate 8000 for telephony.",
    )(fn)
    return fn


def _describe_audio(audio: Audio) -> str:
    return f"{audio.rate} Hz, {audio.channels} ch, {audio.frames} frames ({audio.duration:.2f} s)"


def format_metrics(record: dict[str, Any]) -> str:
    """One line of the headline numbers of a metrics record."""
    m = record["metrics"]

    def num(v: Any, unit: str = "") -> str:
        return f"{v:.2f}{unit}" if isinstance(v, float) else f"{v}{unit}"

    bitrate = m["bitrate_bps"]
    line = (
        f"SNR {num(m['snr_db'], ' dB')}, segSNR {num(m['segmental_snr_db'], ' dB')} "
        f"({m['segmental_snr_frame_samples']}-sample frames, clamp {m['segmental_snr_clamp_db']} dB; "
        f"unclamped {num(m.get('segmental_snr_unclamped_db'), ' dB')}), "
        f"max |error| {num(m['max_abs_error'])}, "
        f"{m['bits_per_sample']:g} bit/sample = {bitrate / 1000:g} kbit/s"
    )
    sp = record.get("speech_metrics")
    if sp and sp.get("shown"):
        scores = ", ".join(f"{k.upper().replace('_', '-')} {sp[k]:.3f}" for k in ("pesq_nb", "pesq_wb", "stoi", "estoi")
                           if sp.get(k) is not None)
        line += f"\nspeech metrics ({len(sp['excerpts'])} excerpt(s); meaningless for music): {scores}"
    elif sp:
        line += f"\nspeech metrics not computed ({sp['decision']})"
    return line


def open_input(path: str, rate: int | None, dither: bool, seed: int | None) -> AudioStream:
    """Open ``path`` for block reading as int16 (the conversion of :func:`load_input`).

    A truncated input (data chunk shorter than its header says) is read in part and reported in
    one ``warning:`` line naming the frames read.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioTruncationWarning)
        stream = open_audio(path, rate=rate, dither=dither, seed=seed)
    for item in caught:
        if issubclass(item.category, AudioTruncationWarning):
            click.echo(f"warning: {item.message}", err=True)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return stream


def warn_saturation(stream: AudioStream) -> None:
    """After reading: a one-line warning if the conversion saturated samples."""
    message = stream.conversion.saturation_message(str(stream.path))
    if message:
        click.echo(f"warning: {message}", err=True)


def rate_note(q, rate: int) -> str | None:
    """The note ``encode`` and ``roundtrip`` print when the codec codes another rate."""
    if q.required_rate is not None and q.required_rate != rate:
        return f"note: {q.name} codes {q.required_rate} Hz input; resampling from {rate} Hz"
    return None


def _describe_stream(rate: int, channels: int, frames: int) -> str:
    return f"{rate} Hz, {channels} ch, {frames} frames ({frames / rate:.2f} s)"


@click.command("encode")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.option("-c", "--codec", required=True, help="Audio codec name (see `inwhale-hw plugins`).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Codec parameter (repeatable).")
@input_options
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False),
    help="Coded file: .wav (codecs with a WAV format tag), .ul/.al (raw G.711), .iwc (any codec).",
)
@quiet_option
def encode_command(input_path, codec, params, rate, dither, seed, output, quiet) -> None:
    """Encode audio file IN with CODEC into a coded file (block by block, bounded memory)."""
    q = coded.make_codec(codec, parse_params(params))
    coded.container_of(Path(output))
    check_output_dir(Path(output))
    stream = open_input(input_path, rate, dither, seed)
    note = rate_note(q, stream.rate)
    if note:
        click.echo(note, err=True)
    with Progress(quiet).task(f"encode {Path(input_path).name} with {q.name}", stream.frames) as tick:
        result = encode_file(stream, q, output, tick)
    warn_saturation(stream)
    if result.resampled[0]:
        click.echo(
            f"warning: resampling to {result.rate} Hz saturated {result.resampled[0]} sample(s) "
            f"(first at frame {result.resampled[1]})", err=True,
        )
    click.echo(
        f"wrote {result.path} ({result.container}, {q!r}, "
        f"{_describe_stream(result.rate, result.channels, result.frames)}, {result.file_bytes} bytes)"
    )
    if result.container == "raw" and (result.rate != coded.RAW_DEFAULT_RATE or result.channels != 1):
        click.echo(
            f"note: raw {Path(output).suffix} files store no rate or channel count; decode with "
            f"--raw-rate {result.rate} --raw-channels {result.channels}",
            err=True,
        )


@click.command("decode")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PCM output (.wav, .flac, ...).")
@click.option("--raw-rate", type=int, default=None, metavar="HZ", help="Sample rate of a raw .ul/.al input (default 8000).")
@click.option("--raw-channels", type=int, default=None, metavar="N", help="Channels of a raw .ul/.al input (default 1).")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
    help="Decoder parameter for a coded WAV or raw file, e.g. -p flavor=ffmpeg for IMA-ADPCM (repeatable).",
)
@quiet_option
def decode_command(input_path, output, raw_rate, raw_channels, params, quiet) -> None:
    """Decode coded file IN (coded WAV, .ul/.al, .iwc) to 16-bit PCM (block by block)."""
    check_output_dir(Path(output))
    head = open_coded(input_path, raw_rate=raw_rate, raw_channels=raw_channels)
    codec = None
    if params:
        if head.container == "iwc":
            raise ParameterError(
                f"{input_path}: an {coded.container.EXTENSION} file stores its codec parameters; "
                "-p applies to coded WAV and raw files"
            )
        codec = coded.make_codec(head.codec.name, parse_params(params))
        head = open_coded(input_path, raw_rate=raw_rate, raw_channels=raw_channels, codec=codec)
    for note in head.notes:
        click.echo(f"warning: {note}", err=True)
    with Progress(quiet).task(f"decode {Path(input_path).name}", head.frames) as tick:
        result = decode_file(input_path, output, raw_rate=raw_rate, raw_channels=raw_channels, codec=codec, tick=tick)
    click.echo(
        f"wrote {output} (decoded {result.description} with {result.codec.name}, "
        f"{_describe_stream(result.rate, result.channels, result.frames)})"
    )


@click.command("roundtrip")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.option("-c", "--codec", required=True, help="Audio codec name (see `inwhale-hw plugins`).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Codec parameter (repeatable).")
@input_options
@click.option(
    "--residual-gain", default="auto", show_default=True,
    help="Gain applied to residual.wav for listening: 'auto' (power of two) or a positive number.",
)
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Directory for the results.")
@content_option
@quiet_option
def roundtrip_command(input_path, codec, params, rate, dither, seed, residual_gain, out_dir, content, quiet) -> None:
    """Encode IN with CODEC, decode it again; write decoded.wav, residual.wav, metrics.json."""
    q = coded.make_codec(codec, parse_params(params))
    gain = parse_gain(residual_gain)
    stream = open_input(input_path, rate, dither, seed)
    note = rate_note(q, stream.rate)
    if note:
        click.echo(f"{note}; decoded and residual are resampled back and compared at {stream.rate} Hz", err=True)
    task = Progress(quiet).task(f"roundtrip {Path(input_path).name} with {q.name}", 3 * stream.frames)
    with atomic_dir(out_dir, is_roundtrip_dir) as tmp, task as tick:  # whole directory or nothing
        trip = roundtrip_files(
            lambda: open_input(input_path, rate, dither, seed), q, tmp, gain=gain,
            input_info={"path": str(input_path)}, tick=tick, content=content,
        )
    warn_saturation(stream)
    click.echo(f"{q!r} on {input_path}: {_describe_stream(trip.rate, trip.channels, trip.frames)}")
    click.echo(format_metrics(trip.summary()))
    click.echo(f"residual.wav = (input - decoded) x gain {trip.gain_text()}")
    for text in trip.notes:
        click.echo(f"warning: {text}", err=True)
    if trip.residual_saturated:
        click.echo(f"warning: {trip.residual_saturated} residual sample(s) saturated at that gain", err=True)
    click.echo(f"wrote {', '.join(str(Path(out_dir) / p.name) for p in trip.paths.values())}")


commands = [encode_command, decode_command, roundtrip_command]
