"""Power-of-two (``pow2``, ``inq``) and additive-powers-of-two (``apot``) tensor quantizers.

All three map a real tensor to sign + magnitude codes of ``bits`` bits, per tensor:

* code bit ``bits-1`` is the sign (1 = negative), the low ``bits-1`` bits are the magnitude
  field ``E``; ``E = 0`` is the value 0 (the sign bit is then 0; a set sign bit with ``E = 0``
  decodes to 0 as well, but encode never emits it).  Codes are ``uint8``.
* the decoded value is ``(-1)**sign * unit * m(E)``: ``m(E)`` is an exact dyadic magnitude
  (a power of two, or a sum of them for APoT), ``unit = scale / max m`` and ``scale`` is the
  largest level.
* encode picks the nearest level; a value exactly half-way goes to the larger magnitude
  (INQ's rule ``(a + b)/2 <= |w| < 3b/2 -> b``).  The threshold between levels ``a < b`` is the
  float ``unit * (a + b) / 2`` (exact when ``unit`` is a power of two); ``|x| >= threshold``
  takes ``b``.  Everything beyond the largest level saturates to it.

``pow2`` (Miyashita et al. 2016, arXiv:1603.01025): ``M = 2**(bits-1) - 1`` nonzero levels
``2**e`` for ``e = e_max - M + 1 .. e_max``; field ``E`` stands for ``2**(e_min + E - 1)``, so
multiplying by a weight is the shift ``x << (E - 1)`` scaled by ``2**e_min``
(:func:`inwhale_hw.nn.shiftadd.pow2_multiply`).  ``scale = 2**e_max`` is itself a power of two, so every level is an
exact power of two.  Rounding ``domain="linear"`` takes the nearest level (thresholds
``1.5 * 2**e``; zero below ``2**(e_min - 1)``); ``domain="log"`` is LogQuant's
``round(log2|x|)`` (thresholds ``sqrt(2) * 2**e``, zero below ``2**(e_min - 1/2)``; the float
``sqrt(2)`` is above the real one and no float lies between them, so the comparison is exact).
``e_max`` (LogQuant's FSR) comes from ``fsr`` if given, else from the observer: ``max`` takes
the level that ``max|x|`` rounds to (linear: INQ's ``n1 = floor(log2(4 max|x| / 3))``; log:
``round(log2 max|x|)``); ``mse`` tries ``e_max`` in ``n1 - 8 .. n1 + 1`` and keeps the
smallest squared error.

``inq`` (Zhou et al. 2017, arXiv:1702.03044, §3.1): the level set ``{0, ±2**n2 .. ±2**n1}``
of Incremental Network Quantization with ``n1 = floor(log2(4 max|W| / 3))`` and
``n2 = n1 + 1 - 2**(bits-1)/2``: ``2**(bits-2)`` exponents, nearest-level (linear) rounding.
The paper spends one bit on "zero" and ``bits-1`` on sign + exponent; here the codes use the
``pow2`` layout (field ``E = 1 .. 2**(bits-2)``), which holds the same ``2**(bits-1) + 1`` levels.

``apot`` (Li, Dong & Wang, ICLR 2020, arXiv:1909.13144, §3.1 eq. 5, and the authors'
``build_power_value``): each magnitude is a sum of one term from each of a few disjoint sets of
powers of two, normalised so the largest is 1, times the clipping threshold ``alpha``.  With
``B = bits - 1`` magnitude bits the term sets (exponents ``k`` of ``2**-k``) are those of the
official code: B=2 ``{1,2,3}``; B=3 ``{1,2,4},{3}``; B=4 ``{1,3,5},{2,4,6}``;
B=5 ``{1,3,6},{2,4,7},{5}``; B=6 ``{1,4,7},{2,5,8},{3,6,9}``.  4-bit APoT (B=3) gives the
levels ``{0, .1, .2, .3, .4, .6, .8, 1} * alpha``.  The magnitude field concatenates one
selector per term, term 0 in the lowest bits (selector 0 = no term, ``j`` = the set's ``j``-th
exponent), so multiplying is a shift-add (:func:`inwhale_hw.nn.shiftadd.apot_multiply`).  ``alpha`` is a trained
clipping threshold in the paper; for a fixed tensor ``observer="mse"`` (default) picks it by
the clip-ratio grid search of :mod:`.observers` applied to ``max|x|``, ``max`` uses
``alpha = max|x|``, and parameter ``alpha`` fixes it.

``encode`` on an unfitted quantizer fits on its input first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import InputError
from inwhale_hw.nn.shiftadd import apot_integer_levels
from inwhale_hw.quantizer import check_frames_channels

from . import observers
from .packing import pack_codes, unpack_codes
from .common import check_real

__all__ = ["Pow2", "INQ", "APoT"]

_SQRT2 = math.sqrt(2.0)  # > sqrt(2), with no float64 in between


class _LevelQuantizer(Quantizer):
    """Sign + magnitude-field codes onto ``unit * magnitudes`` (see the module docstring)."""

    kind = "tensor"
    code_dtype = np.uint8

    def _check_params(self) -> None:
        self.scale: float | None = None
        self.unit: float | None = None
        mags, fields = self._magnitudes()
        order = np.argsort(mags)
        self._mags, self._fields = mags[order], fields[order]  # ascending, _mags[0] == 0
        self._top = float(self._mags[-1])
        table = np.full(1 << self.bits, np.nan)
        half = 1 << (self.bits - 1)
        table[self._fields] = self._mags
        table[half + self._fields] = -self._mags
        table[half] = 0.0
        self._table = table

    def _magnitudes(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact dyadic magnitudes (with 0) and their magnitude-field codes."""
        raise NotImplementedError

    def _thresholds(self, unit: float) -> np.ndarray:
        return unit * ((self._mags[:-1] + self._mags[1:]) / 2)

    def _index(self, a: np.ndarray, unit: float) -> np.ndarray:
        return np.searchsorted(self._thresholds(unit), a, side="right")

    def _fit_scale(self, a: np.ndarray) -> float:
        """The largest level for magnitudes ``a``."""
        raise NotImplementedError

    def _sse_function(self, a: np.ndarray):
        """``sse(unit)``: squared error of encoding magnitudes ``a`` with ``unit``.

        Sorts ``a`` once; each call then finds the level boundaries with the same thresholds
        as :meth:`encode` and sums ``sum (a - l)**2 = S2 - 2 l S1 + n l**2`` per level from
        prefix sums, in ``O(levels log n)``.
        """
        s = np.sort(a)
        c1 = np.concatenate(([0.0], np.cumsum(s)))
        c2 = np.concatenate(([0.0], np.cumsum(s * s)))

        def sse(unit: float) -> float:
            bounds = np.concatenate(([0], np.searchsorted(s, self._thresholds(unit), side="left"), [s.size]))
            n = np.diff(bounds)
            s1, s2 = np.diff(c1[bounds]), np.diff(c2[bounds])
            lv = unit * self._mags
            return float(np.sum(s2 - 2 * lv * s1 + n * lv * lv))

        return sse

    def fit(self, x: Any) -> "_LevelQuantizer":
        """Choose ``scale`` for ``x`` (see the module docstring); returns ``self``."""
        a = np.abs(check_real(x, f"{self.name}.fit", allow_empty=False)).reshape(-1)
        self.scale = float(self._fit_scale(a))
        self.unit = self.scale / self._top
        return self

    def encode(self, x: Any) -> np.ndarray:
        """uint8 sign + magnitude codes of ``x`` (any shape); fits on ``x`` when unfitted."""
        arr = check_real(x, f"{self.name}.encode")
        if self.scale is None:
            self.fit(arr)
        idx = self._index(np.abs(arr), self.unit)
        sign = ((arr < 0) & (idx > 0)).astype(np.uint8) << np.uint8(self.bits - 1)
        return (self._fields[idx].astype(np.uint8) | sign).astype(np.uint8)

    def decode(self, codes: Any) -> np.ndarray:
        """float64 values ``(-1)**sign * unit * m(E)``."""
        if self.scale is None:
            raise InputError(f"{self.name}.decode: no scale yet; call fit(x) or encode(x) first")
        q = np.asarray(codes)
        if q.dtype.kind not in "iu":
            raise InputError(f"{self.name}.decode: expected an integer array of codes, got dtype {q.dtype}")
        q = q.astype(np.int64)
        bad = (q < 0) | (q >= self._table.size)
        bad[~bad] = np.isnan(self._table[q[~bad]])
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise InputError(f"{self.name}.decode: code {int(q.reshape(-1)[i])} at flat index {i} is not a valid {self.bits}-bit code")
        return self.unit * self._table[q]

    def levels(self) -> np.ndarray:
        """Sorted representable values (after fitting)."""
        if self.scale is None:
            raise InputError(f"{self.name}.levels: no scale yet; call fit(x) first")
        return np.unique(self.unit * self._table[~np.isnan(self._table)])

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Codes packed ``bits`` bits each, little-end first (see :mod:`.packing`)."""
        return pack_codes(codes, self.bits).tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int = 1) -> np.ndarray:
        """``frames * channels`` codes from :meth:`pack_codes` output, shaped ``(frames[, channels])``."""
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        codes = unpack_codes(data, self.bits, frames * channels).astype(np.uint8)
        return codes.reshape(frames, channels) if channels > 1 else codes


def _nearest_pow2_exponent(amax: float, log_domain: bool) -> int:
    """Exponent of the power of two ``amax`` rounds to (linear or log domain), exactly."""
    if amax == 0:
        return 0
    m, p = math.frexp(amax)  # amax = m * 2**p, 0.5 <= m < 1
    return p if m >= (_SQRT2 / 2 if log_domain else 0.75) else p - 1


class Pow2(_LevelQuantizer):
    name = "pow2"
    summary = "Power-of-two levels with zero: sign + exponent codes, linear or log-domain (LogQuant) rounding"
    references = (
        "D. Miyashita, E. H. Lee, B. Murmann, Convolutional Neural Networks using Logarithmic Data "
        "Representation, arXiv:1603.01025 (2016), §3 (LogQuant)",
        "A. Zhou et al., Incremental Network Quantization, ICLR 2017, arXiv:1702.03044, §3.1 (n1 rule)",
    )
    params = (
        Param("bits", 4, "code width: 1 sign bit + (bits-1)-bit exponent field", int, min=2, max=8),
        Param("domain", "linear", "round to the nearest level in the linear or the log2 domain", str,
              choices=("linear", "log")),
        Param("observer", "max", "choose e_max from max|x| or by least squared error", str, choices=("max", "mse")),
        Param("fsr", None, "fixed largest exponent e_max (LogQuant's FSR); overrides the observer", int,
              min=-1000, max=1000, allow_none=True),
    )

    def _count(self) -> int:
        return (1 << (self.bits - 1)) - 1

    def _magnitudes(self) -> tuple[np.ndarray, np.ndarray]:
        n = self._count()
        fields = np.arange(n + 1)
        return np.where(fields > 0, np.ldexp(1.0, fields - n), 0.0), fields

    def _thresholds(self, unit: float) -> np.ndarray:
        if self.domain == "log":
            return unit * self._mags[1:] * (_SQRT2 / 2)
        return super()._thresholds(unit)

    @property
    def max_exponent(self) -> int | None:
        """``e_max``: the largest level is ``2**e_max`` (None before fitting)."""
        return None if self.scale is None else math.frexp(self.scale)[1] - 1

    @property
    def min_exponent(self) -> int | None:
        """``e_min = e_max - count + 1``: the smallest nonzero level is ``2**e_min``."""
        return None if self.scale is None else self.max_exponent - self._count() + 1

    def _fit_scale(self, a: np.ndarray) -> float:
        if self.fsr is not None:
            return math.ldexp(1.0, self.fsr)
        n1 = _nearest_pow2_exponent(float(a.max()), self.domain == "log")
        if self.observer == "max":
            return math.ldexp(1.0, n1)
        sse = self._sse_function(a)
        errors = [(sse(math.ldexp(1.0, e)), e) for e in range(n1 - 8, n1 + 2)]
        return math.ldexp(1.0, min(errors, key=lambda t: t[0])[1])


class INQ(Pow2):
    name = "inq"
    summary = "Incremental Network Quantization levels {0, ±2^n2..±2^n1}, n1 = floor(log2(4 max|W|/3))"
    references = ("A. Zhou, A. Yao, Y. Guo, L. Xu, Y. Chen, Incremental Network Quantization: Towards "
                  "Lossless CNNs with Low-Precision Weights, ICLR 2017, arXiv:1702.03044, §3.1 eq. (4)",)
    params = (Param("bits", 5, "bit width b: 2**(b-2) exponents (the paper's b)", int, min=2, max=8),)
    domain, observer, fsr = "linear", "max", None

    def _count(self) -> int:
        return 1 << (self.bits - 2)


class APoT(_LevelQuantizer):
    name = "apot"
    summary = "Additive powers-of-two levels (sums of powers of two) times a clipping threshold alpha"
    references = (
        "Y. Li, X. Dong, W. Wang, Additive Powers-of-Two Quantization: An Efficient Non-uniform "
        "Discretization for Neural Networks, ICLR 2020, arXiv:1909.13144, §3.1 eq. (5)",
        "github.com/yhhhli/APoT_Quantization, build_power_value (term sets for B = 2..6)",
    )
    params = (
        Param("bits", 4, "code width: 1 sign bit + (bits-1) magnitude bits", int, min=3, max=7),
        Param("observer", "mse", "choose alpha by least squared error or as max|x|", str, choices=("mse", "max")),
        Param("alpha", None, "fixed clipping threshold (largest level); overrides the observer", float,
              min=0.0, allow_none=True, check=lambda v: None if v > 0 and math.isfinite(v) else "must be finite and > 0"),
        Param("grid", 100, "coarse grid size N of the MSE clip-ratio search", int, min=2, max=10000),
    )

    def _magnitudes(self) -> tuple[np.ndarray, np.ndarray]:
        return apot_integer_levels(self.bits)

    @property
    def gamma(self) -> float | None:
        """The paper's ``gamma = alpha / u_max`` (``unit``): magnitude ``u`` decodes to ``gamma * u``."""
        return self.unit

    def _fit_scale(self, a: np.ndarray) -> float:
        if self.alpha is not None:
            return self.alpha
        amax = float(a.max())
        if amax == 0:
            return 1.0
        if self.observer == "max":
            return amax
        sse = self._sse_function(a)
        _, hi = observers.mse_search(
            np.array([-amax]), np.array([amax]), lambda lo, hi: np.array([sse(float(hi[0]) / self._top)]), self.grid
        )
        return float(hi[0])
