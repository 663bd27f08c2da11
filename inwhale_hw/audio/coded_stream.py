"""Coded files written and read block by block: the streaming form of :mod:`.coded`.

Same containers, same bytes as :func:`.coded.encode_to_bytes` and the same samples as
:func:`.coded.read_coded`, with memory bounded by the block:

* codes go through the codec's streaming objects (:meth:`~inwhale_hw.Quantizer.encoder`,
  :meth:`~inwhale_hw.Quantizer.decoder`: state carries across blocks);
* codes are packed in groups of 8 frames (``8 * channels`` codes fill whole bytes at any
  whole number of bits per code), so nibble and bit packing split exactly;
* codecs with their own WAV block layout stream through two optional methods next to
  ``wav_encode`` / ``wav_decode``: ``wav_encoder(rate, channels) -> (encoder, layout)`` where
  ``encoder.encode(pcm) -> bytes`` / ``encoder.flush() -> bytes`` and ``layout`` is a
  :class:`~.wav.WavPayload` without data giving the fmt fields; and
  ``wav_decoder(fmt, size, frames) -> decoder`` with ``decode(bytes) -> pcm``, ``flush()``,
  ``frames`` and ``notes``.  A codec with only the one-shot methods is coded in one call
  (memory then grows with the file);
* the header is written first with the expected sizes and patched when the writer closes
  (a WAV header's length does not depend on the sizes; an ``.iwc`` header is padded with
  JSON whitespace to a fixed length).  Writes are atomic (:mod:`.atomic`).
"""

from __future__ import annotations

import contextlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

from .. import __version__
from ..errors import AudioFormatError, ParameterError, UnsupportedError
from ..quantizer import Quantizer
from ..registry import QuantizerRegistry
from . import container, wav
from .atomic import atomic_path
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
from .guard import GuardedDecoder, GuardedEncoder
from .limits import check_payload_fits
from .pcm import check_rate
from .stream import BLOCK_FRAMES

__all__ = ["CodedWriter", "CodedReader", "open_coded", "PACK_FRAMES"]

#: frames per packing group: 8 codes per channel always fill whole bytes
PACK_FRAMES = 8


def _kind_of(path: Path) -> str:
    from .coded import container_of  # local import: coded.py re-exports this module's users

    return container_of(path)


class CodedWriter:
    """Encode int16 blocks ``(n, channels)`` with ``q`` into the container ``path`` names.

    ``frames`` is the expected frame count (written into the header first; the real count is
    patched in at the end).  Use as a context manager; :attr:`payload_bytes` and
    :attr:`file_bytes` are set when it closes.
    """

    def __init__(self, path: str | os.PathLike, q: Quantizer, rate: int, channels: int, frames: int = 0) -> None:
        self.path = Path(path)
        self.kind = _kind_of(self.path)
        self.q, self.rate, self.channels, self.expected = q, check_rate(rate), int(channels), int(frames)
        self.frames = 0
        self.payload_bytes = 0
        self.file_bytes = 0
        tag = wav_tag(q)
        if self.kind == "raw" and tag != RAW_TAGS[self.path.suffix.lower()]:
            want = RAW_TAGS[self.path.suffix.lower()]
            raise AudioFormatError(
                f"{self.path}: a {self.path.suffix.lower()} file holds the codes of WAV format tag {want}; codec "
                f"{q.name!r} has tag {tag}; use .wav or {container.EXTENSION} for it"
            )
        if self.kind == "wav" and tag is None:
            raise UnsupportedError(
                f"codec {q.name!r} has no standard WAV format (no wav_format_tag); write the "
                f"inwhale container instead, e.g. -o out{container.EXTENSION}"
            )
        self._block_coder = None
        self._layout: wav.WavPayload | None = None
        self._whole: list[np.ndarray] | None = None
        if self.kind == "wav" and getattr(q, "wav_encoder", None) is not None:
            self._block_coder, self._layout = q.wav_encoder(self.rate, self.channels)
        elif self.kind == "wav" and getattr(q, "wav_encode", None) is not None:
            self._whole = []
        else:
            if self.kind != "iwc":
                width = byte_codes(q)
                self._layout = wav.WavPayload(b"", 0, self.channels * width, 8 * width)
            self._encoder = GuardedEncoder(q, q.encoder(), self.channels)
            self._codes: list[np.ndarray] = []
            self._held = 0
        self._stack = contextlib.ExitStack()
        self._handle: BinaryIO | None = None
        self._header_len = 0

    # -- headers ------------------------------------------------------------------------------

    def _wav_header(self, data_len: int, frames: int) -> bytes:
        lay = self._layout
        return wav.wav_header(
            wav_tag(self.q), self.channels, self.rate, lay.block_align, lay.bits_per_sample, data_len, frames,
            lay.extension, lay.samples_per_block,
        )

    def _iwc_header(self, payload: int, frames: int, width: int | None = None) -> bytes:
        header = container.ContainerHeader(
            codec=self.q.name, params=dict(self.q.params), rate=self.rate, channels=self.channels, frames=frames,
            payload_bytes=payload, bits_per_sample=float(self.q.bits_per_sample), writer=f"inwhale_hw {__version__}",
        )
        text = container.header_json(header)
        width = len(text) + container.HEADER_SLACK if width is None else width
        if len(text) > width:
            raise AudioFormatError(f"{self.path}: container header grew past its reserved {width} bytes")
        return container.MAGIC + struct.pack("<I", width) + text + b" " * (width - len(text))

    def _expected_payload(self) -> int:
        lay = self._layout
        if lay is not None and lay.samples_per_block > 1:
            return -(-self.expected // lay.samples_per_block) * lay.block_align
        groups, rest = divmod(self.expected, PACK_FRAMES)
        return groups * _packed_size(self.q, PACK_FRAMES, self.channels) + _packed_size(self.q, rest, self.channels)

    # -- context ------------------------------------------------------------------------------

    def __enter__(self) -> "CodedWriter":
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._handle = self._stack.enter_context(open(tmp, "wb"))
        if self.kind == "wav" and self._whole is None:
            head = self._wav_header(self._expected_payload(), self.expected)
        elif self.kind == "iwc":
            head = self._iwc_header(self._expected_payload(), self.expected)
        else:
            head = b""
        self._header_len = len(head)
        self._handle.write(head)
        return self

    def _put(self, data: bytes) -> None:
        self._handle.write(data)
        self.payload_bytes += len(data)

    def write(self, block: np.ndarray) -> None:
        """Encode the next int16 block ``(n, channels)``."""
        block = as_2d(np.asarray(block))
        if block.shape[1] != self.channels:
            raise ParameterError(f"{self.path}: block of {block.shape[1]} channel(s) in a {self.channels}-channel stream")
        self.frames += block.shape[0]
        pcm = block[:, 0] if self.channels == 1 else block
        if self._whole is not None:
            self._whole.append(pcm)
        elif self._block_coder is not None:
            self._put(self._block_coder.encode(block))
        else:
            self._pack(self._encoder.encode(pcm), final=False)

    def _pack(self, codes: np.ndarray, final: bool) -> None:
        if codes.shape[0]:
            self._codes.append(codes)
            self._held += codes.shape[0]
        take = self._held if final else self._held - self._held % PACK_FRAMES
        if not take:
            return
        joined = np.concatenate(self._codes)
        self._put(self.q.pack_codes(joined[:take]))
        self._codes = [joined[take:]]
        self._held -= take

    def _finish(self) -> None:
        if self._whole is not None:
            pcm = np.concatenate(self._whole) if self._whole else np.zeros((0, self.channels), np.int16)
            self._layout = self.q.wav_encode(pcm, self.rate)
            self._handle.write(self._wav_header(len(self._layout.data), self.frames))
            self._put(self._layout.data)
        elif self._block_coder is not None:
            self._put(self._block_coder.flush())
        else:
            self._pack(self._encoder.flush(), final=True)
        if self.kind == "wav":
            if self.payload_bytes % 2:
                self._handle.write(b"\0")
            if self._whole is None:
                head = self._wav_header(self.payload_bytes, self.frames)
                if len(head) != self._header_len:  # the RIFF/RF64 choice changed: rewrite the layout
                    raise AudioFormatError(f"{self.path}: {self.frames} frames differ from the {self.expected} announced")
                self._handle.seek(0)
                self._handle.write(head)
        elif self.kind == "iwc":
            self._handle.seek(0)
            self._handle.write(self._iwc_header(self.payload_bytes, self.frames, self._header_len - 12))
        self._handle.seek(0, os.SEEK_END)
        self.file_bytes = self._handle.tell()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                self._finish()
            except BaseException as error:
                self._stack.__exit__(type(error), error, error.__traceback__)
                raise
        return self._stack.__exit__(exc_type, exc, tb)


@dataclass
class CodedReader:
    """An opened coded file: what it holds and :meth:`blocks` decoding it block by block."""

    path: Path
    container: str
    codec: Quantizer
    rate: int
    channels: int
    frames: int
    payload_bytes: int
    description: str
    notes: list[str] = field(default_factory=list)
    _offset: int = 0
    _source: Any = None

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """Yield int16 ``(n, channels)`` blocks of decoded audio."""
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            yield from self._source(handle, block_frames)


def _chunks(handle: BinaryIO, total: int, size: int) -> Iterator[bytes]:
    while total > 0:
        data = handle.read(min(size, total))
        if not data:
            return
        total -= len(data)
        yield data


def _packed_size(q: Quantizer, frames: int, channels: int) -> int:
    """Bytes ``q.pack_codes`` gives for ``frames`` frames of ``channels`` codes."""
    return len(q.pack_codes(np.zeros((frames, channels) if channels > 1 else frames, dtype=q.code_dtype)))


def _coded_blocks(q: Quantizer, frames: int, channels: int, total: int):
    """Source decoding ``frames`` packed frames (``total`` payload bytes) with ``q``'s stream decoder."""
    group_bytes = _packed_size(q, PACK_FRAMES, channels)

    def source(handle: BinaryIO, block_frames: int) -> Iterator[np.ndarray]:
        decoder = GuardedDecoder(q, q.decoder(), channels)
        groups = max(1, block_frames // PACK_FRAMES)
        done = 0
        for data in _chunks(handle, total, groups * group_bytes):
            count = min(frames - done, groups * PACK_FRAMES)  # a last, shorter chunk holds the rest
            if count <= 0:
                break
            out = decoder.decode(q.unpack_codes(data, count, channels))
            done += count
            if len(out):
                yield np.ascontiguousarray(as_2d(out).astype(np.int16, copy=False))
        if done < frames:
            raise AudioFormatError(f"{q.name}: coded data ends after {done} of {frames} frames (truncated)")
        tail = decoder.flush()
        if len(tail):
            yield np.ascontiguousarray(as_2d(tail).astype(np.int16, copy=False))

    return source


def _block_decoder_source(make_decoder, size: int, block_align: int):
    def source(handle: BinaryIO, block_frames: int) -> Iterator[np.ndarray]:
        decoder = make_decoder()
        step = max(1, block_frames // max(1, decoder.samples_per_block)) * block_align
        for data in _chunks(handle, size, step):
            out = decoder.decode(data)
            if len(out):
                yield out
        tail = decoder.flush()
        if len(tail):
            yield tail

    return source


def open_coded(
    path: str | os.PathLike,
    *,
    raw_rate: int | None = None,
    raw_channels: int | None = None,
    registry: QuantizerRegistry | None = None,
    codec: Quantizer | None = None,
) -> CodedReader:
    """Open a coded file (container detected as :mod:`.coded_read` does) for block decoding.

    ``codec`` overrides the registry lookup for WAV and raw files (the round trip decodes with
    the instance that encoded).
    """
    from .coded_read import explicit_params  # local import: coded_read builds on this package

    path = Path(path)
    if path.is_dir():
        raise AudioFormatError(f"{path}: is a directory, expected a coded audio file")
    size = path.stat().st_size
    if not size:
        raise AudioFormatError(f"{path}: file is empty (0 bytes); expected a coded audio file")
    reg = registry_or_default(registry)
    with open(path, "rb") as handle:
        head = handle.read(12)
        is_raw = path.suffix.lower() in RAW_TAGS and not head.startswith(container.MAGIC) and head[:4] not in (
            b"RIFF", b"RF64", b"RIFX"
        )
        if (raw_rate is not None or raw_channels is not None) and not is_raw:
            raise ParameterError(
                f"{path}: the raw rate/channel options apply only to headerless .ul/.al files; this file has a header"
            )
        if head.startswith(container.MAGIC):
            handle.seek(0)
            header, offset = container.read_container_header(handle, str(path), size)
            q = make_codec(header.codec, explicit_params(header.codec, header.params, reg), reg)
            check_payload_fits(str(path), header.frames, header.channels, q.bits_per_sample, header.payload_bytes)
            rate = check_rate(header.rate, f"{path}: container sample rate")
            source = _coded_blocks(q, header.frames, header.channels, header.payload_bytes)
            return CodedReader(path, "iwc", q, rate, header.channels, header.frames, header.payload_bytes,
                               f"inwhale container, codec {q.name}", [], offset, source)
        if head[:4] in (b"RIFF", b"RIFX", b"RF64"):
            return _open_wav(path, handle, size, reg, codec)
    if is_raw:
        return _open_raw(path, size, reg, raw_rate, raw_channels, codec)
    raise AudioFormatError(
        f"{path}: unsupported coded container (starts with {head[:8]!r}); allowed: RIFF/WAVE with a "
        f"coded format tag ({tagged_codecs(reg)}), headerless .ul/.al, {container.EXTENSION} inwhale container"
    )


def _open_wav(path: Path, handle: BinaryIO, size: int, reg: QuantizerRegistry, codec: Quantizer | None) -> CodedReader:
    layout = wav.scan_wav(handle, str(path), size)
    fmt = layout.fmt
    if fmt.format_tag in (wav.WAVE_FORMAT_PCM, wav.WAVE_FORMAT_IEEE_FLOAT):
        raise AudioFormatError(
            f"{path}: is a plain {fmt.describe()} WAV, not a coded file; coded WAV format tags: {tagged_codecs(reg)}"
        )
    cls = type(codec) if codec is not None and wav_tag(codec) == fmt.format_tag else codec_for_tag(fmt.format_tag, reg)
    if cls is None:
        raise AudioFormatError(f"{path}: WAV {fmt.describe()} is not supported; coded WAV format tags: {tagged_codecs(reg)}")
    q = codec if isinstance(codec, cls) else cls()
    notes = []
    if layout.missing_bytes:
        notes.append(f"{path}: data chunk is truncated ({layout.missing_bytes} bytes missing); decoded the complete frames present")
    describe = f"WAV {fmt.describe()}"
    if getattr(q, "wav_decoder", None) is not None:
        fact = layout.fact_frames if not layout.missing_bytes else None
        decoder = q.wav_decoder(fmt, layout.data_size, fact)
        notes.extend(f"{path}: {n}" for n in decoder.notes)
        source = _block_decoder_source(lambda: q.wav_decoder(fmt, layout.data_size, fact), layout.data_size, fmt.block_align)
        return CodedReader(path, "wav", q, fmt.rate, fmt.channels, decoder.frames, layout.data_size, describe, notes,
                           layout.data_offset, source)
    if getattr(q, "wav_decode", None) is not None:
        def whole(h: BinaryIO, _block: int) -> Iterator[np.ndarray]:
            yield as_2d(q.wav_decode(fmt, h.read(layout.data_size), layout.fact_frames)).astype(np.int16, copy=False)

        return CodedReader(path, "wav", q, fmt.rate, fmt.channels, layout.fact_frames or 0, layout.data_size,
                           describe, notes, layout.data_offset, whole)
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
    frames = layout.data_size // fmt.block_align
    if layout.fact_frames is not None and not layout.missing_bytes:
        if layout.fact_frames * fmt.block_align > layout.data_size:
            raise AudioFormatError(
                f"{path}: fact chunk declares {layout.fact_frames} frames ({layout.fact_frames * fmt.block_align} "
                f"bytes) but the data chunk holds {layout.data_size} bytes (truncated)"
            )
        frames = layout.fact_frames
    source = _coded_blocks(q, frames, fmt.channels, frames * fmt.block_align)
    return CodedReader(path, "wav", q, fmt.rate, fmt.channels, frames, layout.data_size, describe, notes,
                       layout.data_offset, source)


def _open_raw(
    path: Path, size: int, reg: QuantizerRegistry, rate: int | None, channels: int | None, codec: Quantizer | None
) -> CodedReader:
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
    if size % (width * channels):
        raise AudioFormatError(f"{path}: {size} bytes is not a whole number of {channels}-channel frames of {width} byte(s)")
    frames = size // (width * channels)
    return CodedReader(path, "raw", q, rate, channels, frames, size,
                       f"raw {path.suffix} ({rate} Hz, {channels} channel(s) assumed)", [], 0,
                       _coded_blocks(q, frames, channels, size))
