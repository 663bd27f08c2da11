"""Build the listening page: round trips, WAVs, spectrograms, then ``index.html``.

Directory layout written under ``out_dir`` (all paths in the page are relative to it)::

    index.html
    <input>/original.wav, original.png
    <input>/<codec>/decoded.wav, residual.wav, coded.<ext>, metrics.json,
                    decoded.png, residual.png

``<input>`` and ``<codec>`` are file-system-safe slugs (made unique with ``-2``, ``-3`` ...).
``original.wav`` is the input after the stated conversion (int16, optional resampling), so
the three players of a codec compare like with like.  Every file is written atomically;
``index.html`` is written last, so a failure never leaves a page that points at missing
files.  Without matplotlib the PNGs are skipped and the page says why.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Sequence

import numpy as np

from .. import __version__
from ..audio.atomic import atomic_write_text
from ..audio.pipeline import RoundTripFiles, roundtrip_files
from ..audio.stream import AudioStream, PcmWriter
from ..quantizer import Quantizer
from . import spectrogram
from .html import render_page

__all__ = ["PageInput", "TrackView", "CodecView", "InputView", "PageView", "build_listening_page", "Task"]

#: ``task(label, total)``: a context manager yielding ``tick(frames)`` (progress display)
Task = Callable[[str, int], ContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class PageInput:
    """One input of the page: a display name and how to open it (afresh for every pass)."""

    name: str
    open: Callable[[], AudioStream]


@dataclass(frozen=True)
class TrackView:
    label: str
    wav: str
    png: str | None
    caption: str = ""


@dataclass(frozen=True)
class CodecView:
    codec: str
    slug: str
    params: dict[str, Any]
    summary: str
    coded_description: str
    record: dict[str, Any]
    decoded: TrackView
    residual: TrackView
    coded_link: str
    metrics_link: str
    gain_text: str
    histogram: tuple[list[float], list[int]]
    rate_note: str = ""


@dataclass(frozen=True)
class InputView:
    name: str
    slug: str
    description: str
    conversion: str
    original: TrackView
    codecs: list[CodecView] = field(default_factory=list)


@dataclass(frozen=True)
class PageView:
    inputs: list[InputView]
    codecs: list[str]
    spectrogram_note: str | None
    generator: str = f"inwhale_hw {__version__}"


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "item"
    slug, n = base, 1
    while slug.lower() in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug.lower())
    return slug


def _describe(stream: AudioStream, frames: int) -> str:
    layout = {1: "mono", 2: "stereo"}.get(stream.channels, f"{stream.channels} channels")
    return f"{stream.rate} Hz, {layout}, {frames / stream.rate:.2f} s ({frames} frames)"


def _conversion_text(stream: AudioStream) -> str:
    conv = stream.conversion
    text = f"source: {conv.source_format} {conv.source_subtype} at {conv.source_rate} Hz"
    if conv.resampled_to:
        text += f"; resampled to {conv.resampled_to} Hz (scipy resample_poly)"
    if conv.converted:
        text += f"; to int16 by {conv.rounding}"
        if conv.dithered:
            text += f", TPDF dither (seed {conv.dither_seed})"
        if conv.saturated:
            text += f"; {conv.saturated} sample(s) saturated"
    return text


@contextlib.contextmanager
def _silent(label: str, total: int):
    yield lambda n: None


def build_listening_page(
    inputs: Sequence[PageInput],
    codecs: Sequence[Quantizer],
    out_dir: str | os.PathLike,
    *,
    gain: str | float = "auto",
    task: Task | None = None,
) -> Path:
    """Run every codec on every input, write the files and ``index.html``; return its path.

    Everything streams (:mod:`inwhale_hw.audio.pipeline`): memory is bounded by the block and
    the spectrograms' column limit, not by the inputs' length.
    """
    out = Path(out_dir)
    note = spectrogram.matplotlib_missing()
    task = task or _silent
    views: list[InputView] = []
    taken: set[str] = {"index.html"}
    for item in inputs:
        slug = _slug(Path(item.name).stem, taken)
        base = out / slug
        stream = item.open()
        picture = None if note else spectrogram.SpectrogramAccumulator(stream.rate, stream.frames)
        with task(f"{item.name}: original", stream.frames) as tick, PcmWriter(
            base / "original.wav", stream.rate, stream.channels, stream.frames
        ) as writer:
            for block in stream.blocks(tick):
                writer.write(block)
                if picture is not None:
                    picture.update(block)
        png = _draw(picture, base / "original.png", f"original: {item.name}{_averaged(stream.channels)}")
        original = TrackView("original", f"{slug}/original.wav", png and f"{slug}/original.png")
        view = InputView(item.name, slug, _describe(stream, writer.frames), _conversion_text(stream), original)
        codec_taken: set[str] = {"original.wav", "original.png"}
        for q in codecs:
            c_slug = _slug(q.name, codec_taken)
            pictures = (
                None if note else [spectrogram.SpectrogramAccumulator(stream.rate, writer.frames) for _ in range(2)]
            )

            def observe(decoded: np.ndarray, residual: np.ndarray, pictures=pictures) -> None:
                if pictures is not None:
                    pictures[0].update(decoded)
                    pictures[1].update(residual)

            with task(f"{item.name}: {q.name}", 3 * writer.frames) as tick:
                trip = roundtrip_files(
                    item.open, q, base / c_slug, gain=gain, input_info={"name": item.name}, observe=observe, tick=tick
                )
            view.codecs.append(_codec_view(trip, q, slug, c_slug, base, pictures, stream.channels))
        views.append(view)
    page = PageView(views, [q.name for q in codecs], note)
    index = out / "index.html"
    atomic_write_text(index, render_page(page))
    return index


def _averaged(channels: int) -> str:
    return " (channels averaged)" if channels > 1 else ""


def _draw(acc: "spectrogram.SpectrogramAccumulator | None", path: Path, title: str) -> str | None:
    if acc is None:
        return None
    spectrogram.draw_spectrogram(path, acc, title)
    return path.name


def _codec_view(
    trip: RoundTripFiles, q: Quantizer, in_slug: str, slug: str, base: Path, pictures: list | None, channels: int
) -> CodecView:
    folder = base / slug
    rel = f"{in_slug}/{slug}"
    both = pictures or [None, None]
    dec_png = _draw(both[0], folder / "decoded.png", f"decoded: {q.name}{_averaged(channels)}")
    res_png = _draw(both[1], folder / "residual.png", f"residual (input - decoded): {q.name}{_averaged(channels)}")
    record = trip.summary()
    hist = record["metrics"]["error_histogram"]
    rate_note = ""
    if trip.codec_rate != trip.rate:
        rate_note = (
            f"{q.name} codes at {trip.codec_rate} Hz: the input was resampled to it, and the decoded output "
            f"back to {trip.rate} Hz; players, spectrograms and metrics compare at {trip.rate} Hz."
        )
    return CodecView(
        codec=q.name,
        slug=slug,
        params=dict(record["params"]),
        summary=type(q).summary,
        coded_description=trip.coded_description,
        record=record,
        decoded=TrackView("decoded", f"{rel}/decoded.wav", dec_png and f"{rel}/{dec_png}"),
        residual=TrackView(
            "residual",
            f"{rel}/residual.wav",
            res_png and f"{rel}/{res_png}",
            f"input - decoded, played at gain {trip.gain_text()}; spectrogram at unity gain",
        ),
        coded_link=f"{rel}/{trip.paths['coded'].name}",
        metrics_link=f"{rel}/{trip.paths['metrics'].name}",
        gain_text=trip.gain_text(),
        histogram=(hist["edges"], hist["counts"]),
        rate_note=rate_note,
    )
