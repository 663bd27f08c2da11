"""Reading coded files: container detection and decoding through the registry.

Detection order: the ``.iwc`` magic, then a ``RIFF....WAVE`` header with a coded format tag
(plain PCM/float WAVs are not coded files), then the ``.ul``/``.al`` extension (headerless
G.711; 8000 Hz mono unless told otherwise).  See :mod:`.coded` for the containers and the
codec protocol.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioFormatError, ParameterError
from ..quantizer import Quantizer
from ..registry import QuantizerRegistry
from . import container, wav
from .codecs import (
    RAW_DEFAULT_RATE,
    RAW_TAGS,
    as_2d,
    byte_codes,
    codec_for_tag,
    make_codec,
    registry_or_default,
    tagged_codecs,
    wav_tag,
    writes_wav,
)
from .pcm import Audio, check_rate
from .sniff import sniff_coded

__all__ = ["DecodedFile", "read_coded", "decode_blob", "sniff_coded"]


@dataclass(frozen=True)
class DecodedFile:
    """What :func:`read_coded` found: the decoded audio and how it was coded."""

    audio: Audio
    container: str
    codec: str
    params: dict[str, Any] = field(default_factory=dict)
    payload_bytes: int = 0
    description: str = ""
    #: one-line notes about recoveries (e.g. a truncated data chunk), for the CLI to print
    warnings: tuple[str, ...] = ()


def read_coded(
    path: str | os.PathLike,
    *,
    raw_rate: int | None = None,
    raw_channels: int | None = None,
    registry: QuantizerRegistry | None = None,
) -> DecodedFile:
    """Detect the container of ``path`` and decode it with the registered codec."""
    path = Path(path)
    if path.is_dir():
        raise AudioFormatError(f"{path}: is a directory, expected a coded audio file")
    return decode_blob(
        path.read_bytes(), path, raw_rate=raw_rate, raw_channels=raw_channels, registry=registry
    )


def decode_blob(
    blob: bytes,
    path: str | os.PathLike,
    *,
    raw_rate: int | None = None,
    raw_channels: int | None = None,
    registry: QuantizerRegistry | None = None,
    codec: Quantizer | None = None,
) -> DecodedFile:
    """Decode the coded file content ``blob``; ``path`` gives its name and extension.

    ``codec`` overrides the registry lookup for WAV and raw files (the round trip decodes
    with the very instance that encoded).
    """
    path = Path(path)
    if not blob:
        raise AudioFormatError(f"{path}: file is empty (0 bytes); expected a coded audio file")
    reg = registry_or_default(registry)
    is_raw = path.suffix.lower() in RAW_TAGS and not blob.startswith(container.MAGIC) and not wav.is_riff_wave(blob)
    if (raw_rate is not None or raw_channels is not None) and not is_raw:
        raise ParameterError(
            f"{path}: the raw rate/channel options apply only to headerless .ul/.al files; this file has a header"
        )
    if blob.startswith(container.MAGIC):
        return _read_iwc(path, blob, reg)
    if blob[:4] in (b"RIFF", b"RIFX", b"RF64"):
        return _read_wav(path, blob, reg, codec)
    if is_raw:
        return _read_raw(path, blob, reg, raw_rate, raw_channels, codec)
    raise AudioFormatError(
        f"{path}: unsupported coded container (starts with {blob[:8]!r}); allowed: RIFF/WAVE with a "
        f"coded format tag ({tagged_codecs(reg)}), headerless .ul/.al, {container.EXTENSION} inwhale container"
    )


def _explicit_params(name: str, stored: dict[str, Any], reg: QuantizerRegistry) -> dict[str, Any]:
    """The stored parameters that differ from the codec's defaults.

    The container records every parameter; passing back only non-default ones rebuilds the
    same quantizer without tripping codecs that reject parameters irrelevant to their mode.
    Unknown names are kept so the codec's constructor reports them.
    """
    if name not in reg:
        return stored
    specs = {p.name: p for p in reg.get(name).param_specs()}
    explicit = {}
    for key, value in stored.items():
        spec = specs.get(key)
        if spec is None or spec.required or spec.validate(value, f"{name} (stored)") != spec.default:
            explicit[key] = value
    return explicit


def _decode_codes(q: Quantizer, codes: np.ndarray, rate: int) -> Audio:
    return Audio(np.ascontiguousarray(as_2d(q.decode(codes)).astype(np.int16, copy=False)), rate)


def _read_iwc(path: Path, blob: bytes, reg: QuantizerRegistry) -> DecodedFile:
    header, payload = container.read_container(blob, str(path))
    q = make_codec(header.codec, _explicit_params(header.codec, header.params, reg), reg)
    codes = q.unpack_codes(payload, header.frames, header.channels)
    return DecodedFile(
        _decode_codes(q, codes, check_rate(header.rate, f"{path}: container sample rate")),
        "iwc", q.name, dict(q.params), len(payload), f"inwhale container, codec {q.name}",
    )


def _read_wav(path: Path, blob: bytes, reg: QuantizerRegistry, codec: Quantizer | None) -> DecodedFile:
    parsed = wav.read_wav(blob, str(path))
    fmt = parsed.fmt
    if fmt.format_tag in (wav.WAVE_FORMAT_PCM, wav.WAVE_FORMAT_IEEE_FLOAT):
        raise AudioFormatError(
            f"{path}: is a plain {fmt.describe()} WAV, not a coded file; coded WAV format tags: {tagged_codecs(reg)}"
        )
    cls = type(codec) if codec is not None and wav_tag(codec) == fmt.format_tag else codec_for_tag(fmt.format_tag, reg)
    if cls is None:
        raise AudioFormatError(
            f"{path}: WAV {fmt.describe()} is not supported; coded WAV format tags: {tagged_codecs(reg)}"
        )
    q = codec if isinstance(codec, cls) else cls()
    if q.wav_decode is not None:
        pcm = q.wav_decode(fmt, parsed.data, parsed.fact_frames)
    else:
        if not writes_wav(q):
            raise AudioFormatError(
                f"{path}: WAV {fmt.describe()} belongs to codec {q.name!r}, which has "
                f"{float(q.bits_per_sample):g}-bit codes and implements no wav_decode for its block layout"
            )
        width = byte_codes(q)
        if fmt.block_align != fmt.channels * width:
            raise AudioFormatError(
                f"{path}: {fmt.describe()} with {fmt.channels} channel(s) needs block align "
                f"{fmt.channels * width}, the file says {fmt.block_align}"
            )
        frames = len(parsed.data) // fmt.block_align
        if parsed.fact_frames is not None and not parsed.missing_bytes:
            frames = parsed.fact_frames
        if frames * fmt.block_align > len(parsed.data):
            raise AudioFormatError(
                f"{path}: fact chunk declares {frames} frames ({frames * fmt.block_align} bytes) but the "
                f"data chunk holds {len(parsed.data)} bytes (truncated)"
            )
        pcm = q.decode(q.unpack_codes(parsed.data, frames, fmt.channels))
    notes = ()
    if parsed.missing_bytes:
        notes = (
            f"{path}: data chunk is truncated ({parsed.missing_bytes} bytes missing); decoded the "
            f"{len(pcm)} complete frames present",
        )
    return DecodedFile(
        Audio(np.ascontiguousarray(as_2d(pcm).astype(np.int16, copy=False)), fmt.rate),
        "wav", q.name, dict(q.params), len(parsed.data), f"WAV {fmt.describe()}", notes,
    )


def _read_raw(
    path: Path, blob: bytes, reg: QuantizerRegistry, rate: int | None, channels: int | None, codec: Quantizer | None
) -> DecodedFile:
    tag = RAW_TAGS[path.suffix.lower()]
    cls = type(codec) if codec is not None and wav_tag(codec) == tag else codec_for_tag(tag, reg)
    if cls is None:
        raise AudioFormatError(
            f"{path}: no registered audio codec declares WAV format tag {tag} for {path.suffix} files; "
            f"coded WAV format tags: {tagged_codecs(reg)}"
        )
    rate = RAW_DEFAULT_RATE if rate is None else check_rate(rate, "raw sample rate")
    channels = 1 if channels is None else channels
    if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= 64:
        raise ParameterError(f"raw channel count {channels!r} is not allowed; expected an integer in [1, 64]")
    q = codec if isinstance(codec, cls) else cls()
    width = byte_codes(q)
    if len(blob) % (width * channels):
        raise AudioFormatError(
            f"{path}: {len(blob)} bytes is not a whole number of {channels}-channel frames of {width} byte(s)"
        )
    frames = len(blob) // (width * channels)
    codes = q.unpack_codes(blob, frames, channels)
    return DecodedFile(_decode_codes(q, codes, rate), "raw", q.name, dict(q.params), len(blob),
                       f"raw {path.suffix} ({rate} Hz, {channels} channel(s) assumed)")
