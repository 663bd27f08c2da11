"""``lin2adpcm`` / ``adpcm2lin``: drop-ins for the IMA ADPCM functions of ``audioop``.

Bit-exact with CPython 3.11's ``audioop`` (measured against it for widths 1-4, random
states and lengths), quirk included:

``lin2adpcm(fragment, width, state)``
    encodes the top 16 bits of each ``width``-byte native-order sample (audioop keeps only
    those) with the IMA coder from ``state`` = ``(predictor, step index)`` (``None`` means
    ``(0, 0)``); returns ``(codes, new_state)`` where ``codes`` packs two 4-bit codes per byte,
    the first sample in the HIGH nibble.  With an odd number of samples the last code is
    DROPPED while ``new_state`` has advanced past that sample -- audioop's behaviour, kept for
    compatibility.  The ``ima-adpcm`` quantizer's streaming encoder does not lose it.
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

from .. import get_quantizer
from ..errors import InputError
from ._fragments import _bytes_of, _check_width, _pcm_top16, _widen

__all__ = ["lin2adpcm", "adpcm2lin"]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _ima() -> Any:
    """The registered ``ima-adpcm`` quantizer (standard flavor), through the public API."""
    return get_quantizer("ima-adpcm")


def _state(state: Any) -> tuple[int, int]:
    if state is None:
        return (0, 0)
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
    return (predictor, index)


def lin2adpcm(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Encode to IMA ADPCM (``audioop.lin2adpcm``): returns (codes, (predictor, step index))."""
    samples = _pcm_top16(fragment, width)
    ima = _ima()
    codes, end = ima.encode_from(samples, _state(state))
    return ima.pack_codes(codes[: codes.size - codes.size % 2]), end


def adpcm2lin(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Decode IMA ADPCM (``audioop.adpcm2lin``): returns (samples, (predictor, step index))."""
    width = _check_width(width)
    data = _bytes_of(fragment)
    ima = _ima()
    samples, end = ima.decode_from(ima.unpack_codes(data.tobytes(), 2 * data.size, 1), _state(state))
    return _widen(np.ascontiguousarray(samples), width), end
