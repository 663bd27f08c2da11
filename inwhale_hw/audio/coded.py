"""The coded-file layer: write any registered audio codec's output to a file, read it back.

Containers, chosen by the output file's extension when writing and detected from the
content when reading:

``.wav``  RIFF/WAVE with the codec's registered format tag (see :mod:`.wav`).
``.ul`` / ``.al``  headerless G.711 bytes: the codes of the codec whose ``wav_format_tag`` is
          7 (mu-law) or 6 (A-law), one byte per sample, channels interleaved.  Raw files carry
          no rate or channel count: readers assume 8000 Hz mono unless told otherwise.
``.iwc``  the inwhale coded container (:mod:`.container`): works for every audio codec.

Detection on reading: the ``.iwc`` magic, then a ``RIFF....WAVE`` header (a coded format
tag; plain PCM/float WAVs are not coded files), then the ``.ul``/``.al`` extension.

Protocol for codec authors (nothing here names a codec; everything goes through the
registry):

``wav_format_tag: int | None`` (class attribute)
    The WAVE ``wFormatTag`` of the codec's standard WAV representation, e.g. 7 for mu-law,
    6 for A-law, 0x0011 for IMA ADPCM.  Absent or ``None``: the codec has no WAV form and
    is written as ``.iwc``.  When reading a WAV, the registered audio codec declaring the
    file's tag is built with default parameters (if several declare it, the first by name).

Default WAV payload (codecs whose codes are whole bytes, like G.711): ``data`` is
``pack_codes(codes)``, ``nBlockAlign = channels * bits_per_sample / 8``,
``wBitsPerSample = bits_per_sample``, ``cbSize = 0``, plus a ``fact`` chunk with the frame
count.  Codecs that need their own block layout (IMA ADPCM: 4-byte per-channel block
headers, ``cbSize = 2`` + ``wSamplesPerBlock``) implement both optional methods:

``wav_encode(self, pcm: np.ndarray, rate: int) -> WavPayload``
    ``pcm`` is int16 ``(n,)`` (mono) or ``(n, channels)``; return a
    :class:`~inwhale_hw.audio.wav.WavPayload` (data chunk body, frames, block align,
    bits per sample, fmt extension bytes, samples per block).
``wav_decode(self, fmt: WavFormat, data: bytes, frames: int | None) -> np.ndarray``
    ``frames`` comes from the ``fact`` chunk (``None`` if the file has none); return int16
    ``(frames,)`` or ``(frames, fmt.channels)``.

Writes are atomic (:mod:`.atomic`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioFormatError, ParameterError, UnknownQuantizerError, UnsupportedError
from ..quantizer import Quantizer
from ..registry import QuantizerRegistry
from . import container, wav
from .atomic import atomic_write_bytes
from .pcm import Audio, check_rate

__all__ = [
    "RAW_TAGS",
    "OUTPUT_CONTAINERS",
    "EncodedFile",
    "DecodedFile",
    "make_codec",
    "audio_codecs",
    "encode_to_bytes",
    "write_coded",
    "read_coded",
    "decode_blob",
    "container_of",
    "default_extension",
    "writes_wav",
    "sniff_coded",
    "RAW_DEFAULT_RATE",
]

#: raw extensions and the WAVE format tag whose codes they hold
RAW_TAGS = {".ul": 7, ".al": 6}
OUTPUT_CONTAINERS = (".wav", ".ul", ".al", container.EXTENSION)
RAW_DEFAULT_RATE = 8000


def _registry(registry: QuantizerRegistry | None) -> QuantizerRegistry:
    if registry is not None:
        return registry
    from ..host import get_host

    return get_host().registry


def audio_codecs(registry: QuantizerRegistry | None = None) -> list[str]:
    """Names of every registered audio codec."""
    return _registry(registry).names("audio")


def make_codec(name: str, params: dict[str, Any] | None = None, registry: QuantizerRegistry | None = None) -> Quantizer:
    """Build the audio codec ``name`` with ``params`` (strings are coerced by its Param specs)."""
    reg = _registry(registry)
    available = ", ".join(reg.names("audio")) or "none"
    if name not in reg:
        raise UnknownQuantizerError(f"unknown codec {name!r}; available audio codecs: {available}")
    cls = reg.get(name)
    if cls.kind != "audio":
        raise ParameterError(
            f"quantizer {name!r} is a {cls.kind} quantizer, not an audio codec; available audio codecs: {available}"
        )
    return cls(**(params or {}))


def _tag(q: Quantizer | type[Quantizer]) -> int | None:
    tag = getattr(q, "wav_format_tag", None)
    return int(tag) if tag is not None else None


def _codec_for_tag(tag: int, reg: QuantizerRegistry) -> type[Quantizer] | None:
    for entry in reg.entries("audio"):
        if _tag(entry.cls) == tag:
            return entry.cls
    return None


def _tagged_codecs(reg: QuantizerRegistry) -> str:
    pairs = [f"0x{_tag(e.cls):04X} {e.name}" for e in reg.entries("audio") if _tag(e.cls) is not None]
    return ", ".join(pairs) or "none registered"


@dataclass(frozen=True)
class EncodedFile:
    """What :func:`write_coded` wrote."""

    path: Path
    container: str
    codec: str
    params: dict[str, Any]
    rate: int
    channels: int
    frames: int
    payload_bytes: int
    file_bytes: int


@dataclass(frozen=True)
class DecodedFile:
    """What :func:`read_coded` found: the decoded audio and how it was coded."""

    audio: Audio
    container: str
    codec: str
    params: dict[str, Any] = field(default_factory=dict)
    payload_bytes: int = 0
    description: str = ""


def writes_wav(q: Quantizer) -> bool:
    """True when ``q`` can be written as WAV: a format tag plus either the wav_encode/wav_decode
    protocol or whole-byte codes for the default payload."""
    if _tag(q) is None:
        return False
    if hasattr(q, "wav_encode") and hasattr(q, "wav_decode"):
        return True
    bits = float(q.bits_per_sample)
    return bits > 0 and bits % 8 == 0


def default_extension(q: Quantizer) -> str:
    """``.wav`` when :func:`writes_wav`, else the inwhale container's extension."""
    return ".wav" if writes_wav(q) else container.EXTENSION


def container_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".wav":
        return "wav"
    if ext in RAW_TAGS:
        return "raw"
    if ext == container.EXTENSION:
        return "iwc"
    raise AudioFormatError(
        f"{path}: unsupported coded container {ext or '(no extension)'!r}; allowed: "
        f".wav (codecs with a WAV format tag), .ul (mu-law codes), .al (A-law codes), "
        f"{container.EXTENSION} (inwhale container, any audio codec)"
    )


def _mono_view(samples: np.ndarray) -> np.ndarray:
    return samples[:, 0] if samples.shape[1] == 1 else samples


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x


def _byte_codes(q: Quantizer) -> int:
    """Bytes per code for the default (whole-byte) WAV/raw payload, or raise UnsupportedError."""
    bits = float(q.bits_per_sample)
    if bits <= 0 or bits % 8:
        raise UnsupportedError(
            f"codec {q.name!r} has {bits:g} bits per sample and no wav_encode/wav_decode methods; "
            f"a WAV or raw file needs whole-byte codes: write {container.EXTENSION} instead"
        )
    return int(bits) // 8


def _default_payload(q: Quantizer, codes: np.ndarray, frames: int, channels: int) -> wav.WavPayload:
    width = _byte_codes(q)
    data = q.pack_codes(codes)
    if len(data) != frames * channels * width:
        raise UnsupportedError(
            f"codec {q.name!r}: pack_codes gave {len(data)} bytes for {frames} frames x {channels} "
            f"channels at {width} byte(s) per code; it needs wav_encode/wav_decode for WAV output"
        )
    return wav.WavPayload(data, frames, channels * width, 8 * width)


def encode_to_bytes(audio: Audio, q: Quantizer, kind: str) -> tuple[bytes, int]:
    """Encode ``audio`` with ``q`` into container ``kind`` ("wav", "raw", "iwc").

    Returns the file bytes and the size of the coded payload in bytes.
    """
    pcm = _mono_view(audio.samples)
    tag = _tag(q)
    if kind == "wav":
        if tag is None:
            raise UnsupportedError(
                f"codec {q.name!r} has no standard WAV format (no wav_format_tag); write the "
                f"inwhale container instead, e.g. -o out{container.EXTENSION}"
            )
        if hasattr(q, "wav_encode"):
            payload = q.wav_encode(pcm, audio.rate)
        else:
            payload = _default_payload(q, q.encode(pcm), audio.frames, audio.channels)
        blob = wav.build_wav(
            tag, audio.channels, audio.rate, payload.block_align, payload.bits_per_sample,
            payload.data, payload.frames, payload.extension, payload.samples_per_block,
        )
        return blob, len(payload.data)
    if kind == "raw":
        payload = _default_payload(q, q.encode(pcm), audio.frames, audio.channels)
        return payload.data, len(payload.data)
    codes = q.encode(pcm)
    data = q.pack_codes(codes)
    from .. import __version__

    header = container.ContainerHeader(
        codec=q.name, params=dict(q.params), rate=audio.rate, channels=audio.channels,
        frames=audio.frames, payload_bytes=len(data), bits_per_sample=float(q.bits_per_sample),
        writer=f"inwhale_hw {__version__}",
    )
    return container.build_container(header, data), len(data)


def write_coded(path: str | os.PathLike, audio: Audio, q: Quantizer) -> EncodedFile:
    """Encode ``audio`` with ``q`` and write it (atomically) in the container ``path`` names."""
    path = Path(path)
    kind = container_of(path)
    if kind == "raw" and _tag(q) != RAW_TAGS[path.suffix.lower()]:
        want = RAW_TAGS[path.suffix.lower()]
        raise AudioFormatError(
            f"{path}: a {path.suffix.lower()} file holds the codes of WAV format tag {want}; codec "
            f"{q.name!r} has tag {_tag(q)}; use .wav or {container.EXTENSION} for it"
        )
    blob, payload = encode_to_bytes(audio, q, kind)
    atomic_write_bytes(path, blob)
    return EncodedFile(path, kind, q.name, dict(q.params), audio.rate, audio.channels, audio.frames, payload, len(blob))


def sniff_coded(path: str | os.PathLike) -> str | None:
    """A short description if ``path`` looks like one of our coded files, else ``None``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return None
    if head.startswith(container.MAGIC):
        return "inwhale coded container"
    if wav.is_riff_wave(head):
        try:
            fmt = wav.read_wav(path.read_bytes(), str(path)).fmt
        except AudioFormatError:
            return None
        if fmt.format_tag not in (wav.WAVE_FORMAT_PCM, wav.WAVE_FORMAT_IEEE_FLOAT):
            return f"coded WAV ({fmt.describe()})"
    if path.suffix.lower() in RAW_TAGS:
        return f"raw {'mu-law' if RAW_TAGS[path.suffix.lower()] == 7 else 'A-law'} file"
    return None


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
    reg = _registry(registry)
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
        f"coded format tag ({_tagged_codecs(reg)}), headerless .ul/.al, {container.EXTENSION} inwhale container"
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
    return Audio(np.ascontiguousarray(_as_2d(q.decode(codes)).astype(np.int16, copy=False)), rate)


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
            f"{path}: is a plain {fmt.describe()} WAV, not a coded file; coded WAV format tags: {_tagged_codecs(reg)}"
        )
    cls = type(codec) if codec is not None and _tag(codec) == fmt.format_tag else _codec_for_tag(fmt.format_tag, reg)
    if cls is None:
        raise AudioFormatError(
            f"{path}: WAV {fmt.describe()} is not supported; coded WAV format tags: {_tagged_codecs(reg)}"
        )
    q = codec if isinstance(codec, cls) else cls()
    if hasattr(q, "wav_decode"):
        pcm = q.wav_decode(fmt, parsed.data, parsed.fact_frames)
    else:
        if not writes_wav(q):
            raise AudioFormatError(
                f"{path}: WAV {fmt.describe()} belongs to codec {q.name!r}, which has "
                f"{float(q.bits_per_sample):g}-bit codes and implements no wav_decode for its block layout"
            )
        width = _byte_codes(q)
        if fmt.block_align != fmt.channels * width:
            raise AudioFormatError(
                f"{path}: {fmt.describe()} with {fmt.channels} channel(s) needs block align "
                f"{fmt.channels * width}, the file says {fmt.block_align}"
            )
        frames = parsed.fact_frames if parsed.fact_frames is not None else len(parsed.data) // fmt.block_align
        if frames * fmt.block_align > len(parsed.data):
            raise AudioFormatError(
                f"{path}: fact chunk declares {frames} frames ({frames * fmt.block_align} bytes) but the "
                f"data chunk holds {len(parsed.data)} bytes (truncated)"
            )
        pcm = q.decode(q.unpack_codes(parsed.data, frames, fmt.channels))
    return DecodedFile(
        Audio(np.ascontiguousarray(_as_2d(pcm).astype(np.int16, copy=False)), fmt.rate),
        "wav", q.name, dict(q.params), len(parsed.data), f"WAV {fmt.describe()}",
    )


def _read_raw(
    path: Path, blob: bytes, reg: QuantizerRegistry, rate: int | None, channels: int | None, codec: Quantizer | None
) -> DecodedFile:
    tag = RAW_TAGS[path.suffix.lower()]
    cls = type(codec) if codec is not None and _tag(codec) == tag else _codec_for_tag(tag, reg)
    if cls is None:
        raise AudioFormatError(
            f"{path}: no registered audio codec declares WAV format tag {tag} for {path.suffix} files; "
            f"coded WAV format tags: {_tagged_codecs(reg)}"
        )
    rate = RAW_DEFAULT_RATE if rate is None else check_rate(rate, "raw sample rate")
    channels = 1 if channels is None else channels
    if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= 64:
        raise ParameterError(f"raw channel count {channels!r} is not allowed; expected an integer in [1, 64]")
    q = codec if isinstance(codec, cls) else cls()
    width = _byte_codes(q)
    if len(blob) % (width * channels):
        raise AudioFormatError(
            f"{path}: {len(blob)} bytes is not a whole number of {channels}-channel frames of {width} byte(s)"
        )
    frames = len(blob) // (width * channels)
    codes = q.unpack_codes(blob, frames, channels)
    return DecodedFile(_decode_codes(q, codes, rate), "raw", q.name, dict(q.params), len(blob),
                       f"raw {path.suffix} ({rate} Hz, {channels} channel(s) assumed)")
