"""Sample fragments as audioop sees them: widths, the top 16 bits of a sample, and back.

Shared by :mod:`.audioop` (G.711) and :mod:`._adpcm` (IMA ADPCM).
"""

from __future__ import annotations

import operator
import sys
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["error"]


class error(InputError):  # noqa: N801 - the name audioop users catch
    """Bad sample width or fragment length (audioop.error)."""


_WIDTHS = (1, 2, 3, 4)
#: index of the more significant int16 half of a 32-bit sample, and of the top two bytes
#: of a 24-bit sample, in native byte order
_TOP_HALF = 1 if sys.byteorder == "little" else 0
_TOP_BYTES = slice(1, 3) if sys.byteorder == "little" else slice(0, 2)


def _check_width(width: Any) -> int:
    width = operator.index(width)
    if width not in _WIDTHS:
        raise error(f"sample width {width} is not supported; allowed widths: 1, 2, 3 or 4 bytes")
    return width


def _bytes_of(fragment: Any) -> np.ndarray:
    """The fragment's bytes as a read-only ``uint8`` array (no copy for contiguous buffers)."""
    return np.frombuffer(memoryview(fragment).cast("B"), dtype=np.uint8)


def _pcm_top16(fragment: Any, width: Any) -> np.ndarray:
    """The top 16 bits of each ``width``-byte sample, as a contiguous int16 array."""
    width = _check_width(width)
    data = _bytes_of(fragment)
    if data.size % width:
        raise error(
            f"fragment length {data.size} bytes is not a whole number of {width}-byte samples"
        )
    if width == 1:
        return (data.view(np.int8).astype(np.int16) << 8)
    if width == 2:
        return data.view(np.int16)
    if width == 3:
        return np.ascontiguousarray(data.reshape(-1, 3)[:, _TOP_BYTES]).view(np.int16).reshape(-1)
    return np.ascontiguousarray(data.view(np.int16).reshape(-1, 2)[:, _TOP_HALF])


def _widen(pcm16: np.ndarray, width: int) -> bytes:
    """16-bit samples as ``width``-byte native-order samples, the way audioop stores them."""
    if width == 1:
        return (pcm16 >> 8).astype(np.int8).tobytes()
    if width == 2:
        return pcm16.tobytes()
    if width == 3:
        out = np.zeros((pcm16.size, 3), dtype=np.uint8)
        out[:, _TOP_BYTES] = pcm16.view(np.uint8).reshape(-1, 2)
        return out.tobytes()
    out = np.zeros((pcm16.size, 2), dtype=np.int16)
    out[:, _TOP_HALF] = pcm16
    return out.tobytes()
