"""Drop-in replacement for the G.711 functions of the standard ``audioop`` module.

``audioop`` was deprecated in Python 3.11 and removed in 3.13 (PEP 594).  Code written for
it, such as pydub-style audio handling, VoIP and RTP stacks, can switch with one line::

    from inwhale_hw.compat import audioop

    ulaw = audioop.lin2ulaw(pcm_bytes, 2)
    pcm = audioop.ulaw2lin(ulaw, 2)

The functions keep audioop's signatures and results, bit for bit, as measured against
CPython 3.11's ``audioop`` for every width:

``lin2ulaw(fragment, width)``, ``lin2alaw(fragment, width)``
    ``fragment`` is any bytes-like object of signed ``width``-byte samples (width 1, 2, 3
    or 4) in native byte order; the result holds one G.711 code byte per sample.  audioop
    keeps only the top 14 (µ-law) or 13 (A-law) bits of each sample, a floor, so a sample
    is encoded from its top 16 bits with the ``audioop`` flavor tables of
    :mod:`inwhale_hw.plugins.g711.tables` (µ-law: 508 negative inputs differ from the ITU
    G.191 STL; A-law equals it).
``ulaw2lin(fragment, width)``, ``alaw2lin(fragment, width)``
    one code byte per sample in, ``width``-byte native-order samples out: the 16-bit G.711
    value placed in the top bytes (width 3 and 4, low bytes zero) or its top byte (width 1,
    an arithmetic shift right by 8).

Bad arguments raise :class:`error` (an :class:`~inwhale_hw.errors.InputError`, hence also a
``ValueError``) naming the value and what is allowed; a non-bytes-like fragment raises
``TypeError`` as in audioop.
"""

from __future__ import annotations

import operator
import sys
from typing import Any

import numpy as np

from inwhale_hw.errors import InputError
from inwhale_hw.plugins.g711 import tables as g711_tables

__all__ = ["error", "lin2ulaw", "ulaw2lin", "lin2alaw", "alaw2lin"]

_WIDTHS = (1, 2, 3, 4)
#: index of the more significant int16 half of a 32-bit sample, and of the top two bytes
#: of a 24-bit sample, in native byte order
_TOP_HALF = 1 if sys.byteorder == "little" else 0
_TOP_BYTES = slice(1, 3) if sys.byteorder == "little" else slice(0, 2)


class error(InputError):  # noqa: N801 - the name audioop users catch
    """Bad sample width or fragment length (audioop.error)."""


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


def _encode(law: str, fragment: Any, width: Any) -> bytes:
    return g711_tables.encode(law, "audioop", _pcm_top16(fragment, width)).tobytes()


def _decode(law: str, fragment: Any, width: Any) -> bytes:
    width = _check_width(width)
    return _widen(g711_tables.decode(law, _bytes_of(fragment)), width)


def lin2ulaw(fragment: Any, width: int) -> bytes:
    """Convert samples of ``width`` bytes to G.711 µ-law bytes (``audioop.lin2ulaw``)."""
    return _encode("mulaw", fragment, width)


def ulaw2lin(fragment: Any, width: int) -> bytes:
    """Convert G.711 µ-law bytes to samples of ``width`` bytes (``audioop.ulaw2lin``)."""
    return _decode("mulaw", fragment, width)


def lin2alaw(fragment: Any, width: int) -> bytes:
    """Convert samples of ``width`` bytes to G.711 A-law bytes (``audioop.lin2alaw``)."""
    return _encode("alaw", fragment, width)


def alaw2lin(fragment: Any, width: int) -> bytes:
    """Convert G.711 A-law bytes to samples of ``width`` bytes (``audioop.alaw2lin``)."""
    return _decode("alaw", fragment, width)


# IMA ADPCM (lin2adpcm / adpcm2lin) lives in _adpcm.py, which uses the helpers above.
from ._adpcm import adpcm2lin, lin2adpcm  # noqa: E402

__all__ += ["lin2adpcm", "adpcm2lin"]
