"""``lin2adpcm`` / ``adpcm2lin``: drop-ins for the IMA ADPCM functions of ``audioop``.

Bit-exact with CPython 3.11's ``audioop`` (measured against it for widths 1-4, random
states and lengths), quirk included:

``lin2adpcm(fragment, width, state)``
    encodes the top 16 bits of each ``width``-byte native-order sample (audioop keeps only
    those) with the IMA coder from ``state`` = ``(predictor, step index)`` (``None`` means
    ``(0, 0)``); returns ``(codes, new_state)`` where ``codes`` packs two 4-bit codes per byte,
    the first sample in the HIGH nibble.  With an odd number of samples the last code is
    DROPPED while ``new_state`` has advanced past that sample -- audioop's behaviour, kept for
    compatibility.  :class:`inwhale_hw.plugins.adpcm.raw.RawEncoder` does not lose it.
``adpcm2lin(fragment, width, state)``
    decodes two samples per byte (high nibble first) and returns ``(samples, new_state)``,
    each sample the 16-bit value widened the way audioop stores it.

``state`` must be ``None`` or a 2-tuple of ints (TypeError otherwise, OverflowError beyond
a C int); a predictor outside [-32768, 32767] or a step index outside [0, 88] raises
ValueError("bad state ...") as audioop does (here an :class:`~inwhale_hw.errors.InputError`,
a ValueError subclass).  Width and length errors raise ``audioop.error``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from inwhale_hw.errors import InputError
from inwhale_hw.plugins.adpcm.raw import pack_nibbles, unpack_nibbles
from inwhale_hw.plugins.adpcm.stream import ImaState, decode_stream, encode_stream

__all__ = ["lin2adpcm", "adpcm2lin"]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _audioop():
    # imported late: compat.audioop re-exports this module's functions at its end
    from . import audioop

    return audioop


def _state(state: Any) -> ImaState:
    if state is None:
        return ImaState()
    if not isinstance(state, tuple):
        raise TypeError("state must be a tuple or None")
    if len(state) != 2:
        raise TypeError(f"state must be a tuple of 2 ints (predictor, step index), got {len(state)} items")
    predictor, index = (operator.index(v) for v in state)
    for value in (predictor, index):
        if not _INT_MIN <= value <= _INT_MAX:
            raise OverflowError(f"state value {value} does not fit a C int")
    if not -32768 <= predictor <= 32767 or not 0 <= index <= 88:
        raise InputError(
            f"bad state {state!r}: predictor must be in [-32768, 32767] and step index in [0, 88]"
        )
    return ImaState(predictor, index)


def lin2adpcm(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Encode to IMA ADPCM (``audioop.lin2adpcm``): returns (codes, (predictor, step index))."""
    audioop = _audioop()
    samples = audioop._pcm_top16(fragment, width)
    start = _state(state)
    codes, end = encode_stream(samples, start)
    return pack_nibbles(codes[: codes.size - codes.size % 2]), (end.predictor, end.index)


def adpcm2lin(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Decode IMA ADPCM (``audioop.adpcm2lin``): returns (samples, (predictor, step index))."""
    audioop = _audioop()
    width = audioop._check_width(width)
    data = audioop._bytes_of(fragment)
    start = _state(state)
    samples, end = decode_stream(unpack_nibbles(data.tobytes()), start)
    return audioop._widen(np.ascontiguousarray(samples), width), (end.predictor, end.index)
