"""``uniform``: uniform scalar quantizers (mid-tread, mid-rise, dead-zone) on the fixed-point core.

Notation: step ``D`` (``scale``), ``b`` bits, integer codes ``c`` in the code range
``[cmin, cmax]`` (signed: ``[-2**(b-1), 2**(b-1) - 1]``, unsigned: ``[0, 2**b - 1]``), zero
point ``z`` (the code of the value 0), ``u = x / D`` computed in float64 (one correctly rounded
division, IEEE 754-2019 §5.4.1, as ONNX ``QuantizeLinear`` does), then rounded *exactly* by
:func:`inwhale_hw.fixed.quantize` (Jayant & Noll, *Digital Coding of Waveforms*, 1984, §4.2;
Gersho & Gray, *Vector Quantization and Signal Compression*, 1992, §5.4 and §9.6):

==========  ==========================================  =======================================
mode        encode                                      decode
==========  ==========================================  =======================================
mid-tread   ``c = ovf(round(u) + z)``, ``round`` set    ``x' = (c - z) * D``: 0 is a level
            by ``rounding`` (default HALF_EVEN)
mid-rise    ``c = ovf(floor(u) + z)``                   ``x' = (c - z + 1/2) * D``: 0 is a
                                                        decision threshold, levels at odd D/2
dead-zone   ``c = ovf(trunc(u) + z)`` (zero bin         ``x' = (c - z + sign(c - z) * r) * D``
            ``(-D, D)``, twice as wide)                 (JPEG 2000, ITU-T T.800 §E.1.1, ``r`` =
                                                        ``reconstruction``, 0.5 = bin middle)
==========  ==========================================  =======================================

``ovf`` is the ``overflow`` policy on the code range (default SAT; SAT_ZERO maps an overflowing
value to the code ``z`` of 0).  Symmetric quantizers have ``z = 0`` (signed codes) or
``z = 2**(b-1)`` (unsigned codes); asymmetric ones take ``z`` from the data range.

Scale: pass ``scale`` (and, if asymmetric, ``zero_point``), or leave ``scale`` unset and call
:meth:`UniformQuantizer.fit` with representative data first:

* symmetric, ``A = max|x|``: mid-tread ``D = A / m``, mid-rise ``D = A / (m + 1/2)``, dead-zone
  ``D = A / (m + r)``, with ``m = 2**(b-1) - 1`` the largest positive level index (at least 1),
  so the largest magnitude maps to the outermost level without clipping;
* asymmetric, range ``[lo, hi] = [min(x, 0), max(x, 0)]`` (so 0 stays exactly representable):
  mid-tread ``D = (hi - lo) / (2**b - 1)``, mid-rise ``D = (hi - lo) / 2**b``; then
  ``z = cmin - round(lo / D)`` clamped to the code range (PyTorch/TFLite affine quantization).

A constant-zero input fits ``D = 1``.  Decoding multiplies in float64 (one rounding).
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.fixed import Overflow, QFormat, Rounding, apply_overflow, quantize

__all__ = ["UniformQuantizer"]

MODES = ("mid-tread", "mid-rise", "dead-zone")
_MODE_ROUNDING = {"mid-rise": Rounding.FLOOR, "dead-zone": Rounding.TOWARD_ZERO}
_DETERMINISTIC = tuple(r for r in Rounding if r is not Rounding.STOCHASTIC)  # encode is deterministic
_WIDE = QFormat(48, 0)  # holds round(x / D) before the zero point and the code-range policy


def _positive(value: float) -> str | None:
    return None if value > 0 and np.isfinite(value) else "must be a finite number > 0"


class UniformQuantizer(Quantizer):
    """Uniform scalar quantizer: mid-tread, mid-rise or dead-zone; symmetric or asymmetric."""

    name = "uniform"
    summary = "uniform scalar quantizer (mid-tread, mid-rise, dead-zone), 1-16 bits, exact rounding"
    kind = "tensor"
    references = (
        "N. S. Jayant, P. Noll, Digital Coding of Waveforms, Prentice-Hall 1984, §4.2 (uniform quantizers)",
        "A. Gersho, R. M. Gray, Vector Quantization and Signal Compression, Kluwer 1992, §5.4, §9.6",
        "ITU-T T.800 (JPEG 2000 Part 1) Annex E.1.1 (dead-zone scalar quantization)",
        "ONNX QuantizeLinear / DequantizeLinear (affine quantization, zero point)",
    )
    params = (
        Param("bits", 8, "bits per code", int, min=1, max=16),
        Param("mode", "mid-tread", "quantizer characteristic", str, choices=MODES),
        Param("symmetric", True, "zero point fixed at the code of 0 (True) or fitted to the range", bool),
        Param("signed", True, "two's complement codes (True) or unsigned codes 0..2**bits-1", bool),
        Param("scale", None, "step size D; None: call fit(x) first", float, allow_none=True, check=_positive),
        Param("zero_point", None, "code of the value 0 (asymmetric); None: fitted", int, allow_none=True),
        Param("rounding", Rounding.HALF_EVEN, "rounding of x / D (mid-tread only)", Rounding, choices=_DETERMINISTIC),
        Param("overflow", Overflow.SAT, "policy for codes outside the code range", Overflow),
        Param("reconstruction", 0.5, "dead-zone reconstruction offset r", float, min=0.0, max=1.0),
    )

    def _check_params(self) -> None:
        self.code_format = QFormat(self.bits, 0, self.signed)
        if self.mode != "mid-tread" and self.rounding is not Rounding.HALF_EVEN:
            raise ParameterError(
                f"quantizer 'uniform': rounding={self.rounding.name!r} is not allowed with mode={self.mode!r}; "
                f"{self.mode} always rounds {_MODE_ROUNDING[self.mode].name} (rounding applies to mid-tread)"
            )
        if self.mode == "dead-zone" and (self.bits < 2 or not self.symmetric):
            raise ParameterError(
                f"quantizer 'uniform': mode='dead-zone' needs bits >= 2 and symmetric=True; got bits={self.bits}, "
                f"symmetric={self.symmetric}"
            )
        fmt = self.code_format
        if self.zero_point is not None:
            if self.symmetric and self.zero_point != self._symmetric_zero():
                raise ParameterError(
                    f"quantizer 'uniform': zero_point={self.zero_point} is not allowed with symmetric=True; "
                    f"it is {self._symmetric_zero()} for signed={self.signed}"
                )
            if not fmt.raw_min <= self.zero_point <= fmt.raw_max:
                raise ParameterError(
                    f"quantizer 'uniform': zero_point={self.zero_point} is not allowed; expected a code in "
                    f"[{fmt.raw_min}, {fmt.raw_max}]"
                )
        self.step = self.scale
        self.zero = self.zero_point if self.zero_point is not None else (
            self._symmetric_zero() if self.symmetric or self.scale is not None else None
        )

    def _symmetric_zero(self) -> int:
        return 0 if self.signed else 1 << (self.bits - 1)

    # -- fitting --------------------------------------------------------------------------------

    def fit(self, x: object) -> "UniformQuantizer":
        """Choose the step (and the zero point, if asymmetric) from ``x``; no-op when ``scale`` was given."""
        if self.scale is not None:
            return self
        arr = self._check_input(x, "fit")
        m = max((1 << (self.bits - 1)) - 1, 1)
        if self.symmetric:
            amax = float(np.max(np.abs(arr))) if arr.size else 0.0
            denom = {"mid-tread": m, "mid-rise": m + 0.5, "dead-zone": m + self.reconstruction}[self.mode]
            self.step = amax / denom if amax > 0 else 1.0
            return self
        lo = min(float(arr.min()), 0.0) if arr.size else 0.0
        hi = max(float(arr.max()), 0.0) if arr.size else 0.0
        intervals = (1 << self.bits) - (1 if self.mode == "mid-tread" else 0)
        self.step = (hi - lo) / intervals if hi > lo else 1.0
        if self.zero_point is None:
            fmt = self.code_format
            offset = int(quantize(np.array([lo / self.step]), _WIDE, Rounding.HALF_EVEN)[0])
            self.zero = int(np.clip(fmt.raw_min - offset, fmt.raw_min, fmt.raw_max))
        return self

    # -- the model ------------------------------------------------------------------------------

    def _check_input(self, x: object, where: str) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub":
            raise InputError(f"uniform.{where}: expected a real array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64, copy=False)
        if arr.size and not np.isfinite(arr).all():
            index = int(np.argmin(np.isfinite(arr)))
            raise InputError(f"uniform.{where}: value {arr.flat[index]} at flat index {index} is not finite")
        return arr

    def _fitted(self) -> tuple[float, int]:
        if self.step is None or self.zero is None:
            raise ParameterError(
                "quantizer 'uniform': scale is not set; pass scale=<step> (and zero_point= if asymmetric) "
                "or call fit(x) with representative data first"
            )
        return self.step, self.zero

    @property
    def code_dtype(self):  # type: ignore[override]
        """Smallest NumPy integer dtype holding every code."""
        return np.dtype(("i" if self.signed else "u") + ("1" if self.bits <= 8 else "2"))

    def encode(self, x: object) -> np.ndarray:
        """Codes of ``x`` (a real array of any shape), same shape, dtype :attr:`code_dtype`."""
        step, zero = self._fitted()
        arr = self._check_input(x, "encode")
        rounding = _MODE_ROUNDING.get(self.mode, self.rounding)
        with np.errstate(over="ignore"):
            u = arr / step
        level = quantize(u, _WIDE, rounding, Overflow.WRAP if self.overflow is Overflow.WRAP else Overflow.SAT)
        codes = level + zero  # |level| <= 2**47: no int64 wrap; WRAP stays exact modulo 2**bits
        if self.overflow is Overflow.SAT_ZERO:
            fmt = self.code_format
            codes[(codes < fmt.raw_min) | (codes > fmt.raw_max)] = zero
        else:
            codes = apply_overflow(codes, self.code_format, self.overflow)
        return codes.astype(self.code_dtype)

    def decode(self, codes: object) -> np.ndarray:
        """float64 values of the codes (see the table in the module docstring)."""
        step, zero = self._fitted()
        fmt = self.code_format
        c = np.asarray(codes)
        if c.dtype.kind not in "iub":
            raise InputError(f"uniform.decode: expected integer codes, got dtype {c.dtype}")
        if c.size and (int(c.min()) < fmt.raw_min or int(c.max()) > fmt.raw_max):
            index = int(np.argmax((c < fmt.raw_min) | (c > fmt.raw_max)))
            raise InputError(
                f"uniform.decode: code {int(c.flat[index])} at flat index {index} is outside the "
                f"{self.bits}-bit code range [{fmt.raw_min}, {fmt.raw_max}]"
            )
        level = c.astype(np.float64) - zero
        if self.mode == "mid-rise":
            level += 0.5
        elif self.mode == "dead-zone":
            level += np.sign(level) * self.reconstruction
        return level * step
