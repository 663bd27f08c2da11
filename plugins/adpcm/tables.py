"""IMA ADPCM tables and the per-(step index, code) lookup tables derived from them.

Source: IMA Digital Audio Focus and Technical Working Groups, *Recommended Practices for
Enhancing Digital Audio Compatibility in Multimedia Systems*, revision 3.00 (21 October
1992), the IMA ADPCM algorithm: an 89-entry step-size table (7 .. 32767, ratio about 1.1 per
entry) and a 16-entry step-index adjustment table indexed by the 4-bit code.  The same
tables appear in Microsoft's IMA ADPCM ACM codec (WAVE format tag 0x0011), CPython's
``audioop``, libsndfile, sox and ffmpeg.

A 4-bit code ``c`` is sign-magnitude: bit 3 is the sign, bits 2..0 the magnitude.  With
``s = STEP[i]`` the reconstruction difference is (integer shifts, exact)::

    vpdiff(s, c) = (s >> 3) + (c & 4 ? s : 0) + (c & 2 ? s >> 1 : 0) + (c & 1 ? s >> 2 : 0)

applied with the sign of bit 3; ffmpeg's decoder instead uses ``((2 (c & 7) + 1) s) >> 3``,
which differs whenever the shifts truncate.  The next step index is
``clamp(i + INDEX_ADJUST[c], 0, 88)``.

Derived tables, indexed by ``i * 16 + c`` (``i`` in 0..88, ``c`` in 0..15):

``SIGNED_DIFF``  signed ``vpdiff`` (int32) of the standard decoder;
``SIGNED_DIFF_FFMPEG``  the same for ffmpeg's reconstruction;
``NEXT_INDEX``  the clamped next step index (int16).

:func:`magnitude_thresholds` gives, per step index, the seven difference magnitudes at
which the encoder's successive-approximation quantizer moves to the next magnitude.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STEP",
    "INDEX_ADJUST",
    "MAX_INDEX",
    "SIGNED_DIFF",
    "SIGNED_DIFF_FFMPEG",
    "NEXT_INDEX",
    "FLAVORS",
    "signed_diff_table",
    "magnitude_thresholds",
    "division_thresholds",
]

#: the 89 quantizer step sizes
STEP = np.array(
    [
        7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45,
        50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230,
        253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963,
        1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327,
        3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487,
        12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
    ],
    dtype=np.int32,
)
STEP.flags.writeable = False

#: step-index adjustment per 4-bit code (the sign bit does not matter)
INDEX_ADJUST = np.array([-1, -1, -1, -1, 2, 4, 6, 8] * 2, dtype=np.int16)
INDEX_ADJUST.flags.writeable = False

MAX_INDEX = len(STEP) - 1

#: decoder flavors: "standard" (IMA / libsndfile / sox / audioop) and "ffmpeg"
FLAVORS = ("standard", "ffmpeg")


def _vpdiff(step: np.ndarray, code: np.ndarray, flavor: str) -> np.ndarray:
    magnitude = code & 7
    if flavor == "ffmpeg":
        diff = ((2 * magnitude + 1) * step) >> 3
    else:
        diff = (step >> 3) + np.where(magnitude & 4, step, 0)
        diff = diff + np.where(magnitude & 2, step >> 1, 0) + np.where(magnitude & 1, step >> 2, 0)
    return np.where(code & 8, -diff, diff).astype(np.int32)


def signed_diff_table(flavor: str) -> np.ndarray:
    """The signed reconstruction difference for every ``index * 16 + code`` (int32, 89*16)."""
    step = np.repeat(STEP, 16)
    code = np.tile(np.arange(16, dtype=np.int32), len(STEP))
    table = _vpdiff(step, code, flavor)
    table.flags.writeable = False
    return table


SIGNED_DIFF = signed_diff_table("standard")
SIGNED_DIFF_FFMPEG = signed_diff_table("ffmpeg")

NEXT_INDEX = np.clip(
    np.repeat(np.arange(len(STEP), dtype=np.int16), 16) + np.tile(INDEX_ADJUST, len(STEP)), 0, MAX_INDEX
).astype(np.int16)
NEXT_INDEX.flags.writeable = False


def magnitude_thresholds() -> np.ndarray:
    """``T[i, m-1]`` = smallest ``|d|`` that the encoder codes with magnitude >= ``m`` (m = 1..7).

    The encoder (audioop, libsndfile, the IMA reference) compares ``|d|`` successively with
    ``s``, ``s >> 1`` and ``s >> 2``, subtracting each it reaches; because every weight is at
    least the sum of the later ones, the result is the largest ``m`` whose weight sum
    ``(m & 4 ? s : 0) + (m & 2 ? s >> 1 : 0) + (m & 1 ? s >> 2 : 0)`` is <= ``|d|``.
    Returns an int32 array of shape (89, 7), increasing along axis 1.
    """
    m = np.arange(1, 8, dtype=np.int32)
    s = STEP[:, None]
    return (np.where(m & 4, s, 0) + np.where(m & 2, s >> 1, 0) + np.where(m & 1, s >> 2, 0)).astype(np.int32)


def division_thresholds() -> np.ndarray:
    """``T[i, m-1]`` = smallest ``|d|`` with ``min(7, 4 |d| // s) >= m``, i.e. ``ceil(m s / 4)``.

    The quantizer of sox's IMA encoder (``ImaMashS`` in sox's ``ima_rw.c``); int32 (89, 7).
    """
    m = np.arange(1, 8, dtype=np.int32)
    return (-(-(m * STEP[:, None]) // 4)).astype(np.int32)
