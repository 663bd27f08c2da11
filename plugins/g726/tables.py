"""G.726 tables (ITU-T G.726 (12/90) sections 4.2.2-4.2.5), indexed by the code word I.

Per rate (bits per code 2, 3, 4, 5 = 16, 24, 32, 40 kbit/s), flattened into one array with
row offset ``OFFSET[bits]``:

- ``DQLN``: log of the quantized difference magnitude relative to the scale factor
  (inverse quantizer, Tables 1-4 of G.726, 12-bit: 2048 codes "-infinity");
- ``WI``: scale factor multiplier W(I) (section 4.2.3, 12-bit two's complement);
- ``FI``: F(I) for the speed control averages (section 4.2.4).

Quantizer decision levels (section 4.2.2) are ``THRESH``: per rate the ascending lower
bounds of log2|d| - y in the units of DLN (12-bit), with the magnitude index each maps to;
the sign is folded as in the standard (negative: ``2**bits - 1 - index``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RATES", "BITS", "OFFSET", "DQLN", "WI", "FI", "QUANT_LEVELS", "QUANT_INDEX", "QUANT_ROW"]

#: bit rate in kbit/s -> bits per code
RATES = {16: 2, 24: 3, 32: 4, 40: 5}
BITS = (2, 3, 4, 5)
#: start of each rate's row in the flattened per-code tables
OFFSET = np.array([0, 0, 0, 4, 12, 28], dtype=np.int64)

_DQLN = {
    2: [116, 365, 365, 116],
    3: [2048, 135, 273, 373, 373, 273, 135, 2048],
    4: [2048, 4, 135, 213, 273, 323, 373, 425, 425, 373, 323, 273, 213, 135, 4, 2048],
    5: [2048, 4030, 28, 104, 169, 224, 274, 318, 358, 395, 429, 459, 488, 514, 539, 566,
        566, 539, 514, 488, 459, 429, 395, 358, 318, 274, 224, 169, 104, 28, 4030, 2048],
}
_WI_HALF = {2: [4074, 439], 3: [4092, 30, 137, 582], 4: [4084, 18, 41, 64, 112, 198, 355, 1122],
            5: [14, 14, 24, 39, 40, 41, 58, 100, 141, 179, 219, 280, 358, 440, 529, 696]}
_FI_HALF = {2: [0, 7], 3: [0, 1, 2, 7], 4: [0, 0, 0, 1, 1, 1, 3, 7],
            5: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6]}


def _mirror(half: list[int]) -> list[int]:
    """Full per-code table from the half indexed by magnitude: I >= 2**(b-1) maps to 2**b - 1 - I."""
    return half + half[::-1]


DQLN = np.array(sum((_DQLN[b] for b in BITS), []), dtype=np.int64)
WI = np.array(sum((_mirror(_WI_HALF[b]) for b in BITS), []), dtype=np.int64)
FI = np.array(sum((_mirror(_FI_HALF[b]) for b in BITS), []), dtype=np.int64)

#: quantizer (section 4.2.2, Tables 1-4): DLN decision levels, descending, with the
#: magnitude index chosen at or above each; below the last level the index is QUANT_INDEX[-1]
_LEVELS = {
    2: [(2048, 0), (261, 1), (0, 0)],
    3: [(2048, 7), (331, 3), (218, 2), (8, 1), (0, 7)],
    4: [(3972, 1), (2048, 15), (400, 7), (349, 6), (300, 5), (246, 4), (178, 3), (80, 2), (0, 1)],
    5: [(4080, 2), (3974, 1), (2048, 31), (553, 15), (528, 14), (502, 13), (475, 12), (445, 11),
        (413, 10), (378, 9), (339, 8), (298, 7), (250, 6), (198, 5), (139, 4), (68, 3), (0, 2)],
}
#: flattened rows: QUANT_ROW[bits] .. QUANT_ROW[bits + 1]
QUANT_ROW = np.array([0, 0, 0, 3, 8, 17, 34], dtype=np.int64)
QUANT_LEVELS = np.array([lv for b in BITS for lv, _ in _LEVELS[b]], dtype=np.int64)
QUANT_INDEX = np.array([ix for b in BITS for _, ix in _LEVELS[b]], dtype=np.int64)
