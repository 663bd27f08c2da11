"""IMA ADPCM WAV files (WAVE format tag 0x0011): payload coding, reading and writing.

Format (Microsoft, *Multimedia Standards Update*, rev 3.0, 1994, ``IMAADPCMWAVEFORMAT``;
IMA *Recommended Practices* rev 3.00, 1992, for the coder):

``fmt ``  20 bytes: wFormatTag 0x0011, nChannels, nSamplesPerSec,
          nAvgBytesPerSec = floor(nSamplesPerSec * nBlockAlign / wSamplesPerBlock) (the
          Microsoft ACM codec's rule; libsndfile and sox write the same), nBlockAlign,
          wBitsPerSample 4, cbSize 2, wSamplesPerBlock = (nBlockAlign - 4 C) * 8 / (4 C) + 1;
``fact``  dwSampleLength: the exact frame count (the last block is padded);
``data``  whole blocks (:mod:`.blocks`).

Reading tolerates what other writers get wrong when the coded data itself is valid, and
says how (``ImaWav.notes``):

* frame count: the ``fact`` value is used when it is consistent with the data, i.e. it
  needs exactly the blocks present; otherwise the data decides (libsndfile writes half the
  frame count in stereo ``fact`` chunks, so a libsndfile stereo file of a single block --
  where half still fits the data -- reads short; it ignores ``fact`` itself).  No ``fact``:
  every frame the data holds.
* a last block cut short (truncated file, odd data size): its header and every complete
  group of one 4-byte word per channel are decoded (8 frames per group); the rest of it is
  dropped.  A data chunk whose declared size runs past the end of the file is read to the
  end of the file.
* ``nAvgBytesPerSec`` is ignored (ffmpeg writes 16000 whatever the rate); so is the
  reserved header byte (libsndfile ignores it too; ffmpeg rejects a nonzero one).
* anything after the data chunk is ignored, garbage included.
* a missing ``wSamplesPerBlock`` (cbSize 0) is computed from nBlockAlign.

Errors (:class:`~inwhale_hw.errors.AudioFormatError`): not RIFF/WAVE, no ``fmt`` or ``data``
chunk, another format tag, wBitsPerSample other than 4, an nBlockAlign that does not fit
the channel count, a wSamplesPerBlock that contradicts nBlockAlign, a header step index
above 88 (naming the block and channel).
"""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inwhale_hw.errors import AudioFormatError, InputError, ParameterError

from . import kernels
from .blocks import _ROWS, _THRESHOLDS, decode_blocks, default_block_align, encode_lanes, frames_to_lanes
from .blocks import lanes_to_frames, pack_blocks, samples_per_block, unpack_blocks
from .lookahead import search_payload
from .search import carried_start_indices, search_start_indices
from .sndfile_tail import sndfile_last_block
from .tables import NEXT_INDEX, SIGNED_DIFF
from .trellis import DEFAULT_NODES, trellis_encode

__all__ = [
    "FORMAT_TAG",
    "ENCODERS",
    "ImaWav",
    "encode_payload",
    "decode_payload",
    "payload_frames",
    "avg_bytes_per_sec",
    "check_block_align",
    "check_fmt",
    "fmt_chunk",
    "build_ima_wav",
    "write_ima_wav",
    "parse_ima_wav",
    "read_ima_wav",
]

FORMAT_TAG = 0x0011
#: the standard quantizer's thresholds, differences and next indices for the compiled coder
_CARRIED_TABLES = (_THRESHOLDS[:_ROWS].reshape(-1), SIGNED_DIFF, NEXT_INDEX)
ENCODERS = ("search", "libsndfile", "exhaustive", "trellis")


@dataclass(frozen=True)
class ImaWav:
    """A decoded IMA ADPCM WAV: int16 ``pcm`` (frames, channels), its layout and any recovery."""

    pcm: np.ndarray
    rate: int
    block_align: int
    samples_per_block: int
    notes: tuple[str, ...] = ()

    @property
    def channels(self) -> int:
        return self.pcm.shape[1]


def _frames_2d(pcm: np.ndarray) -> np.ndarray:
    pcm = np.asarray(pcm)
    if pcm.ndim not in (1, 2) or pcm.dtype.kind not in "iu":
        raise InputError(f"IMA WAV: expected int16 PCM of shape (n,) or (n, channels), got {pcm.dtype} {pcm.shape}")
    pcm = pcm.reshape(-1, 1) if pcm.ndim == 1 else pcm
    if pcm.shape[1] < 1:
        raise InputError(f"IMA WAV: PCM of shape {pcm.shape} has no channels")
    if pcm.size and (pcm.min() < -32768 or pcm.max() > 32767):
        raise InputError(f"IMA WAV: samples must be int16, found values in [{pcm.min()}, {pcm.max()}]")
    return pcm


def encode_payload(
    pcm: np.ndarray,
    block_align: int,
    encoder: str = "search",
    use_kernels: bool = True,
    nodes: int = DEFAULT_NODES,
) -> bytes:
    """The data chunk body for int16 ``pcm`` (n,) or (n, C): whole blocks of ``block_align`` bytes.

    ``encoder``: "search" (:mod:`.lookahead`), "libsndfile" or "exhaustive" (:mod:`.search`)
    or "trellis" with ``nodes`` survivors (:mod:`.trellis`).  ``use_kernels`` False forces
    the NumPy / pure-Python paths even when numba is installed (same bytes).
    """
    pcm = _frames_2d(pcm)
    channels = pcm.shape[1]
    spb = samples_per_block(block_align, channels)
    if encoder not in ENCODERS:
        raise ParameterError(f"IMA WAV encoder {encoder!r} is not allowed; expected one of {', '.join(ENCODERS)}")
    if not len(pcm):
        return b""
    if encoder == "search":
        return search_payload(pcm, block_align, use_kernels)
    whole = len(pcm) // spb * spb
    if encoder == "libsndfile" and whole < len(pcm):  # libsndfile's own last block (:mod:`.sndfile_tail`)
        head = encode_payload(pcm[:whole], block_align, encoder, use_kernels, nodes)
        return head + sndfile_last_block(pcm[whole:], head[-block_align:] if head else None, block_align, channels)
    x = frames_to_lanes(pcm, spb)
    blocks = x.shape[1] // channels
    if encoder == "trellis":
        start, codes = trellis_encode(x, nodes, use_kernels)
    elif encoder == "libsndfile" and kernels.ENABLED and use_kernels:
        start, codes = kernels.carried_encode(np.ascontiguousarray(x.T), channels, *_CARRIED_TABLES)
        codes = codes.T
    else:
        if encoder == "libsndfile":
            start, quantizer = carried_start_indices(x, channels, use_kernels), 0
        else:
            start, quantizer = search_start_indices(x, channels, use_kernels)
        codes, _ = encode_lanes(x[1:], x[0], start, quantizer, use_kernels)
    return pack_blocks(x[0].reshape(blocks, channels), start.reshape(blocks, channels), lanes_to_frames(codes, blocks, channels))


def decode_payload(
    data: bytes, channels: int, block_align: int, frames: int | None = None, flavor: str = "standard"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode a data chunk body; return (int16 (frames, channels), recovery notes).

    ``frames`` is the ``fact`` value (or None); see the module docstring for the rules.
    """
    count, notes = payload_frames(len(data), channels, block_align, frames)
    spb = samples_per_block(block_align, channels)
    full, rest = divmod(len(data), block_align)
    header = 4 * channels
    groups = (rest - header) // header if rest >= header else -1
    first, index, codes = unpack_blocks(data[: full * block_align], block_align, channels)
    out = decode_blocks(first, index, codes, flavor).reshape(full * spb, channels)
    if groups >= 0:
        tail = bytearray(block_align)
        tail[: header * (groups + 1)] = data[full * block_align : full * block_align + header * (groups + 1)]
        last = decode_blocks(*unpack_blocks(bytes(tail), block_align, channels, full), flavor).reshape(spb, channels)
        out = np.concatenate([out, last[: 1 + 8 * groups]])
    return np.ascontiguousarray(out[:count]), notes


def payload_frames(
    size: int, channels: int, block_align: int, frames: int | None = None
) -> tuple[int, tuple[str, ...]]:
    """Frames a data chunk body of ``size`` bytes decodes to, and the recovery notes (module docstring)."""
    spb = samples_per_block(block_align, channels)
    full, rest = divmod(size, block_align)
    header = 4 * channels
    groups = (rest - header) // header if rest >= header else -1
    available = full * spb + (1 + 8 * groups if groups >= 0 else 0)
    present = full + (groups >= 0)
    notes: list[str] = []
    if rest:
        kept = header + header * groups if groups >= 0 else 0
        notes.append(
            f"data ends {rest} bytes into block {full} (block align {block_align}): decoded "
            f"{1 + 8 * groups if groups >= 0 else 0} frames of it, dropped {rest - kept} bytes"
        )
    if frames is None:
        count = available
    elif frames <= available and -(-frames // spb) == present:
        count = frames
    else:
        count = available
        notes.append(f"fact chunk says {frames} frames but the data holds {available}; used the data")
    return count, tuple(notes)


def check_block_align(block_align: int, channels: int) -> int:
    """Samples per block for a block align we can write; ParameterError naming the limits.

    nBlockAlign must be ``4 C (k + 1)`` for some ``k >= 1`` and fit 16 bits, and
    wSamplesPerBlock must fit 16 bits too.
    """
    unit = 4 * channels
    largest = min(0xFFFF, unit + 32767 * channels) // unit * unit
    if isinstance(block_align, bool) or not isinstance(block_align, (int, np.integer)) or not (
        2 * unit <= block_align <= largest and block_align % unit == 0
    ):
        raise ParameterError(
            f"IMA WAV block align {block_align!r} is not allowed for {channels} channel(s); expected a "
            f"multiple of {unit} in [{2 * unit}, {largest}]"
        )
    return samples_per_block(int(block_align), channels)


def avg_bytes_per_sec(rate: int, block_align: int, spb: int) -> int:
    """nAvgBytesPerSec = floor(rate * block_align / samples per block)."""
    return rate * block_align // spb


def fmt_chunk(channels: int, rate: int, block_align: int) -> bytes:
    """The 20-byte ``fmt `` chunk body."""
    spb = samples_per_block(block_align, channels)
    return struct.pack(
        "<HHIIHHHH", FORMAT_TAG, channels, rate, avg_bytes_per_sec(rate, block_align, spb), block_align, 4, 2, spb
    )


def _chunk(ckid: bytes, body: bytes) -> bytes:
    return ckid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def build_ima_wav(
    pcm: np.ndarray, rate: int, block_align: int | None = None, encoder: str = "search", nodes: int = DEFAULT_NODES
) -> bytes:
    """A complete IMA ADPCM WAV file as bytes; ``block_align`` None -> libsndfile's choice."""
    pcm = _frames_2d(pcm)
    channels = pcm.shape[1]
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not 1 <= rate <= 0xFFFFFFFF:
        raise ParameterError(f"IMA WAV: sample rate {rate!r} is not allowed; expected an integer in [1, 4294967295]")
    if channels > 0xFFFF:
        raise ParameterError(f"IMA WAV: {channels} channels do not fit the 16-bit nChannels field")
    block_align = default_block_align(int(rate), channels) if block_align is None else block_align
    check_block_align(block_align, channels)
    if len(pcm) > 0xFFFFFFFF:
        raise ParameterError(f"IMA WAV: {len(pcm)} frames do not fit the 32-bit fact chunk")
    data = encode_payload(pcm, block_align, encoder, nodes=nodes)
    body = b"WAVE" + _chunk(b"fmt ", fmt_chunk(channels, int(rate), block_align))
    body += _chunk(b"fact", struct.pack("<I", len(pcm))) + _chunk(b"data", data)
    if len(body) > 0xFFFFFFFF:
        raise ParameterError(f"IMA WAV: {len(body)} bytes exceed the 4 GiB RIFF limit")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_ima_wav(
    path: str | os.PathLike,
    pcm: np.ndarray,
    rate: int,
    block_align: int | None = None,
    encoder: str = "search",
    nodes: int = DEFAULT_NODES,
) -> Path:
    """Write an IMA ADPCM WAV atomically (temporary file in the same directory, then rename)."""
    blob = build_ima_wav(pcm, rate, block_align, encoder, nodes)
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(blob)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def parse_ima_wav(blob: bytes, name: str = "<bytes>", flavor: str = "standard") -> ImaWav:
    """Decode an IMA ADPCM WAV held in ``blob`` (rules and errors: module docstring)."""
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise AudioFormatError(f"{name}: not a RIFF/WAVE file (starts with {bytes(blob[:12])!r})")
    fmt = fact = None
    pos = 12
    while pos + 8 <= len(blob):
        ckid, size = blob[pos : pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        body = blob[pos + 8 : pos + 8 + size]
        if ckid == b"fmt ":
            fmt = _parse_fmt(body, name)
        elif ckid == b"fact" and len(body) >= 4:
            fact = struct.unpack_from("<I", body)[0]
        elif ckid == b"data":
            if fmt is None:
                raise AudioFormatError(f"{name}: data chunk at byte {pos} comes before the fmt chunk")
            channels, rate, block_align = fmt
            pcm, notes = decode_payload(bytes(body), channels, block_align, fact, flavor)
            if size > len(body):
                notes = (f"data chunk declares {size} bytes, the file holds {len(body)}",) + notes
            return ImaWav(pcm, rate, block_align, samples_per_block(block_align, channels), notes)
        pos += 8 + size + (size & 1)
    missing = "fmt and data chunks" if fmt is None else "data chunk"
    raise AudioFormatError(f"{name}: no {missing} found (file ends at byte {len(blob)})")


def _parse_fmt(body: bytes, name: str) -> tuple[int, int, int]:
    if len(body) < 16:
        raise AudioFormatError(f"{name}: fmt chunk has {len(body)} bytes, expected 20 for IMA ADPCM")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag != FORMAT_TAG:
        raise AudioFormatError(f"{name}: format tag 0x{tag:04X} is not IMA ADPCM (0x{FORMAT_TAG:04X})")
    extension = b""
    if len(body) >= 18:
        size = struct.unpack_from("<H", body, 16)[0]
        extension = body[18 : 18 + size]
    check_fmt(channels, rate, block_align, bits, extension, name)
    return channels, rate, block_align


def check_fmt(channels: int, rate: int, block_align: int, bits: int, extension: bytes, name: str) -> int:
    """Validate IMA ``fmt`` fields (``extension`` = the bytes after cbSize); return samples per block."""
    if channels < 1 or rate < 1:
        raise AudioFormatError(f"{name}: fmt chunk declares {channels} channels at {rate} Hz; both must be >= 1")
    if bits != 4:
        raise AudioFormatError(f"{name}: IMA ADPCM with {bits} bits per sample is not supported; allowed: 4")
    spb = samples_per_block(block_align, channels)
    if len(extension) >= 2:
        declared = struct.unpack_from("<H", extension)[0]
        if declared != spb:
            raise AudioFormatError(
                f"{name}: wSamplesPerBlock {declared} contradicts block align {block_align} with "
                f"{channels} channel(s), which gives {spb}"
            )
    return spb


def read_ima_wav(path: str | os.PathLike, flavor: str = "standard") -> ImaWav:
    """Read and decode an IMA ADPCM WAV file."""
    path = Path(path)
    return parse_ima_wav(path.read_bytes(), str(path), flavor)
