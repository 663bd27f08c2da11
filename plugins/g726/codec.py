"""G.726 ADPCM codec API: streaming encoder/decoder objects and the two code packings.

Rates 16, 24, 32, 40 kbit/s (2-5 bits per code); PCM side ``law`` = ``"ulaw"`` or
``"alaw"`` (G.711 codes, as uint8 0..255, ITU-T G.726 (12/90) with synchronous coding
adjustment) or ``"linear"`` (int16 samples: 14-bit uniform PCM = sample >> 2 in, and
``sr << 2`` saturated to int16 out).  Bit-exact with the ITU-T STL ``g726.c`` and the
Appendix II test sequences (tests).

``flavor``: ``"standard"`` (above), ``"libsndfile"`` (:mod:`.sun`, linear, 24/32/40 kbit/s)
or ``"ffmpeg"`` (:mod:`.ffmpeg_flavor`, linear, all rates): the coders those tools ship,
each bit-exact with the tool (tests), with the differences from the standard listed there.

A :class:`G726Encoder` / :class:`G726Decoder` carries the full predictor and scale-factor
state between calls, so any chunking gives the same codes as one call.

Packings (:func:`pack` / :func:`unpack`): ``"le"`` is RFC 3551 section 4.5.4 ("G726-32"
etc.: first code in the least significant bits of the first octet; also ffmpeg
``adpcm_g726le``, libsndfile); ``"be"`` is the ITU-T I.366.2 / AAL2 order (first code in the
most significant bits; ffmpeg ``adpcm_g726``).  24 and 40 kbit/s codes straddle octets.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw.errors import InputError, ParameterError

from . import ffmpeg_flavor, kernels, sun
from .tables import RATES

__all__ = ["LAWS", "PACKINGS", "FLAVORS", "G726Encoder", "G726Decoder", "encode", "decode", "pack", "unpack", "bits_for_rate"]

LAWS = {"ulaw": kernels.LAW_ULAW, "alaw": kernels.LAW_ALAW, "linear": kernels.LAW_LINEAR}
PACKINGS = ("le", "be")
#: "standard": ITU-T G.726 / STL; "libsndfile": Sun's g72x as libsndfile 1.2.2 ships it
#: (:mod:`.sun`); "ffmpeg": libavcodec's adpcm_g726 (:mod:`.ffmpeg_flavor`)
FLAVORS = ("standard", "libsndfile", "ffmpeg")


def bits_for_rate(rate: int) -> int:
    """Bits per code for ``rate`` kbit/s (16, 24, 32 or 40)."""
    if rate not in RATES:
        raise ParameterError(f"G.726 rate {rate!r} kbit/s is not supported; allowed: {sorted(RATES)}")
    return RATES[rate]


def _law(law: str) -> int:
    if law not in LAWS:
        raise ParameterError(f"G.726 law {law!r} is not supported; allowed: {sorted(LAWS)}")
    return LAWS[law]


class _Stream:
    def __init__(self, rate: int = 32, law: str = "linear", flavor: str = "standard") -> None:
        self.rate = rate
        self.bits = bits_for_rate(rate)
        self.law = law
        self._law = _law(law)
        if flavor not in FLAVORS:
            raise ParameterError(f"G.726 flavor {flavor!r} is not supported; allowed: {FLAVORS}")
        if flavor == "libsndfile" and (law != "linear" or rate not in sun.SUN_RATES):
            raise ParameterError(f"the libsndfile G.72x flavor codes linear PCM at {sorted(sun.SUN_RATES)} kbit/s, not {law} at {rate}")
        if flavor == "ffmpeg" and law != "linear":
            raise ParameterError(f"the ffmpeg G.726 flavor codes linear PCM only, not {law}")
        self.flavor = flavor
        self.reset()

    def reset(self) -> None:
        """Back to the reset state (G.726 section 4.2; Sun's for the libsndfile flavor)."""
        resets = {"standard": kernels.reset_state, "libsndfile": sun.sun_reset_state, "ffmpeg": ffmpeg_flavor.ff_reset_state}
        self.state = resets[self.flavor]()


class G726Encoder(_Stream):
    """Streaming G.726 encoder: ``encode(chunk)`` returns the codes (uint8) of the chunk."""

    def encode(self, samples) -> np.ndarray:
        x = np.asarray(samples)
        if x.ndim != 1 or x.dtype.kind not in "iu":
            raise InputError(f"G.726 encoder input must be a 1-D integer array, got {x.dtype} with shape {x.shape}")
        lo, hi = (-32768, 32767) if self._law == kernels.LAW_LINEAR else (0, 255)
        if x.size and (int(x.min()) < lo or int(x.max()) > hi):
            raise InputError(f"G.726 {self.law} input samples must lie in [{lo}, {hi}], got [{int(x.min())}, {int(x.max())}]")
        codes = np.empty(x.size, dtype=np.int64)
        if self.flavor == "standard":
            kernels.encode(x.astype(np.int64), codes, self.bits, self._law, self.state)
        elif self.flavor == "ffmpeg":
            ffmpeg_flavor.ff_encode(x.astype(np.int64), codes, self.bits, self.state, *ffmpeg_flavor.ff_tables(self.bits))
        else:
            sun.sun_encode(x.astype(np.int64), codes, self.bits, self.state, *sun.sun_tables(self.bits))
        return codes.astype(np.uint8)


class G726Decoder(_Stream):
    """Streaming G.726 decoder: ``decode(codes)`` returns int16 (linear) or uint8 G.711 codes."""

    def decode(self, codes) -> np.ndarray:
        c = np.asarray(codes)
        if c.ndim != 1 or c.dtype.kind not in "iu":
            raise InputError(f"G.726 decoder input must be a 1-D integer array of codes, got {c.dtype} with shape {c.shape}")
        top = (1 << self.bits) - 1
        if c.size and (int(c.min()) < 0 or int(c.max()) > top):
            raise InputError(f"G.726 {self.rate} kbit/s codes must lie in [0, {top}], got [{int(c.min())}, {int(c.max())}]")
        out = np.empty(c.size, dtype=np.int64)
        if self.flavor == "standard":
            kernels.decode(c.astype(np.int64), out, self.bits, self._law, self.state)
        elif self.flavor == "ffmpeg":
            ffmpeg_flavor.ff_decode(c.astype(np.int64), out, self.bits, self.state, *ffmpeg_flavor.ff_tables(self.bits)[1:])
        else:
            sun.sun_decode(c.astype(np.int64), out, self.bits, self.state, *sun.sun_tables(self.bits)[1:])
        return out.astype(np.int16 if self._law == kernels.LAW_LINEAR else np.uint8)


def encode(samples, rate: int = 32, law: str = "linear", flavor: str = "standard") -> np.ndarray:
    """Encode a whole signal from the reset state."""
    return G726Encoder(rate, law, flavor).encode(samples)


def decode(codes, rate: int = 32, law: str = "linear", flavor: str = "standard") -> np.ndarray:
    """Decode a whole code sequence from the reset state."""
    return G726Decoder(rate, law, flavor).decode(codes)


def pack(codes, rate: int, packing: str = "le") -> bytes:
    """Pack codes into octets; a final partial octet is padded with zero bits."""
    bits = bits_for_rate(rate)
    if packing not in PACKINGS:
        raise ParameterError(f"G.726 packing {packing!r} is not supported; allowed: {PACKINGS}")
    c = np.asarray(codes, dtype=np.uint8)
    shifts = np.arange(bits, dtype=np.uint8)
    if packing == "be":
        shifts = shifts[::-1]
    stream = ((c[:, None] >> shifts) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(stream, bitorder="little" if packing == "le" else "big").tobytes()


def unpack(data: bytes, rate: int, packing: str = "le", count: int | None = None) -> np.ndarray:
    """Codes from octets: ``count`` codes, or every whole code the octets hold."""
    bits = bits_for_rate(rate)
    if packing not in PACKINGS:
        raise ParameterError(f"G.726 packing {packing!r} is not supported; allowed: {PACKINGS}")
    stream = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little" if packing == "le" else "big")
    whole = stream.size // bits
    if count is None:
        count = whole
    elif count > whole:
        raise InputError(f"{len(data)} octets hold {whole} G.726 {rate} kbit/s codes, {count} requested")
    weights = (1 << np.arange(bits)).astype(np.uint8)
    if packing == "be":
        weights = weights[::-1]
    return (stream[: count * bits].reshape(count, bits) * weights).sum(axis=1).astype(np.uint8)
