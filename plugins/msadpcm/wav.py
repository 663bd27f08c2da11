"""MS-ADPCM WAV blocks (format 0x0002): layout, fmt extension, encode and decode of whole payloads.

Block of ``block_align`` bytes for ``C`` channels: ``C`` predictor indices (uint8), ``C``
initial steps, ``C`` samples ``s1`` and ``C`` samples ``s2`` (int16 LE each), then 4-bit codes
for frames 2.. of the block, channels interleaved, two per byte with the earlier code in the
HIGH nibble.  A block holds ``2 + 2 (block_align - 7 C) / C`` frames; its first output frame is
``s2``, the second ``s1``.  ``fmt`` extension: ``wSamplesPerBlock``, ``wNumCoef`` and
``wNumCoef`` int16 pairs ``(c1, c2)`` (the first seven must be the standard ones, which every
encoder writes and some decoders assume).

Decoding follows the file's coefficient table (``standard`` flavor: libsndfile, sox) or the
standard table (``ffmpeg`` flavor, as ffmpeg does).  A final partial block decodes the frames
its bytes hold; the ``fact`` frame count (when present) trims the padding.
"""

from __future__ import annotations

import struct

import numpy as np

from inwhale_hw.errors import AudioFormatError

from . import kernels
from .tables import COEFS, FLAVORS, HEADER_BYTES

__all__ = ["METHODS", "samples_per_block", "fmt_extension", "parse_extension", "decode_payload", "encode_payload", "DELTA_CANDIDATES"]

#: initial steps the encoder tries per block and predictor (16 .. 16384, half-octave steps)
DELTA_CANDIDATES = np.unique(np.round(16 * 2 ** (np.arange(21) / 2)).astype(np.int64))


def samples_per_block(block_align: int, channels: int) -> int:
    """Frames in one block of ``block_align`` bytes: 2 header frames + 2 codes per data byte per channel."""
    body = block_align - HEADER_BYTES * channels
    if body < 0 or body % channels:
        raise AudioFormatError(
            f"MS-ADPCM: block align {block_align} does not hold {channels} channel header(s) of "
            f"{HEADER_BYTES} bytes plus whole bytes per channel"
        )
    return 2 + 2 * body // channels


def fmt_extension(spb: int, coefs: np.ndarray) -> bytes:
    """``wSamplesPerBlock``, ``wNumCoef`` and the coefficient pairs."""
    return struct.pack("<HH", spb, len(coefs)) + np.asarray(coefs, dtype="<i2").tobytes()


def parse_extension(extension: bytes, block_align: int, channels: int) -> tuple[int, np.ndarray]:
    """(samples per block, coefficient table) from a ``fmt`` extension, checked against the block size."""
    spb = samples_per_block(block_align, channels)
    if len(extension) < 4:
        return spb, COEFS.copy()
    declared, count = struct.unpack_from("<HH", extension)
    if declared != spb:
        raise AudioFormatError(f"MS-ADPCM: wSamplesPerBlock {declared} contradicts block align {block_align}, which gives {spb}")
    if count < 1 or len(extension) < 4 + 4 * count:
        raise AudioFormatError(f"MS-ADPCM: wNumCoef {count} but the fmt extension holds {(len(extension) - 4) // 4} pairs")
    coefs = np.frombuffer(extension[4:4 + 4 * count], dtype="<i2").astype(np.int64).reshape(count, 2)
    return spb, coefs


def decode_payload(data: bytes, channels: int, block_align: int, coefs: np.ndarray, flavor: str,
                   frames: int | None) -> np.ndarray:
    """int16 ``(frames, channels)`` from the data chunk (see the module docstring)."""
    fl = FLAVORS.index(flavor)
    table = COEFS if flavor == "ffmpeg" else coefs
    spb = samples_per_block(block_align, channels)
    raw = np.frombuffer(bytes(data), dtype=np.uint8)
    blocks = []
    for start in range(0, raw.size, block_align):
        block = raw[start:start + block_align]
        if block.size < HEADER_BYTES * channels:
            break
        blocks.append(_decode_block(block, channels, table, fl, spb))
    pcm = np.concatenate(blocks) if blocks else np.zeros((0, channels), dtype=np.int16)
    return pcm if frames is None else pcm[:frames]


def _decode_block(block: np.ndarray, channels: int, table: np.ndarray, flavor: int, spb: int) -> np.ndarray:
    c = channels
    header = block[: HEADER_BYTES * c]
    words = header[c:].view("<i2").astype(np.int64).reshape(3, c)
    body = block[HEADER_BYTES * c:]
    codes = np.empty(2 * body.size, dtype=np.uint8)
    codes[0::2] = body >> 4
    codes[1::2] = body & 15
    n = min(spb, 2 + codes.size // c)
    codes = codes[: (n - 2) * c].reshape(n - 2, c)
    out = np.empty((n, c), dtype=np.int16)
    for ch in range(c):
        pred = int(header[ch])
        if pred >= len(table):
            raise AudioFormatError(f"MS-ADPCM: block predictor index {pred} but the table has {len(table)} pairs")
        delta, s1, s2 = (int(v) for v in words[:, ch])
        out[0, ch], out[1, ch] = s2, s1
        column = np.empty(n - 2, dtype=np.int64)
        kernels.decode_block(np.ascontiguousarray(codes[:, ch]), s1, s2, delta,
                             int(table[pred, 0]), int(table[pred, 1]), flavor, column)
        out[2:, ch] = column
    return out


#: encoding methods: ``search`` (least-error pair and step, then a beam search over codes) and
#: ``libsndfile`` (libsndfile's writer, byte for byte)
METHODS = ("search", "libsndfile")


def _choose(x: np.ndarray, first: np.ndarray, method: str, flavor: int, nodes: int, column: np.ndarray,
            recon: np.ndarray) -> tuple[int, int]:
    if method == "libsndfile":  # libsndfile picks every channel's pair and step from channel 0
        pair, delta = kernels.libsndfile_choose(first)
        kernels.libsndfile_block(x, delta, int(COEFS[pair, 0]), int(COEFS[pair, 1]), column, recon)
        return pair, delta
    pair, delta = kernels.best_block(x, COEFS, DELTA_CANDIDATES, flavor, column)
    if nodes > 1:
        kernels.beam_block(x, delta, int(COEFS[pair, 0]), int(COEFS[pair, 1]), flavor, nodes, column)
    return pair, delta


def encode_payload(pcm: np.ndarray, block_align: int, flavor: str, method: str = "search", nodes: int = 16,
                   carried: np.ndarray | None = None) -> tuple[bytes, np.ndarray]:
    """Whole blocks for int16 ``(n, channels)`` frames; the last block is padded with zero frames.

    The final partial block is padded with zero frames, except under ``libsndfile``, which
    reproduces libsndfile's buffer: it clears only ``samples_per_block`` int16 of the
    ``samples_per_block x channels`` interleaved buffer after each block, so with two or more
    channels the padding's later part is the previous block's reconstruction.

    ``search``: each block and channel gets the predictor pair and initial step of least squared
    error with nearest-code coding (:func:`~.kernels.best_block`) under the ``flavor`` decoder,
    then the beam search of :func:`~.kernels.beam_block` with ``nodes`` survivors (1: none)
    recodes it.  ``libsndfile``: libsndfile's choice and coder.  Header samples are exact.

    ``carried``: libsndfile's buffer after the previous call's last block (streaming); returned
    updated with the bytes.
    """
    n, c = pcm.shape
    spb = samples_per_block(block_align, c)
    count = -(-n // spb)
    padded = np.zeros((count * spb, c), dtype=np.int64)
    padded[:n] = pcm
    fl = FLAVORS.index(flavor)
    out = bytearray()
    codes = np.empty((spb - 2, c), dtype=np.uint8)
    column = np.empty(spb - 2, dtype=np.uint8)
    recon = np.zeros((spb, c), dtype=np.int64) if carried is None else carried.copy()
    for b in range(count):
        x = padded[b * spb:(b + 1) * spb]
        if method == "libsndfile" and n - b * spb < spb:
            stale = recon.reshape(-1).copy()
            stale[:spb] = 0
            stale[: (n - b * spb) * c] = x[: n - b * spb].reshape(-1)
            x = stale.reshape(spb, c)
        preds, deltas = [], []
        for ch in range(c):
            lane = np.empty(spb, dtype=np.int64)
            pair, delta = _choose(np.ascontiguousarray(x[:, ch]), np.ascontiguousarray(x[:, 0]), method, fl, nodes,
                                  column, lane)
            recon[:, ch] = lane
            preds.append(pair)
            deltas.append(delta)
            codes[:, ch] = column
        out += bytes(preds)
        out += np.array([deltas, x[1], x[0]], dtype="<i2").tobytes()
        flat = codes.reshape(-1)  # (spb - 2) * C = 2 * body bytes: always even
        out += ((flat[0::2] << 4) | flat[1::2]).astype(np.uint8).tobytes()
    return bytes(out), recon
