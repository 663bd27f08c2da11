"""IMA ADPCM WAV blocks (WAVE format tag 0x0011): layout, and block coding in parallel lanes.

Block layout (Microsoft/IMA ``IMAADPCMWAVEFORMAT``, as written by the Windows ACM codec,
libsndfile, sox and ffmpeg), for ``C`` channels and ``nBlockAlign = B`` bytes:

* ``C`` headers of 4 bytes: int16 LE predictor (the block's first sample, output as is),
  uint8 step index 0..88, one reserved byte (written 0);
* then 4-byte words alternating by channel (ch 0, ch 1, .., ch 0, ..), each word 8
  consecutive samples of one channel, the earlier sample in the LOW nibble of each byte;
* ``samplesPerBlock = (B - 4 C) * 8 / (4 C) + 1`` frames, so ``B - 4 C`` must be a positive
  multiple of ``4 C``.

Every block header resets the coder state, so blocks are independent: all blocks and
channels are coded at once as *lanes* (NumPy over lanes, one sample position at a time),
and decoded with the saturating prefix scans of :mod:`.scan` along each lane.
"""

from __future__ import annotations

import functools

import numpy as np

from inwhale_hw.errors import AudioFormatError
from inwhale_hw.scan import clamp_add_scan

from . import kernels
from .tables import INDEX_ADJUST, MAX_INDEX, NEXT_INDEX, SIGNED_DIFF, SIGNED_DIFF_FFMPEG, division_thresholds, magnitude_thresholds

__all__ = [
    "samples_per_block",
    "default_block_align",
    "frames_to_lanes",
    "QUANTIZERS",
    "encode_lanes",
    "pack_blocks",
    "unpack_blocks",
    "decode_blocks",
    "lanes_to_frames",
]

_DIFF = SIGNED_DIFF.astype(np.int32)
_NEXT16 = NEXT_INDEX.astype(np.int32) * 16
_ADJUST8 = INDEX_ADJUST.astype(np.int8)
#: samples decoded per vectorized pass of :func:`decode_blocks`
DECODE_CHUNK = 1 << 16
#: largest |signed difference| of either decoder flavor
_DIFF_LIMIT = int(max(np.abs(SIGNED_DIFF).max(), np.abs(SIGNED_DIFF_FFMPEG).max()))
#: offset of difference 0 in one row of the code table, and rows per quantizer
_ZERO = 1 << 16
_ROWS = MAX_INDEX + 1


def samples_per_block(block_align: int, channels: int) -> int:
    """Frames per block for ``nBlockAlign`` and ``nChannels``; AudioFormatError if they do not fit."""
    header = 4 * channels
    if block_align <= header or (block_align - header) % header:
        raise AudioFormatError(
            f"IMA ADPCM block align {block_align} does not fit {channels} channel(s): it must be "
            f"4*channels*(k+1) = {header}*(k+1) bytes for some k >= 1 (e.g. {2 * header}, {3 * header}, ...)"
        )
    return (block_align - header) * 8 // header + 1


def default_block_align(rate: int, channels: int) -> int:
    """libsndfile's block size (``wavlike_srate2blocksize``, verified by writing with soundfile).

    It depends on ``rate * channels``: below 12000 -> 256 bytes, below 23000 -> 512, below
    44000 -> 1024, otherwise 2048 (e.g. 8 kHz mono 256, 44.1 kHz mono or stereo 2048).
    For channel counts that do not divide it (libsndfile writes only mono and stereo) the size
    is rounded up to a multiple of ``4 * channels``, with at least one word per channel.
    """
    product = rate * channels
    size = 256 if product < 12000 else 512 if product < 23000 else 1024 if product < 44000 else 2048
    return 4 * channels * max(2, -(-size // (4 * channels)))


def frames_to_lanes(pcm: np.ndarray, spb: int) -> np.ndarray:
    """(n, C) frames -> (spb, blocks * C) time-major lanes, lane = block * C + channel.

    The last block is padded by repeating the last frame (so a decoder that plays whole
    blocks hears no click).  ``n`` must be >= 1.
    """
    n, channels = pcm.shape
    blocks = -(-n // spb)
    padded = np.empty((blocks * spb, channels), dtype=np.int32)
    padded[:n] = pcm
    padded[n:] = pcm[-1]
    return np.ascontiguousarray(padded.reshape(blocks, spb, channels).transpose(1, 0, 2)).reshape(spb, blocks * channels)


#: the per-sample quantizers a block can be coded with (index into :func:`_code_table` rows)
QUANTIZERS = ("standard", "division")

#: ``_THRESHOLDS[q * 89 + i, m]``: least ``|d|`` coded with magnitude >= m (column 0 is 0)
_THRESHOLDS = np.zeros((len(QUANTIZERS) * _ROWS, 8), dtype=np.int32)
_THRESHOLDS[:_ROWS, 1:] = magnitude_thresholds()
_THRESHOLDS[_ROWS:, 1:] = division_thresholds()
_THRESHOLDS.flags.writeable = False


@functools.cache
def _code_table() -> np.ndarray:
    """code(q, i, d) for quantizer q, step index i and difference d in [-65536, 65535], flat uint8.

    Row ``q * 89 + i`` starts at ``(q * 89 + i) << 17``; entry ``row + (1 << 16) + d`` is the
    4-bit code for difference ``d``.  Quantizer 0 ("standard": IMA reference, audioop,
    libsndfile) takes the largest magnitude whose successive-approximation threshold
    (:func:`~.tables.magnitude_thresholds`) is <= ``|d|``; quantizer 1 ("division": sox's
    ``ImaMashS``) takes ``min(7, 4 |d| // s)``.  Both use the standard reconstruction, so any
    decoder plays either.  23 MB, built on first use.
    """
    d = np.arange(-_ZERO, _ZERO, dtype=np.int32)
    magnitude = np.abs(d)
    sign = np.where(d < 0, 8, 0).astype(np.uint8)
    rows = [np.searchsorted(row, magnitude, side="right").astype(np.uint8) | sign for row in _THRESHOLDS[:, 1:]]
    return np.concatenate(rows)


def encode_lanes(
    x: np.ndarray,
    predictor: np.ndarray,
    index: np.ndarray,
    quantizer: np.ndarray | int = 0,
    use_kernels: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """IMA coding of many independent lanes, one sample position at a time.

    ``x`` (T, L) int32 samples (time-major), ``predictor`` and ``index`` (L,) start states,
    ``quantizer`` (L,) or scalar: 0 standard, 1 division (see :func:`_code_table`).
    Returns (codes (T, L) uint8, end step index (L,) int32).  Per position the code comes
    from one look-up in :func:`_code_table`, the signed difference and the next index from
    two more: 10 NumPy calls per position, each over all lanes -- or the compiled loop of
    :mod:`.kernels` when numba is available and ``use_kernels`` (same bits).
    """
    table = _code_table()
    steps, lanes = x.shape
    pred = np.array(predictor, dtype=np.int32).reshape(lanes)
    index16 = np.array(index, dtype=np.int32).reshape(lanes) * 16
    base = np.broadcast_to(np.asarray(quantizer, dtype=np.int32) * (_ROWS << 17) + _ZERO, (lanes,)).copy()
    if kernels.ENABLED and use_kernels:
        chosen = np.broadcast_to(np.asarray(quantizer, dtype=np.int64), (lanes,))
        codes, end = kernels.lanes_encode(
            np.ascontiguousarray(x, dtype=np.int32), pred, index16 >> 4, chosen, _THRESHOLDS.reshape(-1), _DIFF, NEXT_INDEX, _ROWS
        )
        return codes, end.astype(np.int32)
    codes = np.empty((steps, lanes), dtype=np.uint8)
    row = (index16 << 13) + base
    key = np.empty(lanes, dtype=np.int32)
    diff = np.empty(lanes, dtype=np.int32)
    for t in range(steps):
        code = codes[t]
        np.subtract(x[t], pred, out=key)
        key += row
        np.take(table, key, out=code)
        np.add(index16, code, out=key)
        np.take(_DIFF, key, out=diff)
        pred += diff
        np.maximum(pred, -32768, out=pred)
        np.minimum(pred, 32767, out=pred)
        np.take(_NEXT16, key, out=index16)
        np.left_shift(index16, 13, out=row)
        row += base
    return codes, index16 >> 4


def pack_blocks(first: np.ndarray, index: np.ndarray, codes: np.ndarray) -> bytes:
    """Serialize blocks: ``first`` (blocks, C) int16 header predictors, ``index`` (blocks, C)
    start step indices, ``codes`` (blocks, spb - 1, C) uint8 codes of the remaining frames."""
    blocks, words8, channels = codes.shape[0], (codes.shape[1]) // 8, codes.shape[2]
    header = np.zeros((blocks, channels, 4), dtype=np.uint8)
    header[:, :, :2] = first.astype("<i2").view(np.uint8).reshape(blocks, channels, 2)
    header[:, :, 2] = index
    grouped = codes.reshape(blocks, words8, 8, channels).transpose(0, 1, 3, 2)
    body = grouped[..., 0::2] | (grouped[..., 1::2] << 4)
    return np.concatenate(
        [header.reshape(blocks, 4 * channels), body.astype(np.uint8).reshape(blocks, words8 * channels * 4)], axis=1
    ).tobytes()


def unpack_blocks(
    data: bytes, block_align: int, channels: int, first_block: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse whole blocks: return (first (blocks, C) int16, index (blocks, C), codes (blocks, C, spb - 1)).

    ``len(data)`` must be a multiple of ``block_align``.  A header step index above 88
    raises :class:`AudioFormatError` naming the block (counted from ``first_block``) and
    channel; the reserved header byte is ignored (libsndfile does the same).
    """
    spb = samples_per_block(block_align, channels)
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, block_align)
    blocks = raw.shape[0]
    header = raw[:, : 4 * channels].reshape(blocks, channels, 4)
    first = np.ascontiguousarray(header[:, :, :2]).view("<i2").reshape(blocks, channels).astype(np.int16)
    index = header[:, :, 2].astype(np.int32)
    if blocks and index.max() > MAX_INDEX:
        block, channel = np.argwhere(index > MAX_INDEX)[0]
        raise AudioFormatError(
            f"IMA ADPCM block {first_block + block} channel {channel}: header step index {index[block, channel]} "
            f"is outside [0, {MAX_INDEX}] (corrupt data)"
        )
    words = raw[:, 4 * channels :].reshape(blocks, (spb - 1) // 8, channels, 4)
    nibbles = np.empty(words.shape[:3] + (8,), dtype=np.uint8)
    nibbles[..., 0::2] = words & 15
    nibbles[..., 1::2] = words >> 4
    codes = nibbles.transpose(0, 2, 1, 3).reshape(blocks, channels, spb - 1)
    return first, index, codes


def decode_blocks(first: np.ndarray, index: np.ndarray, codes: np.ndarray, flavor: str = "standard") -> np.ndarray:
    """Decode parsed blocks to (blocks, spb, C) int16 frames; ``flavor`` "standard" or "ffmpeg".

    Per lane (block, channel): the step indices are a saturating prefix sum of the codes'
    index adjustments, the predictor one of the signed differences those indices give
    (:func:`~inwhale_hw.scan.clamp_add_scan`).  Blocks go in groups of about :data:`DECODE_CHUNK`
    samples, so the temporaries stay in cache (and fresh memory, slow to map, is not needed).
    """
    blocks, channels, steps = codes.shape
    out = np.empty((blocks, steps + 1, channels), dtype=np.int16)
    out[:, 0, :] = first
    table = SIGNED_DIFF_FFMPEG if flavor == "ffmpeg" else SIGNED_DIFF
    group = max(1, DECODE_CHUNK // max(1, steps * channels))
    for a in range(0, blocks if steps else 0, group):
        b = min(blocks, a + group)
        lanes = codes[a:b].reshape(-1, steps)
        start = index[a:b].reshape(-1)
        after = clamp_add_scan(np.take(_ADJUST8, lanes), start, 0, MAX_INDEX, limit=8)
        keys = np.empty(lanes.shape, dtype=np.int32)
        keys[:, 0] = start * 16
        np.multiply(after[:, :-1], 16, out=keys[:, 1:])
        keys += lanes
        samples = clamp_add_scan(np.take(table, keys), first[a:b].reshape(-1), -32768, 32767, limit=_DIFF_LIMIT)
        samples = samples.reshape(b - a, channels, steps)
        for ch in range(channels):
            out[a:b, 1:, ch] = samples[:, ch, :]
    return out


def lanes_to_frames(lanes: np.ndarray, blocks: int, channels: int) -> np.ndarray:
    """(T, blocks * C) time-major lanes -> (blocks, T, C)."""
    return lanes.reshape(lanes.shape[0], blocks, channels).transpose(1, 0, 2)

