"""What the listening page shows, as plain data: :mod:`.build` fills these views, :mod:`.html` renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..version import __version__

__all__ = ["TrackView", "CodecView", "FailedCodec", "InputView", "PageView"]


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
class FailedCodec:
    """A codec that raised, exited or timed out on one input (shown on the page)."""

    codec: str
    slug: str
    error: str


@dataclass(frozen=True)
class InputView:
    name: str
    slug: str
    description: str
    conversion: str
    original: TrackView
    codecs: list[CodecView] = field(default_factory=list)
    failed: list[FailedCodec] = field(default_factory=list)


@dataclass(frozen=True)
class PageView:
    inputs: list[InputView]
    codecs: list[str]
    spectrogram_note: str | None
    generator: str = f"inwhale_hw {__version__}"
