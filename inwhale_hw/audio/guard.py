"""The host's check of what an audio codec plugin returns, before anything is written.

A plugin is third-party code: its ``encode``/``decode`` (one-shot or streaming) may return
floats, NaN, the wrong shape or values outside its own declared code range.  Every codec call
the audio layer makes goes through :func:`check_codes` / :func:`check_samples` (or the stream
wrappers :class:`GuardedEncoder` / :class:`GuardedDecoder`), which raise
:class:`~inwhale_hw.errors.PluginOutputError` naming the codec and the first bad value.

Contract checked (the :class:`~inwhale_hw.quantizer.Quantizer` protocol for ``kind="audio"``):

* codes: an integer array (dtype kind ``i``/``u``; bool is refused), ``(n,)`` for mono input or
  ``(n, channels)``, with values inside ``code_dtype``'s range and, when ``bits_per_sample`` is
  a whole number ``b`` smaller than the dtype, inside ``b`` bits: ``[0, 2^b - 1]`` for an
  unsigned ``code_dtype``, ``[-2^(b-1), 2^(b-1) - 1]`` for a signed one;
* samples: an integer array with values in int16 ``[-32768, 32767]``, same layout;
* over a whole stream, as many frames come out as went in (checked at ``flush``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import PluginOutputError
from ..quantizer import Quantizer

__all__ = ["code_range", "check_codes", "check_samples", "GuardedEncoder", "GuardedDecoder"]


def code_range(q: Quantizer) -> tuple[int, int]:
    """The inclusive range of ``q``'s codes from ``code_dtype`` and ``bits_per_sample`` (the whole
    ``code_dtype`` for codecs whose codes pack groups of frames, :attr:`Quantizer.pads_frames`)."""
    info = np.iinfo(np.dtype(q.code_dtype))
    lo, hi = int(info.min), int(info.max)
    bits = float(q.bits_per_sample)
    if not q.pads_frames and bits.is_integer() and 0 < bits < info.bits:
        b = int(bits)
        lo, hi = (-(1 << (b - 1)), (1 << (b - 1)) - 1) if info.min < 0 else (0, (1 << b) - 1)
    return lo, hi


def _check(q: Quantizer, out: Any, what: str, channels: int, lo: int, hi: int) -> np.ndarray:
    where = f"codec {q.name!r} {what}"
    if not isinstance(out, np.ndarray):
        raise PluginOutputError(f"{where} returned {type(out).__name__}; expected a NumPy integer array")
    if out.dtype.kind not in "iu":
        detail = " with non-finite values" if out.dtype.kind == "f" and not np.isfinite(out).all() else ""
        raise PluginOutputError(f"{where} returned dtype {out.dtype}{detail}; expected an integer array")
    shape_ok = out.ndim == 1 if channels == 1 else out.ndim == 2 and out.shape[1] == channels
    if (channels == 1 and out.ndim == 2 and out.shape[1] == 1) or (out.size == 0 and out.ndim in (1, 2)):
        shape_ok = True  # a column vector for mono, or an empty flush of either layout
    if not shape_ok:
        expected = "(n,)" if channels == 1 else f"(n, {channels})"
        raise PluginOutputError(f"{where} returned shape {out.shape}; expected {expected}")
    if out.size:
        amin, amax = int(out.min()), int(out.max())
        if amin < lo or amax > hi:
            bad = amin if amin < lo else amax
            raise PluginOutputError(f"{where} returned value {bad}; allowed range [{lo}, {hi}]")
    return out


def check_codes(q: Quantizer, codes: Any, channels: int) -> np.ndarray:
    """``codes`` from ``q.encode`` if they keep the contract, else :class:`PluginOutputError`."""
    lo, hi = code_range(q)
    return _check(q, codes, "encode", channels, lo, hi)


def check_samples(q: Quantizer, samples: Any, channels: int) -> np.ndarray:
    """``samples`` from ``q.decode`` if they are int16-range integers of the right layout."""
    return _check(q, samples, "decode", channels, -32768, 32767)


class _Guarded:
    def __init__(self, q: Quantizer, inner: Any, channels: int) -> None:
        self.q, self.inner, self.channels = q, inner, channels
        self.frames_in = 0
        self.frames_out = 0

    def _count(self, out: np.ndarray) -> np.ndarray:
        self.frames_out += out.shape[0]
        return out

    def _check_total(self, what: str) -> None:
        if self.frames_out != self.frames_in and not self.q.pads_frames:
            raise PluginOutputError(
                f"codec {self.q.name!r} {what} returned {self.frames_out} frames in total for "
                f"{self.frames_in} frames in"
            )


class GuardedEncoder(_Guarded):
    """A streaming encoder whose every output is checked with :func:`check_codes`."""

    def encode(self, pcm: np.ndarray) -> np.ndarray:
        self.frames_in += np.shape(pcm)[0]
        return self._count(check_codes(self.q, self.inner.encode(pcm), self.channels))

    def flush(self) -> np.ndarray:
        out = self._count(check_codes(self.q, self.inner.flush(), self.channels))
        self._check_total("encode")
        return out


class GuardedDecoder(_Guarded):
    """A streaming decoder whose every output is checked with :func:`check_samples`."""

    def decode(self, codes: np.ndarray) -> np.ndarray:
        self.frames_in += np.shape(codes)[0]
        return self._count(check_samples(self.q, self.inner.decode(codes), self.channels))

    def flush(self) -> np.ndarray:
        out = self._count(check_samples(self.q, self.inner.flush(), self.channels))
        self._check_total("decode")
        return out
