"""MS-ADPCM constants (Microsoft Multimedia Standards Update rev 3.0, 1994: ADPCMWAVEFORMAT).

``ADAPTATION``: step-size multipliers (/256) indexed by the unsigned 4-bit code;
``COEFS``: the seven standard predictor pairs (/256) every encoder writes into the ``fmt``
extension; ``FORMAT_TAG``: WAVE_FORMAT_ADPCM.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ADAPTATION", "COEFS", "FLAVORS", "FORMAT_TAG", "MIN_DELTA", "HEADER_BYTES"]

FORMAT_TAG = 0x0002
ADAPTATION = np.array([230, 230, 230, 230, 307, 409, 512, 614, 768, 614, 512, 409, 307, 230, 230, 230], dtype=np.int64)
COEFS = np.array([[256, 0], [512, -256], [0, 0], [192, 64], [240, 0], [460, -208], [392, -232]], dtype=np.int64)
#: the step size never falls below this after adaptation
MIN_DELTA = 16
#: block-header bytes per channel: predictor index (1), delta (2), sample 1 (2), sample 2 (2)
HEADER_BYTES = 7
#: decoder predictions: ``standard`` = floor((s1 c1 + s2 c2) / 256) (Microsoft, libsndfile, sox);
#: ``ffmpeg`` = the quotient truncated toward zero with the standard table (ffmpeg's adpcm_ms
#: divides coefficients pre-divided by 4 by 64 in C and ignores the file's coefficient table)
FLAVORS = ("standard", "ffmpeg")
