"""``inwhale-hw encode``, ``decode`` and ``roundtrip``: audio files through any audio codec.

Inputs are read with :func:`inwhale_hw.audio.pcm.read_audio` (anything libsndfile reads;
float data rounded half-to-even and saturated, with a warning when samples saturate).
Outputs are written atomically; bad input stops before any file is written.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from ..audio import coded
from ..audio.pcm import Audio, AudioSaturationWarning, read_audio, write_pcm
from ..audio.atomic import atomic_dir, check_output_dir
from ..audio.roundtrip import at_codec_rate, is_roundtrip_dir, parse_gain, run_roundtrip
from ..errors import ParameterError

__all__ = ["commands", "parse_params", "load_input", "input_options", "format_metrics"]


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
    return (
        f"SNR {num(m['snr_db'], ' dB')}, segSNR {num(m['segmental_snr_db'], ' dB')} "
        f"({m['segmental_snr_frame_samples']}-sample frames, clamp {m['segmental_snr_clamp_db']} dB), "
        f"max |error| {num(m['max_abs_error'])}, "
        f"{m['bits_per_sample']:g} bit/sample = {bitrate / 1000:g} kbit/s"
    )


@click.command("encode")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.option("-c", "--codec", required=True, help="Audio codec name (see `inwhale-hw plugins`).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Codec parameter (repeatable).")
@input_options
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False),
    help="Coded file: .wav (codecs with a WAV format tag), .ul/.al (raw G.711), .iwc (any codec).",
)
def encode_command(input_path, codec, params, rate, dither, seed, output) -> None:
    """Encode audio file IN with CODEC into a coded file."""
    q = coded.make_codec(codec, parse_params(params))
    coded.container_of(Path(output))
    check_output_dir(Path(output))
    audio = load_input(input_path, rate, dither, seed)
    if q.required_rate is not None and q.required_rate != audio.rate:
        click.echo(f"note: {q.name} codes {q.required_rate} Hz input; resampling from {audio.rate} Hz", err=True)
        audio = at_codec_rate(audio, q)
    result = coded.write_coded(output, audio, q)
    click.echo(
        f"wrote {result.path} ({result.container}, {q!r}, {_describe_audio(audio)}, "
        f"{result.file_bytes} bytes)"
    )
    if result.container == "raw" and (audio.rate != coded.RAW_DEFAULT_RATE or audio.channels != 1):
        click.echo(
            f"note: raw {Path(output).suffix} files store no rate or channel count; decode with "
            f"--raw-rate {audio.rate} --raw-channels {audio.channels}",
            err=True,
        )


@click.command("decode")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PCM output (.wav, .flac, ...).")
@click.option("--raw-rate", type=int, default=None, metavar="HZ", help="Sample rate of a raw .ul/.al input (default 8000).")
@click.option("--raw-channels", type=int, default=None, metavar="N", help="Channels of a raw .ul/.al input (default 1).")
def decode_command(input_path, output, raw_rate, raw_channels) -> None:
    """Decode coded file IN (coded WAV, .ul/.al, .iwc) to 16-bit PCM."""
    check_output_dir(Path(output))
    result = coded.read_coded(input_path, raw_rate=raw_rate, raw_channels=raw_channels)
    for note in result.warnings:
        click.echo(f"warning: {note}", err=True)
    samples = result.audio.samples
    write_pcm(output, samples[:, 0] if samples.shape[1] == 1 else samples, result.audio.rate)
    click.echo(f"wrote {output} (decoded {result.description} with {result.codec}, {_describe_audio(result.audio)})")


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
def roundtrip_command(input_path, codec, params, rate, dither, seed, residual_gain, out_dir) -> None:
    """Encode IN with CODEC, decode it again; write decoded.wav, residual.wav, metrics.json."""
    q = coded.make_codec(codec, parse_params(params))
    gain = parse_gain(residual_gain)
    with atomic_dir(out_dir, is_roundtrip_dir) as tmp:  # whole directory or nothing, also on signals
        audio = load_input(input_path, rate, dither, seed)
        trip = run_roundtrip(audio, q, gain=gain)
        info = {"path": str(input_path), "conversion": audio.conversion.to_dict() if audio.conversion else None}
        written = trip.write(tmp, info)
    paths = {key: Path(out_dir) / p.name for key, p in written.items()}
    click.echo(f"{q!r} on {input_path}: {_describe_audio(audio)}")
    click.echo(format_metrics(trip.summary()))
    click.echo(f"residual.wav = (input - decoded) x gain {trip.gain_text()}")
    if trip.residual_saturated:
        click.echo(f"warning: {trip.residual_saturated} residual sample(s) saturated at that gain", err=True)
    click.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


commands = [encode_command, decode_command, roundtrip_command]
