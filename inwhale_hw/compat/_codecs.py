"""``audioop``'s codecs over the public quantizer API: G.711 µ-law/A-law and IMA ADPCM.

The models are the registered quantizers (``inwhale_hw.get_quantizer``): ``mulaw`` and
``alaw`` with ``flavor="audioop"`` and ``ima-adpcm`` through ``encode_from`` / ``decode_from``,
which take a start state and return the end state.  audioop codes 16-bit values, so:

``lin2ulaw(fragment, width)``, ``lin2alaw``
    the top 16 bits of each sample (a floor; audioop keeps only the top 14 or 13) -> one code
    byte per sample.  µ-law of audioop differs from the ITU G.191 STL on 508 negative inputs
    (see :mod:`inwhale_hw.plugins.g711_tables`); A-law equals it.
``ulaw2lin(fragment, width)``, ``alaw2lin``
    one code byte per sample -> the 16-bit value in the top bytes of a ``width``-byte sample
    (low bytes zero; width 1: the top byte, an arithmetic shift right by 8).
``lin2adpcm(fragment, width, state)``
    the top 16 bits of each sample, IMA-coded from ``state = (predictor, step index)``
    (``None``: ``(0, 0)``); returns ``(codes, new_state)``, two codes per byte, the first in
    the HIGH nibble.  With an odd number of samples the last code is DROPPED while the state
    has advanced past it -- audioop's behaviour, kept.
``adpcm2lin(fragment, width, state)``
    two samples per byte (high nibble first) -> ``(samples, new_state)``.

``state`` must be ``None`` or a 2-tuple of ints (``TypeError`` otherwise, ``OverflowError``
beyond a C int); a predictor outside [-32768, 32767] or a step index outside [0, 88] raises
``ValueError`` ("bad state") as audioop does, here an :class:`~inwhale_hw.errors.InputError`.
"""

from __future__ import annotations

import operator
import sys
from functools import cache
from typing import Any

import numpy as np

from inwhale_hw import Quantizer, get_quantizer
from inwhale_hw.errors import InputError

from ._samples import CHUNK, c_int, check_parameters, check_width, fragment_bytes

__all__ = ["lin2ulaw", "ulaw2lin", "lin2alaw", "alaw2lin", "lin2adpcm", "adpcm2lin"]

#: in native byte order: the more significant int16 of a 32-bit sample, the top two bytes of a 24-bit one
_TOP_HALF = 1 if sys.byteorder == "little" else 0
_TOP_BYTES = slice(1, 3) if sys.byteorder == "little" else slice(0, 2)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


@cache
def _quantizer(name: str, **params: Any) -> Quantizer:
    return get_quantizer(name, **params)


def top16(fragment: Any, width: Any) -> np.ndarray:
    """The top 16 bits of each ``width``-byte sample, as a contiguous int16 array."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_parameters(data.size, width)
    if width == 1:
        return data.view(np.int8).astype(np.int16) << 8
    if width == 2:
        return data.view(np.int16)
    if width == 3:
        return np.ascontiguousarray(data.reshape(-1, 3)[:, _TOP_BYTES]).view(np.int16).reshape(-1)
    return np.ascontiguousarray(data.view(np.int16).reshape(-1, 2)[:, _TOP_HALF])


def widen(pcm16: np.ndarray, width: int) -> bytes:
    """16-bit samples as ``width``-byte native-order samples, the way audioop stores them."""
    if width == 1:
        return (pcm16 >> 8).astype(np.int8).tobytes()
    if width == 2:
        return pcm16.tobytes()
    if width == 3:
        out = np.zeros((pcm16.size, 3), dtype=np.uint8)
        out[:, _TOP_BYTES] = pcm16.view(np.uint8).reshape(-1, 2)
        return out.tobytes()
    out = pcm16.astype(np.int32)
    out <<= 16
    return out.tobytes()


@cache
def _decode_tables(law: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The quantizer's decoder on all 256 codes, stored as ``width``-byte samples: a 256-entry
    table and a 65536-entry table of code pairs (indexed by two code bytes as one uint16)."""
    codes = np.arange(256, dtype=np.uint8)
    single = np.frombuffer(widen(_quantizer(law, flavor="audioop").decode(codes), width), dtype=np.uint8)
    single = single.reshape(256, width)
    pairs = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.uint8).reshape(-1, 2)
    pair_bytes = np.ascontiguousarray(single[pairs].reshape(-1, 2 * width))
    if width == 3:
        return single, pair_bytes[:0]
    element = {1: np.uint16, 2: np.uint32, 4: np.uint64}[width]
    return single, pair_bytes.view(element).reshape(-1)


def _decode_g711(law: str, fragment: Any, width: Any) -> bytes:
    """Decode through the pair table, two codes per look-up, in cache-sized blocks."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_width(width)
    single, pair = _decode_tables(law, width)
    if width == 3:  # 3-byte entries: one 4-byte look-up per code, then the 3 bytes kept
        padded = np.zeros((256, 4), dtype=np.uint8)
        padded[:, :3] = single
        wide = np.take(padded.view(np.uint32).reshape(-1), data)
        return np.ascontiguousarray(wide.view(np.uint8).reshape(-1, 4)[:, :3]).tobytes()
    even = data.size & ~1
    out = np.empty(even // 2, dtype=pair.dtype)
    index = data[:even].view(np.uint16)
    for start in range(0, index.size, CHUNK):
        np.take(pair, index[start : start + CHUNK], out=out[start : start + CHUNK], mode="wrap")
    tail = single[data[even:]].tobytes()
    return out.tobytes() + tail if tail else out.tobytes()


def lin2ulaw(fragment: Any, width: int) -> bytes:
    """Samples of ``width`` bytes to G.711 µ-law bytes (``audioop.lin2ulaw``)."""
    return _quantizer("mulaw", flavor="audioop").encode(top16(fragment, width)).tobytes()


def ulaw2lin(fragment: Any, width: int) -> bytes:
    """G.711 µ-law bytes to samples of ``width`` bytes (``audioop.ulaw2lin``)."""
    return _decode_g711("mulaw", fragment, width)


def lin2alaw(fragment: Any, width: int) -> bytes:
    """Samples of ``width`` bytes to G.711 A-law bytes (``audioop.lin2alaw``)."""
    return _quantizer("alaw", flavor="audioop").encode(top16(fragment, width)).tobytes()


def alaw2lin(fragment: Any, width: int) -> bytes:
    """G.711 A-law bytes to samples of ``width`` bytes (``audioop.alaw2lin``)."""
    return _decode_g711("alaw", fragment, width)


def _adpcm_state(state: Any) -> tuple[int, int]:
    if state is None:
        return 0, 0
    if not isinstance(state, tuple):
        raise TypeError(f"state must be a tuple or None, not {type(state).__name__}")
    if len(state) != 2:
        raise TypeError(f"state must be a tuple of 2 ints (predictor, step index), got {len(state)} items")
    predictor, index = (operator.index(v) for v in state)
    for value in (predictor, index):
        if not _INT_MIN <= value <= _INT_MAX:
            raise OverflowError(f"state value {value} does not fit a C int")
    if not -32768 <= predictor <= 32767 or not 0 <= index <= 88:
        raise InputError(f"bad state {state!r}: predictor must be in [-32768, 32767] and step index in [0, 88]")
    return predictor, index


def lin2adpcm(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Encode to IMA ADPCM (``audioop.lin2adpcm``): returns (codes, (predictor, step index))."""
    samples = top16(fragment, width)
    ima = _quantizer("ima-adpcm")
    codes, end = ima.encode_from(samples, _adpcm_state(state))
    return ima.pack_codes(codes[: codes.size - codes.size % 2]), end


def adpcm2lin(fragment: Any, width: int, state: tuple[int, int] | None) -> tuple[bytes, tuple[int, int]]:
    """Decode IMA ADPCM (``audioop.adpcm2lin``): returns (samples, (predictor, step index))."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_width(width)
    ima = _quantizer("ima-adpcm")
    samples, end = ima.decode_from(ima.unpack_codes(data, 2 * data.size, 1), _adpcm_state(state))
    return widen(samples, width), end
