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
    is encoded from its top 16 bits by the registered ``mulaw`` / ``alaw`` quantizer with
    ``flavor="audioop"`` (µ-law: 508 negative inputs differ from the ITU G.191 STL; A-law
    equals it).
``ulaw2lin(fragment, width)``, ``alaw2lin(fragment, width)``
    one code byte per sample in, ``width``-byte native-order samples out: the 16-bit G.711
    value placed in the top bytes (width 3 and 4, low bytes zero) or its top byte (width 1,
    an arithmetic shift right by 8).

Bad arguments raise :class:`error` (an :class:`~inwhale_hw.errors.InputError`, hence also a
``ValueError``) naming the value and what is allowed; a non-bytes-like fragment raises
``TypeError`` as in audioop.
"""

from __future__ import annotations

from typing import Any

from .. import get_quantizer
from ._fragments import _bytes_of, _check_width, _pcm_top16, _widen, error

__all__ = ["error", "lin2ulaw", "ulaw2lin", "lin2alaw", "alaw2lin"]

#: one G.711 quantizer per (law, flavor), made through the registry on first use
_CODECS: dict[tuple[str, str], Any] = {}


def _codec(law: str, flavor: str) -> Any:
    key = (law, flavor)
    if key not in _CODECS:
        _CODECS[key] = get_quantizer(law, flavor=flavor)
    return _CODECS[key]


def _encode(law: str, fragment: Any, width: Any) -> bytes:
    return _codec(law, "audioop").encode(_pcm_top16(fragment, width)).tobytes()


def _decode(law: str, fragment: Any, width: Any) -> bytes:
    width = _check_width(width)
    return _widen(_codec(law, "audioop").decode(_bytes_of(fragment)), width)


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


# IMA ADPCM (lin2adpcm / adpcm2lin) lives in _adpcm.py, which shares the helpers of _fragments.py.
from ._adpcm import adpcm2lin, lin2adpcm  # noqa: E402

__all__ += ["lin2adpcm", "adpcm2lin"]
