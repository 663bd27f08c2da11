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

* the file must start with ``RIFF`` .. ``WAVE``; ``RIFX``/``RF64`` are reported as
  unsupported containers for coded data;
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
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import AudioFormatError
from .limits import check_header

__all__ = [
    "WavFormat",
    "WavPayload",
    "WavFile",
    "read_wav",
    "build_wav",
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
    for name, value, limit in (
        ("format tag", format_tag, 0xFFFF),
        ("channels", channels, 0xFFFF),
        ("block align", block_align, 0xFFFF),
        ("bits per sample", bits_per_sample, 0xFFFF),
        ("extension size", len(extension), 0xFFFF),
        ("frames", frames, 0xFFFFFFFF),
    ):
        if not 0 <= value <= limit:
            raise AudioFormatError(f"cannot write WAV: {name} {value} is outside [0, {limit}]")
    if channels < 1 or block_align < 1 or samples_per_block < 1:
        raise AudioFormatError(
            f"cannot write WAV: channels {channels}, block align {block_align} and samples per "
            f"block {samples_per_block} must all be >= 1"
        )
    byte_rate = rate * block_align // samples_per_block
    fmt_body = struct.pack(
        "<HHIIHHH", format_tag, channels, rate, byte_rate, block_align, bits_per_sample, len(extension)
    ) + extension
    chunks = _chunk(b"fmt ", fmt_body) + _chunk(b"fact", struct.pack("<I", frames)) + _chunk(b"data", data)
    riff_size = 4 + len(chunks)
    if riff_size > 0xFFFFFFFF:
        raise AudioFormatError(f"cannot write WAV: {riff_size} bytes exceed the 4 GiB RIFF limit")
    return b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + chunks


def _chunk(ckid: bytes, body: bytes) -> bytes:
    pad = b"\0" if len(body) % 2 else b""
    return ckid + struct.pack("<I", len(body)) + body + pad


def read_wav(blob: bytes, name: str = "<bytes>") -> WavFile:
    """Parse a RIFF/WAVE file held in ``blob`` following the rules in the module docstring."""
    if len(blob) < 12:
        raise AudioFormatError(f"{name}: {len(blob)} bytes is too short for a RIFF/WAVE header (12 bytes)")
    if blob[:4] in (b"RIFX", b"RF64") and blob[8:12] == b"WAVE":
        raise AudioFormatError(
            f"{name}: {blob[:4].decode()} WAVE is not supported for coded files; allowed: little-endian RIFF WAVE"
        )
    if not is_riff_wave(blob):
        raise AudioFormatError(f"{name}: not a RIFF/WAVE file (starts with {blob[:12]!r})")
    fmt: WavFormat | None = None
    fact: int | None = None
    pos = 12
    end = len(blob)
    while True:
        if pos + 8 > end:
            where = "before a data chunk" if fmt is not None else "before the fmt and data chunks"
            raise AudioFormatError(f"{name}: file ends at byte {pos} {where} (truncated or not a complete WAV)")
        ckid = blob[pos : pos + 4]
        (size,) = struct.unpack_from("<I", blob, pos + 4)
        body_start = pos + 8
        if ckid == b"data" and fmt is not None and body_start + size > end:
            return WavFile(fmt, blob[body_start:end], fact, missing_bytes=body_start + size - end)
        if body_start + size > end:
            raise AudioFormatError(
                f"{name}: chunk {_show_id(ckid)} at byte {pos} declares {size} bytes but only "
                f"{end - body_start} remain (truncated file)"
            )
        body = blob[body_start : body_start + size]
        if ckid == b"fmt ":
            fmt = _parse_fmt(body, name)
        elif ckid == b"fact":
            if size < 4:
                raise AudioFormatError(f"{name}: fact chunk has {size} bytes, expected at least 4")
            (fact,) = struct.unpack_from("<I", body)
        elif ckid == b"data":
            if fmt is None:
                raise AudioFormatError(f"{name}: data chunk at byte {pos} comes before any fmt chunk")
            if fact is None:
                fact = _fact_after(blob, body_start + size + (size & 1))
            return WavFile(fmt, body, fact)
        pos = body_start + size + (size & 1)


def _fact_after(blob: bytes, pos: int) -> int | None:
    """A well-formed fact chunk after ``data``, if any; anything malformed ends the search."""
    while pos + 8 <= len(blob):
        ckid = blob[pos : pos + 4]
        (size,) = struct.unpack_from("<I", blob, pos + 4)
        if pos + 8 + size > len(blob) or not ckid.isascii():
            return None
        if ckid == b"fact" and size >= 4:
            return struct.unpack_from("<I", blob, pos + 8)[0]
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
