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

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..audio.atomic import atomic_write_text
from ..audio.pcm import Audio, write_pcm
from ..audio.roundtrip import RoundTrip, run_roundtrip
from ..quantizer import Quantizer
from . import spectrogram
from .html import render_page
from .views import CodecView, InputView, PageView, TrackView

__all__ = ["PageInput", "TrackView", "CodecView", "InputView", "PageView", "build_listening_page"]


@dataclass(frozen=True)
class PageInput:
    """One input of the page: a display name and its int16 audio."""

    name: str
    audio: Audio


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "item"
    slug, n = base, 1
    while slug.lower() in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug.lower())
    return slug


def _describe(audio: Audio) -> str:
    layout = {1: "mono", 2: "stereo"}.get(audio.channels, f"{audio.channels} channels")
    return f"{audio.rate} Hz, {layout}, {audio.duration:.2f} s ({audio.frames} frames)"


def _conversion_text(audio: Audio) -> str:
    conv = audio.conversion
    if conv is None:
        return ""
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


def _squeeze(x: np.ndarray) -> np.ndarray:
    return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x


def build_listening_page(
    inputs: Sequence[PageInput],
    codecs: Sequence[Quantizer],
    out_dir: str | os.PathLike,
    *,
    gain: str | float = "auto",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Run every codec on every input, write the files and ``index.html``; return its path."""
    out = Path(out_dir)
    note = spectrogram.matplotlib_missing()
    step = progress or (lambda label: None)
    views: list[InputView] = []
    taken: set[str] = {"index.html"}
    for item in inputs:
        slug = _slug(Path(item.name).stem, taken)
        base = out / slug
        audio = item.audio
        write_pcm(base / "original.wav", _squeeze(audio.samples), audio.rate)
        png = _picture(note, base / "original.png", audio.samples, audio.rate, f"original: {item.name}")
        original = TrackView("original", f"{slug}/original.wav", png and f"{slug}/original.png")
        step(f"{item.name}: original")
        view = InputView(item.name, slug, _describe(audio), _conversion_text(audio), original)
        codec_taken: set[str] = {"original.wav", "original.png"}
        for q in codecs:
            trip = run_roundtrip(audio, q, gain=gain)
            info = {"name": item.name, "conversion": audio.conversion.to_dict() if audio.conversion else None}
            view.codecs.append(_codec_view(trip, q, slug, _slug(q.name, codec_taken), base, note, info))
            step(f"{item.name}: {q.name}")
        views.append(view)
    page = PageView(views, [q.name for q in codecs], note)
    index = out / "index.html"
    atomic_write_text(index, render_page(page))
    return index


def _picture(note: str | None, path: Path, samples: np.ndarray, rate: int, title: str) -> str | None:
    if note is not None:
        return None
    spectrogram.save_spectrogram(path, samples, rate, title)
    return path.name


def _codec_view(
    trip: RoundTrip, q: Quantizer, in_slug: str, slug: str, base: Path, note: str | None, info: dict[str, Any]
) -> CodecView:
    folder = base / slug
    rel = f"{in_slug}/{slug}"
    paths = trip.write(folder, info)
    residual_raw = trip.original.samples.astype(np.int32) - trip.decoded.samples.astype(np.int32)
    dec_png = _picture(note, folder / "decoded.png", trip.decoded.samples, trip.decoded.rate, f"decoded: {q.name}")
    res_png = _picture(
        note, folder / "residual.png", residual_raw, trip.original.rate, f"residual (input - decoded): {q.name}"
    )
    record = trip.summary()
    hist = record["metrics"]["error_histogram"]
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
        coded_link=f"{rel}/{paths['coded'].name}",
        metrics_link=f"{rel}/{paths['metrics'].name}",
        gain_text=trip.gain_text(),
        histogram=(hist["edges"], hist["counts"]),
    )
