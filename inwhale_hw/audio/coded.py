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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioFormatError, UnsupportedError
from ..quantizer import Quantizer
from . import container, wav
from .atomic import atomic_write_bytes
from .codecs import RAW_DEFAULT_RATE, RAW_TAGS, audio_codecs, byte_codes, make_codec, wav_tag, writes_wav
from .coded_read import DecodedFile, decode_blob, read_coded, sniff_coded
from .pcm import Audio

__all__ = [
    "RAW_TAGS",
    "RAW_DEFAULT_RATE",
    "OUTPUT_CONTAINERS",
    "EncodedFile",
    "DecodedFile",
    "make_codec",
    "audio_codecs",
    "encode_to_bytes",
    "write_coded",
    "read_coded",
    "decode_blob",
    "sniff_coded",
    "container_of",
    "default_extension",
    "writes_wav",
]

OUTPUT_CONTAINERS = (".wav", ".ul", ".al", container.EXTENSION)


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


def _default_payload(q: Quantizer, codes: np.ndarray, frames: int, channels: int) -> wav.WavPayload:
    width = byte_codes(q)
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
    tag = wav_tag(q)
    if kind == "wav":
        if tag is None:
            raise UnsupportedError(
                f"codec {q.name!r} has no standard WAV format (no wav_format_tag); write the "
                f"inwhale container instead, e.g. -o out{container.EXTENSION}"
            )
        if q.wav_encode is not None:
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
    from ..version import __version__

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
    if kind == "raw" and wav_tag(q) != RAW_TAGS[path.suffix.lower()]:
        want = RAW_TAGS[path.suffix.lower()]
        raise AudioFormatError(
            f"{path}: a {path.suffix.lower()} file holds the codes of WAV format tag {want}; codec "
            f"{q.name!r} has tag {wav_tag(q)}; use .wav or {container.EXTENSION} for it"
        )
    blob, payload = encode_to_bytes(audio, q, kind)
    atomic_write_bytes(path, blob)
    return EncodedFile(path, kind, q.name, dict(q.params), audio.rate, audio.channels, audio.frames, payload, len(blob))
