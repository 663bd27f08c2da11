"""``minifloat``: scalar FP8 / FP6 / FP4 quantization of tensors with per-tensor or per-channel scales.

``codes = encode_fmt(x / s)`` and ``x_hat = s * decode_fmt(codes)``, where ``encode_fmt`` is
the exact round-to-nearest-even conversion of :mod:`.formats` (``saturate`` chooses between
clamping to the largest finite value and the format's inf/NaN on overflow) and ``s`` the scale,
one per tensor or one per index along ``axis`` (``granularity``):

* ``scale_rule="absmax"``: ``s = max|x| / max_finite`` (float64), so the largest magnitude
  maps to the largest finite code (the usual FP8 weight/activation recipe);
* ``"pow2"``: ``s = 2**ceil(log2(max|x| / max_finite))`` (exact), a power of two, so
  ``x / s`` is exact and hardware applies it as an exponent add;
* ``"none"``: ``s = 1`` (a plain cast).

An all-zero tensor or channel gets ``s = 1``.  ``fit(x)`` sets the scale, ``encode`` fits on
its input when not fitted yet; streaming splits along axis 0 with per-channel scales following
the rows.  Codes are ``uint8`` (the format's bit pattern in the low bits), decoded values
float64.  NaN/inf input raises (the quantizer's input is real data; the conversion
functions in :mod:`.formats` define NaN/inf for callers that need them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import InputError
from inwhale_hw.quantizer import TensorDecoder, TensorEncoder

from ..tensor.common import check_real
from .formats import FORMATS, decode, encode

__all__ = ["MiniFloatQuantizer"]


class MiniFloatQuantizer(Quantizer):
    name = "minifloat"
    summary = "Scalar FP8 (E4M3FN, E5M2, fnuz), FP6 (E2M3, E3M2), FP4 (E2M1) with per-tensor/channel scales"
    kind = "tensor"
    references = (
        "OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, §3-§5 (E4M3, E5M2, saturation)",
        "OCP Microscaling Formats (MX) v1.0, §5.3 (FP6 E2M3/E3M2, FP4 E2M1)",
        "Noune et al., 8-bit Numerical Formats for Deep Neural Networks, arXiv:2206.02915 (fnuz variants)",
        "ml_dtypes (float8_*, float6_*, float4_e2m1fn): the reference of the tests",
    )
    params = (
        Param("format", "fp8_e4m3fn", "element format", str, choices=tuple(FORMATS)),
        Param("granularity", "tensor", "one scale per tensor or per channel", str, choices=("tensor", "channel")),
        Param("axis", 0, "channel axis (granularity=channel); negative counts from the end", int),
        Param("scale_rule", "absmax", "scale from max|x|: absmax, pow2 (power of two) or none (s = 1)", str,
              choices=("absmax", "pow2", "none")),
        Param("saturate", True, "clamp overflow to the largest finite value (else inf/NaN as the format has)", bool),
    )

    def _check_params(self) -> None:
        self.fmt = FORMATS[self.format]
        self.scale: np.ndarray | None = None
        self._size = 0

    @property
    def bits_per_weight(self) -> float:
        """Element bits plus a float32 scale per tensor or channel, spread over the fitted values."""
        if self.scale is None or not self._size:
            return float(self.fmt.bits)
        return self.fmt.bits + 32 * self.scale.size / self._size

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise InputError(f"minifloat: axis={self.axis} is out of range for a {ndim}-D array; expected [{-ndim}, {ndim - 1}]")
        return self.axis % ndim

    def fit(self, x: Any) -> "MiniFloatQuantizer":
        """Set the scale(s) from ``x`` (module docstring)."""
        arr = check_real(x, "minifloat.fit", allow_empty=False)
        if self.granularity == "tensor":
            amax = np.max(np.abs(arr)).reshape(())
        else:
            a = self._axis(arr.ndim)
            amax = np.max(np.abs(np.moveaxis(arr, a, 0).reshape(arr.shape[a], -1)), axis=1)
        top = self.fmt.max_value
        if self.scale_rule == "none":
            s = np.ones_like(amax)
        elif self.scale_rule == "absmax":
            s = amax / top
        else:
            mant, ex = np.frexp(amax / top)  # ceil(log2(r)) exactly: r = mant * 2**ex, 0.5 <= mant < 1
            s = np.ldexp(1.0, np.where(mant == 0.5, ex - 1, ex))
            s = np.where(amax <= top * s / 2, s / 2, s)  # the division amax / top may have rounded up
        self.scale = np.where(amax > 0, s, 1.0)
        self._size = arr.size
        return self

    def _broadcast(self, shape: tuple[int, ...], start: int | None) -> np.ndarray:
        if self.scale.ndim == 0:
            return self.scale
        a = self._axis(len(shape))
        s = self.scale
        if start is not None and a == 0:
            s = s[start:start + shape[0]]
        if s.size != shape[a]:
            raise InputError(f"minifloat: fitted for {self.scale.size} channels along axis {a}; got an array of shape {shape}")
        return s.reshape([s.size if i == a else 1 for i in range(len(shape))])

    def encode(self, x: Any, _start: int | None = None) -> np.ndarray:
        """uint8 codes of ``x / s``; fits on ``x`` first when not fitted."""
        arr = check_real(x, "minifloat.encode")
        if self.scale is None:
            self.fit(arr)
        return encode(arr / self._broadcast(arr.shape, _start), self.fmt, self.saturate)

    def decode(self, codes: Any, _start: int | None = None) -> np.ndarray:
        """float64 values ``s * value(code)``."""
        if self.scale is None:
            raise InputError("minifloat.decode: no scale yet; call fit(x) or encode(x) first")
        c = np.asarray(codes)
        if c.dtype.kind not in "iu":
            raise InputError(f"minifloat.decode: expected an integer array of codes, got dtype {c.dtype}")
        bad = (c < 0) | (c >= 1 << self.fmt.bits)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise InputError(f"minifloat.decode: code {int(c.reshape(-1)[i])} at flat index {i} is outside [0, {(1 << self.fmt.bits) - 1}]")
        return decode(c, self.fmt) * self._broadcast(c.shape, _start)

    def encoder(self) -> TensorEncoder:
        return TensorEncoder(self)

    def decoder(self) -> TensorDecoder:
        return TensorDecoder(self)
