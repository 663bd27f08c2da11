"""IMA ADPCM WAV payloads (WAVE format tag 0x0011): the data chunk coded and decoded.

The RIFF chunks themselves are read and written by the one RIFF layer,
:mod:`inwhale_hw.audio.wav`, through the codec's ``wav_encode``/``wav_decode`` (and the
streaming ``wav_encoder``/``wav_decoder`` of :mod:`.wav_stream`); this module holds what is
specific to IMA: the ``fmt`` fields, the block payload and the recovery rules.

Format (Microsoft, *Multimedia Standards Update*, rev 3.0, 1994, ``IMAADPCMWAVEFORMAT``;
IMA *Recommended Practices* rev 3.00, 1992, for the coder):

``fmt ``  20 bytes: wFormatTag 0x0011, nChannels, nSamplesPerSec,
          nAvgBytesPerSec = floor(nSamplesPerSec * nBlockAlign / wSamplesPerBlock) (the
          Microsoft ACM codec's rule; libsndfile and sox write the same), nBlockAlign,
          wBitsPerSample 4, cbSize 2, wSamplesPerBlock = (nBlockAlign - 4 C) * 8 / (4 C) + 1;
``fact``  dwSampleLength: the exact frame count (the last block is padded with zeros, as
          libsndfile pads; with the ``libsndfile`` method exactly as libsndfile does,
          :mod:`.sndfile_tail`);
``data``  whole blocks (:mod:`.blocks`).

Reading tolerates what other writers get wrong when the coded data itself is valid, and
says how (the notes :func:`payload_frames` returns):

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

Errors (:class:`~inwhale_hw.errors.AudioFormatError`): wBitsPerSample other than 4, an nBlockAlign that does not fit
the channel count, a wSamplesPerBlock that contradicts nBlockAlign, a header step index
above 88 (naming the block and channel).
"""

from __future__ import annotations

import struct

import numpy as np

from inwhale_hw.errors import AudioFormatError, InputError, ParameterError

from . import kernels
from .blocks import _ROWS, _THRESHOLDS, decode_blocks, encode_lanes, frames_to_lanes
from .blocks import lanes_to_frames, pack_blocks, samples_per_block, unpack_blocks
from .lookahead import search_payload
from .search import carried_start_indices, search_start_indices
from .sndfile_tail import sndfile_last_block
from .tables import NEXT_INDEX, SIGNED_DIFF
from .trellis import DEFAULT_NODES, trellis_encode

__all__ = [
    "FORMAT_TAG",
    "ENCODERS",
    "encode_payload",
    "decode_payload",
    "payload_frames",
    "check_block_align",
    "check_fmt",
]

FORMAT_TAG = 0x0011
#: the standard quantizer's thresholds, differences and next indices for the compiled coder
_CARRIED_TABLES = (_THRESHOLDS[:_ROWS].reshape(-1), SIGNED_DIFF, NEXT_INDEX)
ENCODERS = ("search", "libsndfile", "exhaustive", "trellis")


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
