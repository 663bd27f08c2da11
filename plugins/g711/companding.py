"""Continuous µ-law and A-law companding at any bit width, to compare with segmented G.711.

G.711's 8-bit codes are a 13-segment (A-law) or 15-segment (µ-law) piecewise-linear
approximation of two smooth compressor characteristics.  This quantizer applies the smooth
laws themselves, with the ITU parameters by default and any other on request:

µ-law (B. Smith 1957; G.711 approximates µ = 255)
    ``F(v) = sgn(v) ln(1 + µ|v|) / ln(1 + µ)``, inverse ``|v| = ((1 + µ)^|y| - 1) / µ``.
A-law (G.711 approximates A = 87.6)
    ``F(v) = sgn(v) A|v| / (1 + ln A)`` for ``|v| < 1/A`` and
    ``sgn(v) (1 + ln(A|v|)) / (1 + ln A)`` for ``1/A <= |v| <= 1``; inverse
    ``|v| = |y| (1 + ln A) / A`` for ``|y| < 1 / (1 + ln A)``, else
    ``exp(|y| (1 + ln A) - 1) / A``.

Encoding (``v = x / 32768`` for int16 ``x``, so ``v`` in [-1, 1)): the code is
``F(v)`` quantized to the signed fixed-point format Q1.(bits-1) of ``bits`` bits
(``inwhale_hw.fixed.quantize``), i.e. ``q = round(F(v) 2^(bits-1))`` with the chosen ``rounding``,
saturated to ``[-2^(bits-1), 2^(bits-1) - 1]``; the code is the two's-complement bit
pattern of ``q``, an unsigned integer ``q mod 2^bits`` (``uint16``).  Decoding maps the code
back to ``y = q / 2^(bits-1)``, expands it with the inverse law and rounds ``32768 F^-1(y)`` to
int16, to nearest with ties to even, saturating at 32767.

``F`` is evaluated in binary64 (``log1p``, ``log``, ``expm1``, ``exp``), so the rounding
acts on ``F(v)`` correct to about 1e-16 relative.  Both maps are tabulated once per
instance over their whole input space (65536 samples, ``2^bits`` codes); encoding and
decoding are table lookups.  STOCHASTIC rounding is not offered: a stateless codec must give
the same bits for any chunking.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import ParameterError
from inwhale_hw.fixed import Overflow, QFormat, Rounding, quantize, to_float

__all__ = ["Companding", "compress", "expand"]

_PCM = QFormat.from_bits(16, 15)  # int16 sample s stands for s / 32768


def _finite_positive(value: float) -> str | None:
    return None if math.isfinite(value) and value > 0 else "expected a finite number > 0"


def _finite(value: float) -> str | None:
    return None if math.isfinite(value) else "expected a finite number"


def compress(v: np.ndarray, law: str, mu: float = 255.0, A: float = 87.6) -> np.ndarray:  # noqa: N803
    """The compressor ``F(v)`` of ``law`` ("mu" or "a") for ``v`` in [-1, 1], in float64."""
    a = np.abs(v)
    if law == "mu":
        y = np.log1p(mu * a) / math.log1p(mu)
    else:
        k = 1.0 + math.log(A)
        linear = a < 1.0 / A
        y = np.where(linear, A * a / k, (1.0 + np.log(np.where(linear, 1.0, A * a))) / k)
    return np.copysign(y, v)


def expand(y: np.ndarray, law: str, mu: float = 255.0, A: float = 87.6) -> np.ndarray:  # noqa: N803
    """The expander ``F^-1(y)`` of ``law`` for ``y`` in [-1, 1], in float64."""
    b = np.abs(y)
    if law == "mu":
        a = np.expm1(b * math.log1p(mu)) / mu
    else:
        k = 1.0 + math.log(A)
        a = np.where(b < 1.0 / k, b * k / A, np.exp(b * k - 1.0) / A)
    return np.copysign(a, y)


class Companding(Quantizer):
    """Continuous µ-law or A-law compressor followed by a ``bits``-bit uniform quantizer."""

    name = "companding"
    kind = "audio"
    summary = "continuous µ-law / A-law compander, 2..16 bits, any rounding (compare with G.711)"
    references = (
        "ITU-T G.711 (11/88): µ-law (µ = 255) and A-law (A = 87.6) characteristics that the "
        "segmented 8-bit codes approximate",
        "B. Smith, Instantaneous companding of quantized signals, Bell Syst. Tech. J. 36 (1957) 653-709",
    )
    params = (
        Param("law", "mu", "compressor: 'mu' (µ-law) or 'a' (A-law)", str, choices=("mu", "a")),
        Param("mu", 255.0, "µ of the µ-law (law='mu' only)", float, check=_finite_positive),
        Param("A", 87.6, "A of the A-law, >= 1 (law='a' only)", float, min=1.0, check=_finite),
        Param("bits", 8, "code width in bits (signed codes)", int, min=2, max=16),
        Param(
            "rounding",
            Rounding.HALF_EVEN,
            "how F(x) is rounded to a code (inwhale_hw.fixed.Rounding; not STOCHASTIC)",
            Rounding,
            choices=tuple(m for m in Rounding if m is not Rounding.STOCHASTIC),
        ),
    )
    code_dtype = np.uint16
    sample_dtype = np.int16

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        unused = "A" if self.law == "mu" else "mu"
        if unused in params:
            raise ParameterError(
                f"quantizer 'companding': parameter {unused}={params[unused]!r} does not apply to "
                f"law={self.law!r}; use law={'a' if unused == 'A' else 'mu'!r} for it"
            )

    @property
    def bits_per_sample(self) -> float:
        return float(self.bits)

    @property
    def code_format(self) -> QFormat:
        """Q1.(bits-1): the code holds the bits of raw ``q``, which stands for ``F = q / 2^(bits-1)``."""
        return QFormat.from_bits(self.bits, self.bits - 1)

    def _law_params(self) -> dict[str, float]:
        return {"mu": self.mu} if self.law == "mu" else {"A": self.A}

    @cached_property
    def _encode_table(self) -> np.ndarray:
        """Code of every int16 sample, indexed by the sample's bit pattern."""
        x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16)
        f = compress(to_float(x, _PCM), self.law, **self._law_params())
        raw = quantize(f, self.code_format, self.rounding, Overflow.SAT)
        return (raw & ((1 << self.bits) - 1)).astype(np.uint16)

    @cached_property
    def _decode_table(self) -> np.ndarray:
        """Sample of every code ``0 .. 2^bits - 1``."""
        fmt = self.code_format
        codes = np.arange(1 << self.bits)
        raw = np.where(codes > fmt.raw_max, codes - (1 << self.bits), codes)
        v = expand(to_float(raw, fmt), self.law, **self._law_params())
        return quantize(v, _PCM, Rounding.HALF_EVEN, Overflow.SAT).astype(np.int16)

    def encode(self, x: Any) -> np.ndarray:
        """int16 PCM, shape (n,) or (n, channels) -> ``bits``-bit two's-complement codes (uint16)."""
        if isinstance(x, np.ndarray) and x.dtype == np.int16 and x.ndim in (1, 2):
            pcm = x
        else:
            pcm = self._check_pcm(x).astype(np.int16)
        return np.take(self._encode_table, pcm.view(np.uint16))

    def decode(self, codes: Any) -> np.ndarray:
        """Codes in [0, 2^bits) -> int16 PCM of the same shape."""
        checked = self._check_codes(codes, 0, (1 << self.bits) - 1)
        return np.take(self._decode_table, checked)
