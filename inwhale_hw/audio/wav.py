"""A strict RIFF/WAVE chunk reader and writer for coded (non-PCM) WAV files.

Layout written (Microsoft "Multimedia Programming Interface and Data Specifications 1.0",
1991, §3 "Waveform Audio File Format"; WAVEFORMATEX and the ``fact`` chunk from the
Multimedia Standards Update of 1994)::

    "RIFF" <u32 riff_size> "WAVE"
    "fmt " <u32 18 + len(ext)> wFormatTag u16, nChannels u16, nSamplesPerSec u32,
           nAvgBytesPerSec u32, nBlockAlign u16, wBitsPerSample u16, cbSize u16, ext bytes
    "fact" <u32 4> dwSampleLength u32          (frames per channel)
    "data" <u32 n> n bytes [pad byte 0 if n is odd]

All integers are little-endian.  Every chunk body is followed by a zero pad byte when its
size is odd (RIFF §2).  A non-PCM WAVE file must carry a ``fact`` chunk; G.711 files use
``cbSize = 0`` (an 18-byte ``fmt`` chunk), which libsndfile and ffmpeg both read.

Reading rules (:func:`read_wav`):

* the file must start with ``RIFF`` .. ``WAVE`` or ``RF64`` .. ``WAVE`` (EBU Tech 3306: a
  ``ds64`` chunk first carries the 64-bit RIFF, data and sample counts that the 32-bit fields,
  set to 0xFFFFFFFF, cannot hold); ``RIFX`` (big-endian) is reported as unsupported;
* chunks are walked in order; a chunk other than ``data`` whose declared size runs past the
  end of the file (or a header cut short) raises :class:`~inwhale_hw.errors.AudioFormatError`,
  as does a ``fmt`` chunk shorter than 16 bytes or inconsistent with its ``cbSize``;
* a ``data`` chunk cut short by the end of the file (an interrupted download or recording)
  is recovered: the bytes present are returned and ``missing_bytes`` says how many are
  missing, so decoders can decode the complete frames or blocks, as libsndfile does;
* ``fmt`` must come before ``data``; unknown chunks (LIST, PEAK, ...) are skipped;
* reading stops at the end of the ``data`` chunk: anything after it is ignored (many
  writers append metadata or leave garbage there), except that a well-formed ``fact``
  chunk found there is still used if none came before ``data``;
* the RIFF size field is not trusted (streaming writers store 0 or 0xFFFFFFFF); the
  chunk walk is bounded by the real file size.

:func:`scan_wav` walks the chunks of an open file without reading the ``data`` body (the
streaming readers then read it block by block); :func:`read_wav` is the same walk over bytes
in memory.  :func:`wav_header` writes everything up to the data body, so a streaming writer
can write the header, the body in blocks, and patch the sizes at the end; data over 4 GiB
gets the RF64 layout.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import AudioFormatError
from .limits import check_header

__all__ = [
    "WavFormat",
    "WavPayload",
    "WavFile",
    "read_wav",
    "scan_wav",
    "WavLayout",
    "build_wav",
    "wav_header",
    "WAVE_FORMAT_PCM",
    "WAVE_FORMAT_IEEE_FLOAT",
    "WAVE_FORMAT_EXTENSIBLE",
    "is_riff_wave",
    "FORMAT_TAG_NAMES",
]

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE

#: registered names of common format tags (RFC 2361 Appendix A), for error messages
FORMAT_TAG_NAMES = {
    0x0001: "PCM",
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0020: "Yamaha ADPCM",
    0x0031: "GSM 6.10",
    0x0040: "G.721 ADPCM",
    0x0045: "G.726 ADPCM",
    0x0050: "MPEG",
    0x0055: "MPEG Layer III",
    0xFFFE: "extensible",
}


@dataclass(frozen=True)
class WavFormat:
    """The decoded ``fmt`` chunk.  ``format_tag`` is the effective tag: for
    WAVE_FORMAT_EXTENSIBLE it is taken from the first two bytes of the SubFormat GUID."""

    format_tag: int
    channels: int
    rate: int
    byte_rate: int
    block_align: int
    bits_per_sample: int
    extension: bytes = b""
    raw_tag: int | None = None

    def describe(self) -> str:
        name = FORMAT_TAG_NAMES.get(self.format_tag, "unregistered")
        return f"format tag 0x{self.format_tag:04X} ({name})"


@dataclass(frozen=True)
class WavPayload:
    """What a block codec's ``wav_encode`` returns: everything the writer needs.

    ``data`` is the body of the ``data`` chunk, ``frames`` the frame count for ``fact``,
    ``block_align`` the ``nBlockAlign`` field (bytes per block, all channels),
    ``bits_per_sample`` the ``wBitsPerSample`` field, ``extension`` the bytes after
    ``cbSize`` (``cbSize = len(extension)``), ``samples_per_block`` the frames one block
    holds (used for ``nAvgBytesPerSec``).
    """

    data: bytes
    frames: int
    block_align: int
    bits_per_sample: int
    extension: bytes = b""
    samples_per_block: int = 1


@dataclass(frozen=True)
class WavFile:
    """A parsed WAVE file: its format, the ``data`` chunk bytes and the ``fact`` frame count."""

    fmt: WavFormat
    data: bytes
    fact_frames: int | None
    #: bytes the ``data`` chunk declares beyond the end of the file (0 for a complete file)
    missing_bytes: int = 0


def is_riff_wave(head: bytes) -> bool:
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def build_wav(
    format_tag: int,
    channels: int,
    rate: int,
    block_align: int,
    bits_per_sample: int,
    data: bytes,
    frames: int,
    extension: bytes = b"",
    samples_per_block: int = 1,
) -> bytes:
    """Serialize a non-PCM WAVE file: 18+ byte ``fmt`` (cbSize = len(extension)), ``fact``, ``data``.

    ``nAvgBytesPerSec`` is ``floor(rate * block_align / samples_per_block)``, the rule of
    Microsoft's ACM codecs that libsndfile and sox follow (4055 for IMA-ADPCM at 8 kHz mono
    with 256-byte blocks; exact for one frame per block, as G.711 has).
    """
    header = wav_header(
        format_tag, channels, rate, block_align, bits_per_sample, len(data), frames, extension, samples_per_block
    )
    if header[:4] == b"RF64":
        raise AudioFormatError(f"cannot write WAV: {len(data)} data bytes exceed the 4 GiB RIFF limit")
    return header + data + (b"\0" if len(data) % 2 else b"")


_RIFF_MAX = 0xFFFFFFFF


def wav_header(
    format_tag: int,
    channels: int,
    rate: int,
    block_align: int,
    bits_per_sample: int,
    data_len: int,
    frames: int,
    extension: bytes = b"",
    samples_per_block: int = 1,
) -> bytes:
    """Everything of the file before the data body (``... "data" <size>``), for ``data_len`` bytes.

    When the file would pass 4 GiB the RF64 layout is used: ``"RF64" 0xFFFFFFFF "WAVE"``, a
    28-byte ``ds64`` chunk (u64 RIFF size, u64 data size, u64 sample count, u32 table length 0),
    and 0xFFFFFFFF in the 32-bit data (and, past 32 bits, fact) sizes.  The same header length
    results whatever ``data_len`` is as long as the choice of layout does not change.
    """
    for name, value, limit in (
        ("format tag", format_tag, 0xFFFF),
        ("channels", channels, 0xFFFF),
        ("block align", block_align, 0xFFFF),
        ("bits per sample", bits_per_sample, 0xFFFF),
        ("extension size", len(extension), 0xFFFF),
        ("sample rate", rate, _RIFF_MAX),
    ):
        if not 0 <= value <= limit:
            raise AudioFormatError(f"cannot write WAV: {name} {value} is outside [0, {limit}]")
    if channels < 1 or block_align < 1 or samples_per_block < 1 or frames < 0 or data_len < 0:
        raise AudioFormatError(
            f"cannot write WAV: channels {channels}, block align {block_align} and samples per "
            f"block {samples_per_block} must all be >= 1 (frames {frames}, data {data_len} >= 0)"
        )
    byte_rate = min(rate * block_align // samples_per_block, _RIFF_MAX)
    fmt_body = struct.pack(
        "<HHIIHHH", format_tag, channels, rate, byte_rate, block_align, bits_per_sample, len(extension)
    ) + extension
    fmt = _chunk(b"fmt ", fmt_body)
    pad = data_len & 1
    riff_size = 4 + len(fmt) + 12 + 8 + data_len + pad
    if riff_size <= _RIFF_MAX and frames <= _RIFF_MAX:
        return b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + fmt + _chunk(b"fact", struct.pack("<I", frames)) + (
            b"data" + struct.pack("<I", data_len)
        )
    riff_size += 36
    ds64 = _chunk(b"ds64", struct.pack("<QQQI", riff_size, data_len, frames, 0))
    fact = _chunk(b"fact", struct.pack("<I", min(frames, _RIFF_MAX)))
    return b"RF64" + struct.pack("<I", _RIFF_MAX) + b"WAVE" + ds64 + fmt + fact + b"data" + struct.pack("<I", _RIFF_MAX)


def _chunk(ckid: bytes, body: bytes) -> bytes:
    pad = b"\0" if len(body) % 2 else b""
    return ckid + struct.pack("<I", len(body)) + body + pad


@dataclass(frozen=True)
class WavLayout:
    """Where things are in a WAVE file: its format, ``fact`` count and the data body's place.

    ``data_size`` is the number of data bytes present in the file; ``missing_bytes`` how many
    more the chunk declares (0 for a complete file).
    """

    fmt: WavFormat
    fact_frames: int | None
    data_offset: int
    data_size: int
    missing_bytes: int = 0


def read_wav(blob: bytes, name: str = "<bytes>") -> WavFile:
    """Parse a RIFF/WAVE file held in ``blob`` following the rules in the module docstring."""
    layout = scan_wav(io.BytesIO(blob), name, len(blob))
    body = blob[layout.data_offset : layout.data_offset + layout.data_size]
    return WavFile(layout.fmt, body, layout.fact_frames, layout.missing_bytes)


def scan_wav(handle: BinaryIO, name: str, end: int) -> WavLayout:
    """Walk the chunks of the WAVE file open as ``handle`` (``end`` bytes long) up to its data."""
    handle.seek(0)
    head = handle.read(12)
    if len(head) < 12:
        raise AudioFormatError(f"{name}: {len(head)} bytes is too short for a RIFF/WAVE header (12 bytes)")
    if head[:4] == b"RIFX" and head[8:12] == b"WAVE":
        raise AudioFormatError(f"{name}: RIFX WAVE is not supported (big-endian); allowed: RIFF or RF64 WAVE")
    if not is_riff_wave(head) and head[:4] + head[8:12] != b"RF64WAVE":
        raise AudioFormatError(f"{name}: not a RIFF/WAVE file (starts with {head!r})")
    fmt: WavFormat | None = None
    fact: int | None = None
    data64: int | None = None
    frames64: int | None = None
    pos = 12
    while True:
        handle.seek(pos)
        ck = handle.read(8)
        if len(ck) < 8:
            where = "before a data chunk" if fmt is not None else "before the fmt and data chunks"
            raise AudioFormatError(f"{name}: file ends at byte {pos} {where} (truncated or not a complete WAV)")
        ckid = ck[:4]
        (size,) = struct.unpack_from("<I", ck, 4)
        body_start = pos + 8
        if ckid == b"data":
            if fmt is None:
                raise AudioFormatError(f"{name}: data chunk at byte {pos} comes before any fmt chunk")
            if size == _RIFF_MAX and data64 is not None:
                size = data64
            present = min(size, end - body_start)
            if fact is None and present == size:
                fact = _fact_after(handle, body_start + size + (size & 1), end)
            return WavLayout(fmt, fact, body_start, present, size - present)
        if body_start + size > end:
            raise AudioFormatError(
                f"{name}: chunk {_show_id(ckid)} at byte {pos} declares {size} bytes but only "
                f"{end - body_start} remain (truncated file)"
            )
        if ckid == b"fmt ":
            fmt = _parse_fmt(handle.read(size), name)
        elif ckid == b"fact":
            if size < 4:
                raise AudioFormatError(f"{name}: fact chunk has {size} bytes, expected at least 4")
            (fact,) = struct.unpack("<I", handle.read(4))
            if fact == _RIFF_MAX and frames64 is not None:
                fact = frames64
        elif ckid == b"ds64" and size >= 24:
            _, data64, frames64 = struct.unpack("<QQQ", handle.read(24))
        pos = body_start + size + (size & 1)


def _fact_after(handle: BinaryIO, pos: int, end: int) -> int | None:
    """A well-formed fact chunk after ``data``, if any; anything malformed ends the search."""
    while pos + 8 <= end:
        handle.seek(pos)
        ck = handle.read(8)
        ckid = ck[:4]
        (size,) = struct.unpack_from("<I", ck, 4)
        if pos + 8 + size > end or not ckid.isascii():
            return None
        if ckid == b"fact" and size >= 4:
            return struct.unpack("<I", handle.read(4))[0]
        pos += 8 + size + (size & 1)
    return None


def _show_id(ckid: bytes) -> str:
    return repr(ckid.decode("latin-1"))


def _parse_fmt(body: bytes, name: str) -> WavFormat:
    if len(body) < 16:
        raise AudioFormatError(f"{name}: fmt chunk has {len(body)} bytes, expected at least 16")
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    extension = b""
    if len(body) >= 18:
        (cb_size,) = struct.unpack_from("<H", body, 16)
        if 18 + cb_size > len(body):
            raise AudioFormatError(
                f"{name}: fmt chunk declares cbSize {cb_size} but holds only {len(body) - 18} extension bytes"
            )
        extension = body[18 : 18 + cb_size]
    check_header(name, rate=rate, channels=channels)
    if block_align < 1:
        raise AudioFormatError(f"{name}: fmt chunk declares block align {block_align}; expected at least 1")
    raw_tag = None
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(extension) < 22:
            raise AudioFormatError(
                f"{name}: WAVE_FORMAT_EXTENSIBLE fmt chunk has a {len(extension)}-byte extension, expected 22"
            )
        raw_tag, tag = tag, struct.unpack_from("<H", extension, 6)[0]
    return WavFormat(tag, channels, rate, byte_rate, block_align, bits, extension, raw_tag)
