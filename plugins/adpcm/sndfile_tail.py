"""The last, partial block of an IMA WAV file exactly as libsndfile's writer codes it.

libsndfile (``src/ima_adpcm.c``: ``ima_close`` codes a partial block as it stands;
``wavlike_ima_encode_block`` ends with ``memset (pima->samples, 0, samplesperblock *
sizeof (short))``) clears only the first ``samplesperblock`` entries of its interleaved
``samplesperblock x channels`` buffer after each block, and the coder has overwritten that
buffer with the block's 4-bit codes.  So the frames that pad the last block are zero in
mono, but in stereo the interleaved entries from index ``samplesperblock`` on still hold the
previous block's codes (0..15) -- a few LSB of junk past the ``fact`` length, inaudible, yet
part of the bytes.  :func:`sndfile_last_block` rebuilds that buffer (zeros where there is no
previous block) and codes it with the step index carried from the previous block, which
makes ``method=libsndfile`` files byte-identical to libsndfile's except the ``fact`` value
(libsndfile stores the padded frame count, halved in stereo; we store the exact count).
"""

from __future__ import annotations

import numpy as np

from .blocks import encode_lanes, pack_blocks, samples_per_block, unpack_blocks
from .tables import INDEX_ADJUST, MAX_INDEX

__all__ = ["sndfile_last_block", "end_indices"]


def end_indices(block: bytes, block_align: int, channels: int) -> np.ndarray:
    """The step index per channel after coding the whole block ``block`` (the carried state)."""
    _, index, codes = unpack_blocks(block, block_align, channels)
    out = np.empty(channels, dtype=np.int32)
    for ch in range(channels):
        i = int(index[0, ch])
        for code in codes[0, ch].tolist():
            i = min(MAX_INDEX, max(0, i + int(INDEX_ADJUST[code])))
        out[ch] = i
    return out


def sndfile_last_block(tail: np.ndarray, previous: bytes | None, block_align: int, channels: int) -> bytes:
    """Code the final ``tail`` frames ``(m, channels)``, ``0 < m < samplesperblock``, as libsndfile
    does after the block ``previous`` (``None``: the file has no earlier block)."""
    spb = samples_per_block(block_align, channels)
    buffer = np.zeros(spb * channels, dtype=np.int32)
    start = np.zeros(channels, dtype=np.int32)
    if previous is not None:
        _, _, codes = unpack_blocks(previous, block_align, channels)
        stale = np.zeros((spb, channels), dtype=np.int32)
        stale[1:] = codes[0].T
        buffer[spb:] = stale.reshape(-1)[spb:]
        start = end_indices(previous, block_align, channels)
    buffer[: tail.size] = np.asarray(tail, dtype=np.int32).reshape(-1)
    x = buffer.reshape(spb, channels)
    coded, _ = encode_lanes(np.ascontiguousarray(x[1:]), x[0], start)
    return pack_blocks(x[0].reshape(1, channels), start.reshape(1, channels), coded[None])
