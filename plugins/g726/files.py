"""G.726 files as the tools write them: WAV 0x0045 (ffmpeg), WAV 0x0040 and Sun .au (libsndfile).

=========================  ============================================================
``wav_g726`` (tag 0x0045)  ffmpeg ``adpcm_g726``: AAL2 big-endian packing, fmt of 18
                           bytes (nBlockAlign 1, wBitsPerSample = bits per code), ``fact``.
``wav_g721`` (tag 0x0040)  libsndfile ``G721_32``: RFC 3551 little-endian packing, fmt of
                           20 bytes (nBlockAlign 64, wBitsPerSample 4, cbSize 2 + 2 zero
                           bytes), ``fact`` with the true frame count; the data holds whole
                           blocks of 120 codes, the last block coded from zero padding.
``au``                     Sun .au, libsndfile ``G721_32`` / ``G723_24`` / ``G723_40``:
                           encodings 23, 25, 26, little-endian packing, whole blocks of 120
                           codes (so the file holds the padded frame count).
=========================  ============================================================

Raw files hold just :func:`~.codec.pack` output in either packing (ffmpeg ``-f g726le``
writes ``"le"``).  Readers never trust a header length beyond the file's real size.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from inwhale_hw.errors import AudioFormatError

from .codec import pack, unpack

__all__ = ["LIBSNDFILE_BLOCK", "AU_ENCODINGS", "write_wav", "read_wav", "write_au", "read_au"]

#: codes per libsndfile G72x block
LIBSNDFILE_BLOCK = 120
#: Sun .au encoding number -> rate in kbit/s
AU_ENCODINGS = {23: 32, 25: 24, 26: 40}
_TAG_PACKING = {0x0045: "be", 0x0040: "le"}


def _chunk(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def write_wav(path, codes, rate: int, frames: int, tag: int = 0x0045, sample_rate: int = 8000) -> None:
    """Write mono G.726 ``codes`` (``frames`` of them are real samples) as WAV ``tag``."""
    bits = rate // 8
    if tag == 0x0045:
        fmt = struct.pack("<HHIIHHH", tag, 1, sample_rate, sample_rate * bits // 8, 1, bits, 0)
    elif tag == 0x0040 and rate == 32:
        fmt = struct.pack("<HHIIHHHH", tag, 1, sample_rate, sample_rate * bits // 8, 64, 4, 2, 0)
    else:
        raise AudioFormatError(f"G.726 WAV: tag 0x{tag:04X} at {rate} kbit/s is not a form the tools write (0x0045 any rate, 0x0040 at 32)")
    body = b"WAVE" + _chunk(b"fmt ", fmt) + _chunk(b"fact", struct.pack("<I", frames)) + _chunk(b"data", pack(codes, rate, _TAG_PACKING[tag]))
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def read_wav(path) -> tuple[np.ndarray, int, int, int]:
    """(codes, rate in kbit/s, sample rate, tag) of a mono G.726 WAV; codes cut to the ``fact`` count."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise AudioFormatError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, data, frames = 12, None, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        body = raw[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"fact" and len(body) >= 4:
            frames = struct.unpack("<I", body[:4])[0]
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if fmt is None or data is None or len(fmt) < 16:
        raise AudioFormatError(f"{path}: WAV without fmt or data chunk")
    tag, channels, sample_rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag not in _TAG_PACKING or channels != 1 or bits not in (2, 3, 4, 5):
        raise AudioFormatError(f"{path}: WAV tag 0x{tag:04X}, {channels} channels, {bits} bits is not mono G.726 (0x0045 or 0x0040)")
    codes = unpack(data, bits * 8, _TAG_PACKING[tag])
    return (codes if frames is None else codes[:frames]), bits * 8, sample_rate, tag


def write_au(path, codes, rate: int, sample_rate: int = 8000) -> None:
    """Write mono codes as a Sun .au file as libsndfile does (24, 32 or 40 kbit/s)."""
    enc = {r: e for e, r in AU_ENCODINGS.items()}.get(rate)
    if enc is None:
        raise AudioFormatError(f"Sun .au holds G.72x at {sorted(AU_ENCODINGS.values())} kbit/s, not {rate}")
    data = pack(codes, rate, "le")
    Path(path).write_bytes(struct.pack(">4sIIIII", b".snd", 24, len(data), enc, sample_rate, 1) + data)


def read_au(path) -> tuple[np.ndarray, int, int]:
    """(codes, rate in kbit/s, sample rate) of a mono G.72x Sun .au file."""
    raw = Path(path).read_bytes()
    if len(raw) < 24 or raw[:4] != b".snd":
        raise AudioFormatError(f"{path}: not a Sun .au file")
    offset, size, enc, sample_rate, channels = struct.unpack(">IIIII", raw[4:24])
    if enc not in AU_ENCODINGS or channels != 1:
        raise AudioFormatError(f"{path}: .au encoding {enc} with {channels} channels is not mono G.72x ({sorted(AU_ENCODINGS)})")
    data = raw[offset:] if size == 0xFFFFFFFF else raw[offset:offset + size]
    return unpack(data, AU_ENCODINGS[enc], "le"), AU_ENCODINGS[enc], sample_rate
