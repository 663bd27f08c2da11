"""OKI / Dialogic ADPCM tables (Dialogic Application Note 1366, "Dialogic ADPCM Algorithm", 1988).

``STEPS``: the 49 step sizes of the 12-bit OKI MSM5205/MSM6258 coder; ``INDEX_ADJUST``: the
step-index change per 3-bit magnitude (the IMA table's first half).  Samples are 12-bit
(-2048..2047); as 16-bit PCM they are shifted left by 4.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STEPS", "INDEX_ADJUST", "MAX_INDEX", "SAMPLE_MIN", "SAMPLE_MAX", "RATES"]

STEPS = np.array([
    16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130,
    143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796,
    876, 963, 1060, 1166, 1282, 1411, 1552,
], dtype=np.int64)
INDEX_ADJUST = np.array([-1, -1, -1, -1, 2, 4, 6, 8], dtype=np.int64)
MAX_INDEX = 48
SAMPLE_MIN, SAMPLE_MAX = -2048, 2047
#: the Dialogic rates: 6 kHz (24 kbit/s) and 8 kHz (32 kbit/s) at 4 bits per sample
RATES = (6000, 8000)
