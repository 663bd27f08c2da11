"""G.711 µ-law and A-law: the 8-bit logarithmic PCM of telephony, bit-exact per flavor.

``mulaw`` (alias ``ulaw``) and ``alaw`` encode int16 PCM to one ``uint8`` code per sample and
decode codes back to int16.  Both are stateless, 8 bits per sample, and run as table lookups
(a 65536-entry encoder table indexed by the sample's bit pattern, a 256-entry decoder table,
used two codes at a time); :mod:`inwhale_hw.plugins.g711.tables` gives the segment math and
the bit layout:

* µ-law (ITU-T G.711 (11/88) Tables 2a/2b): 14-bit magnitude plus bias 33 (0x84 in 16-bit
  units), 8 segments of 16 steps, all bits of ``sign|segment|mantissa`` inverted; decoded
  range ±32124.
* A-law (Tables 1a/1b): 12-bit magnitude, segment 0 linear, 7 doubling segments, even bits
  inverted (XOR 0x55); decoded range ±32256.

Parameter ``flavor`` picks whose bits the encoder reproduces, because common tools disagree:
``itu`` (default, the ITU-T G.191 STL ``g711.c``), ``audioop`` (CPython's ``audioop``;
differs from ``itu`` on 508 negative µ-law inputs, same A-law), ``libsndfile``
(sign-magnitude truncation; differs from ``itu`` on 127 negative inputs per law), ``sox``
(rounds to 14/13 bits first: ``sox -D -e u-law/a-law``; 510 / 1020 inputs differ from
``itu``) and ``ffmpeg`` (nearest reconstruction: ``pcm_mulaw`` / ``pcm_alaw``; 964 inputs
per law differ from ``itu``).  Every flavor decodes alike.  Hardware encoders exist for
``itu``, ``audioop`` and ``libsndfile``; the decoder (the same for all) for every flavor.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from inwhale_hw import Param, Quantizer
from . import tables as g711_tables

__all__ = ["MuLaw", "ALaw"]

_FLAVOR = Param(
    "flavor",
    "itu",
    "whose encoder bits to reproduce: 'itu' (ITU-T G.191 STL g711.c, the G.711 reference), "
    "'audioop' (CPython audioop), 'libsndfile' (libsndfile/soundfile ULAW and ALAW subtypes), "
    "'sox' (sox -e u-law/a-law without dither) or 'ffmpeg' (ffmpeg pcm_mulaw/pcm_alaw)",
    str,
    choices=g711_tables.FLAVORS,
)

_COMMON_REFERENCES = (
    "ITU-T G.191 Software Tool Library, module g711.c (alaw_compress/alaw_expand, "
    "ulaw_compress/ulaw_expand): flavor 'itu'",
    "CPython audioop.c (lin2ulaw/ulaw2lin, lin2alaw/alaw2lin; removed in Python 3.13): flavor 'audioop'",
    "libsndfile ulaw.c/alaw.c (s2ulaw_array, s2alaw_array): flavor 'libsndfile'",
    "SoX sox.h SOX_SAMPLE_TO_ULAW_BYTE/SOX_SAMPLE_TO_ALAW_BYTE and g711.c "
    "(sox_14linear2ulaw, sox_13linear2alaw): flavor 'sox'",
    "FFmpeg libavcodec pcm_tablegen.h (build_xlaw_table) and pcm.c (pcm_mulaw, pcm_alaw encoders): flavor 'ffmpeg'",
)


class _G711(Quantizer):
    """Shared encode/decode of the two laws; ``law`` selects the tables."""

    law: ClassVar[str] = ""
    kind = "audio"
    params = (_FLAVOR,)
    code_dtype = np.uint8
    sample_dtype = np.int16
    blocks = ("encoder", "decoder")

    def datapath(self, block: str, **params: Any):
        """The Amaranth component of ``block`` for this flavor (:mod:`inwhale_hw.hdl.g711`);
        ``params``: ``pipeline`` (register stages, default 0 = combinational)."""
        from .hardware import datapath

        return datapath(self.law, block, flavor=self.flavor, **params)

    def encode(self, x: Any) -> np.ndarray:
        """int16 PCM, shape (n,) or (n, channels) -> ``uint8`` codes of the same shape."""
        if isinstance(x, np.ndarray) and x.dtype == np.int16 and x.ndim in (1, 2):
            pcm = np.ascontiguousarray(x)  # every int16 value is a valid sample
        else:
            pcm = np.ascontiguousarray(self._check_pcm(x), dtype=np.int16)
        return g711_tables.encode(self.law, self.flavor, pcm)

    def decode(self, codes: Any) -> np.ndarray:
        """``uint8`` codes, shape (n,) or (n, channels) -> int16 PCM of the same shape."""
        if isinstance(codes, np.ndarray) and codes.dtype == np.uint8 and codes.ndim in (1, 2):
            checked = np.ascontiguousarray(codes)  # every byte is a valid code
        else:
            checked = np.ascontiguousarray(self._check_codes(codes, 0, 255), dtype=np.uint8)
        return g711_tables.decode(self.law, checked)


class MuLaw(_G711):
    """G.711 µ-law (ITU-T G.711 (11/88) Tables 2a/2b), bit-exact with the chosen flavor."""

    name = "mulaw"
    law = "mulaw"
    #: WAVE_FORMAT_MULAW (RFC 2361 Appendix A); read by inwhale_hw.audio.coded
    wav_format_tag = 0x0007
    summary = "G.711 µ-law, 8-bit log PCM (flavors: ITU G.191 STL, audioop, libsndfile)"
    references = (
        "ITU-T G.711 (11/88), Pulse code modulation (PCM) of voice frequencies, "
        "Tables 2a/2b (µ-law, positive/negative input values)",
        *_COMMON_REFERENCES,
    )


class ALaw(_G711):
    """G.711 A-law (ITU-T G.711 (11/88) Tables 1a/1b), bit-exact with the chosen flavor."""

    name = "alaw"
    law = "alaw"
    #: WAVE_FORMAT_ALAW (RFC 2361 Appendix A); read by inwhale_hw.audio.coded
    wav_format_tag = 0x0006
    summary = "G.711 A-law, 8-bit log PCM (flavors: ITU G.191 STL, audioop, libsndfile)"
    references = (
        "ITU-T G.711 (11/88), Pulse code modulation (PCM) of voice frequencies, "
        "Tables 1a/1b (A-law, positive/negative input values)",
        *_COMMON_REFERENCES,
    )
