"""``affine``: integer affine (uniform) quantization of tensors, as in ONNX, PyTorch and TFLite.

Encode and decode (ONNX ``QuantizeLinear`` / ``DequantizeLinear``, opset 21; Jacob et al.
2018, "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
Inference", §2.1)::

    q = clamp(R(x / s - d) + z, qmin, qmax)        x_hat = s * (q - z + d)

``s`` is the scale, ``z`` the integer zero point, ``R`` the rounding mode (any
:class:`inwhale_hw.fixed.Rounding` but STOCHASTIC, whose random draws would make the codes
depend on call order and chunking; default HALF_EVEN, as ONNX and PyTorch),
``d = 0`` for a mid-tread quantizer (a level at zero) and ``d = 1/2`` for mid-rise.

Code range for ``bits = b``: signed ``[-2**(b-1), 2**(b-1) - 1]``, unsigned ``[0, 2**b - 1]``;
``narrow_range`` drops the lowest code (int8 ``[-127, 127]``, TFLite's symmetric weights).
Codes are ``int8``/``int16`` (signed) or ``uint8``/``uint16``; sub-byte codes pack into bytes
with :meth:`Affine.pack_codes` (layout in :mod:`inwhale_hw.plugins.tensor.packing`).

Scale and zero point from the observed range ``[lo, hi]`` (see :mod:`.observers`):

* symmetric mid-tread: ``c = max(-lo, hi)``, ``s = c / (2**(b-1) - 1)`` so ``±c`` are levels;
  ``z = 0`` for signed codes, ``z = 2**(b-1)`` for unsigned codes (offset binary, as PyTorch's
  symmetric ``quint8``).  ``narrow_range`` defaults to True here, so the levels are symmetric.
* symmetric mid-rise (``mid_rise=True``): no level at zero; the ``2**b`` levels
  ``±s/2, ±3s/2, ..., ±(2**(b-1) - 1/2) s`` are the centres of ``2**b`` cells of width
  ``s = c / 2**(b-1)`` tiling ``[-c, c]`` (the classic mid-rise characteristic; 1 bit gives
  ``±c/2``).  Same zero points as mid-tread.
* asymmetric: the range is widened to include 0 (``lo <= 0 <= hi``) so zero is exact;
  ``s = (hi - lo) / (qmax - qmin)``, ``z = clamp(qmin - rint(lo / s), qmin, qmax)``.

A zero range (all-zero data) gives ``s = 1``.  ``precision="float32"`` casts the scale to
float32 and computes ``x / s`` and ``s * (q - z)`` in float32, as ONNX Runtime does (bit-exact
with its QuantizeLinear/DequantizeLinear); the default computes in float64.  Either way the
rounding ``R`` applies exactly to the computed quotient ``x / s`` (minus exactly 1/2 for mid-rise).

Granularity: one scale per tensor, per channel (index along ``axis``, any axis; ``scale`` has
shape ``(C,)``) or per group (``group_size`` consecutive elements along ``axis`` share a
scale; the length along ``axis`` must be a multiple of ``group_size``; ``scale`` has the
tensor's shape with that axis divided by ``group_size``).

Calibration: :meth:`Affine.fit` observes ``x`` afresh and sets ``scale``/``zero_point``;
:meth:`Affine.partial_fit` folds another batch into the running range (observers ``minmax``
and ``moving-average``); :meth:`Affine.set_scale` installs known parameters.  ``encode`` on an
unfitted quantizer first fits on its input.  Streaming (``encoder()``) splits along axis 0
and slices per-channel/per-group scales accordingly, so fit on the whole tensor first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import InputError, ParameterError, UnsupportedError
from inwhale_hw.fixed import QFormat, Rounding, quantize
from inwhale_hw.quantizer import TensorDecoder, TensorEncoder

from . import observers
from .packing import pack_codes, unpack_codes
from .common import check_real

__all__ = ["Affine"]

_ROUNDINGS = tuple(m for m in Rounding if m is not Rounding.STOCHASTIC)
_WIDE = QFormat.from_bits(24, 0)  # holds every clamped x/s - d + 1 before the final clamp


_FLOAT_ROUND = {
    Rounding.FLOOR: np.floor,
    Rounding.CEIL: np.ceil,
    Rounding.TOWARD_ZERO: np.trunc,
    Rounding.AWAY_FROM_ZERO: lambda v: np.copysign(np.ceil(np.abs(v)), v),
}


def _minus_half(v: np.ndarray) -> np.ndarray:
    """A float that every rounding mode rounds like the exact ``v - 1/2`` (mid-rise).

    ``v - 0.5`` itself can round (``-1.5000000000000002 - 0.5`` gives ``-2.0``).  With
    ``t = rint(v)`` and the exact ``e = v - t`` in ``[-1/2, 1/2]``, ``v - 1/2`` lies in
    ``[t - 1, t]`` and its fraction over ``t - 1`` is ``e + 1/2``; only whether that is 0, below,
    at or above 1/2, or 1 matters to a rounding mode, so a representative is used instead.
    """
    t = np.rint(v)
    e = v - t
    frac = np.select([e == -0.5, e < 0, e == 0, e < 0.5], [0.0, 0.25, 0.5, 0.75], 1.0)
    return (t - 1.0) + frac


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


class Affine(Quantizer):
    name = "affine"
    summary = "Integer affine quantization: symmetric/asymmetric, per-tensor/channel/group, 1-16 bits"
    kind = "tensor"
    references = (
        "ONNX operators QuantizeLinear / DequantizeLinear (opset 21): y = saturate(round(x / y_scale) + y_zero_point)",
        "B. Jacob et al., Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only "
        "Inference, CVPR 2018, §2.1 (r = S (q - Z))",
        "R. Krishnamoorthi, Quantizing deep convolutional networks for efficient inference, arXiv:1806.08342, §2",
        "PyTorch torch.ao.quantization observers (MinMaxObserver, MovingAverageMinMaxObserver)",
    )
    params = (
        Param("bits", 8, "code width in bits", int, min=1, max=16),
        Param("signed", True, "signed (two's complement) or unsigned codes", bool),
        Param("symmetric", True, "symmetric range around zero, or asymmetric with a zero point", bool),
        Param("narrow_range", None, "drop the lowest code (default: True for symmetric mid-tread)", bool, allow_none=True),
        Param("mid_rise", False, "mid-rise levels (no zero level) instead of mid-tread; symmetric only", bool),
        Param("granularity", "tensor", "one scale per tensor, channel or group", str, choices=("tensor", "channel", "group")),
        Param("axis", 0, "channel axis (channel) or grouped axis (group); negative counts from the end", int),
        Param("group_size", 32, "elements per group along axis (granularity=group)", int, min=1),
        Param("observer", "minmax", "range observer", str, choices=("minmax", "moving-average", "percentile", "mse")),
        Param("momentum", 0.01, "moving-average weight of a new batch", float, min=0.0, max=1.0, check=_positive),
        Param("percentile", 99.99, "percentile of |x| (or of x at both ends) for observer=percentile", float,
              min=0.0, max=100.0, check=_positive),
        Param("grid", 100, "coarse grid size N of the MSE clip-ratio search (ratios k/N)", int, min=2, max=10000),
        Param("rounding", Rounding.HALF_EVEN, "rounding of x/s (inwhale_hw.fixed.Rounding, not STOCHASTIC)",
              Rounding, choices=_ROUNDINGS),
        Param("precision", "float64", "arithmetic of x/s and s*(q-z): float64, or float32 as ONNX Runtime",
              str, choices=("float64", "float32")),
    )

    def _check_params(self) -> None:
        if self.narrow_range is None:
            self.narrow_range = self.symmetric and not self.mid_rise
            self.params["narrow_range"] = self.narrow_range
        if self.mid_rise and not self.symmetric:
            raise ParameterError("quantizer 'affine': mid_rise=True needs symmetric=True (mid-rise levels are symmetric)")
        if self.mid_rise and self.narrow_range:
            raise ParameterError("quantizer 'affine': narrow_range=True does not apply to mid_rise=True levels")
        if self.symmetric and not self.mid_rise and self.bits < 2:
            raise ParameterError(f"quantizer 'affine': bits={self.bits} leaves no nonzero symmetric mid-tread level; use bits >= 2 or mid_rise=True")
        b = self.bits
        lo, hi = (-(1 << (b - 1)), (1 << (b - 1)) - 1) if self.signed else (0, (1 << b) - 1)
        self.qmin, self.qmax = lo + int(self.narrow_range), hi
        if self.qmax <= self.qmin:
            raise ParameterError(f"quantizer 'affine': narrow_range=True leaves a single code with bits={b}")
        self.offset = 0.5 if self.mid_rise else 0.0
        self.code_dtype = np.dtype(("int" if self.signed else "uint") + ("8" if b <= 8 else "16"))
        self.scale: np.ndarray | None = None
        self.zero_point: np.ndarray | None = None
        self._range: tuple[np.ndarray, np.ndarray] | None = None

    # -- scale and zero point -----------------------------------------------------------------

    def _fixed_zero(self) -> int:
        return 0 if self.signed else 1 << (self.bits - 1)

    def _scale_zero(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row ``(s, z)`` from the range ``[lo, hi]`` (module docstring)."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.symmetric:
                c = np.maximum(np.maximum(-lo, hi), 0.0)
                s = c / float(1 << (self.bits - 1)) if self.mid_rise else c / float((1 << (self.bits - 1)) - 1)
            else:
                lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
                s = (hi - lo) / float(self.qmax - self.qmin)
            if self.precision == "float32":
                s = s.astype(np.float32).astype(np.float64)
            if not np.isfinite(s).all():
                raise InputError(f"affine: the observed range [{np.min(lo)}, {np.max(hi)}] is too wide for a finite scale")
            s = np.where(s > 0, s, 1.0)
            if self.symmetric:
                z = np.full(s.shape, self._fixed_zero(), dtype=np.int64)
            else:
                z = np.clip(self.qmin - np.rint(lo / s), self.qmin, self.qmax).astype(np.int64)
        return s, z

    # -- the math on broadcast parameters ------------------------------------------------------

    def _codes(self, x: np.ndarray, s: np.ndarray, z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.precision == "float32":
                v = (x.astype(np.float32) / np.asarray(s, dtype=np.float32)).astype(np.float64)
            else:
                v = x / s
            v = np.clip(v, self.qmin - z - 1.0, self.qmax - z + 1.0)
        if self.offset:
            v = _minus_half(v)
        q = quantize(v, _WIDE, rounding=self.rounding, overflow="sat") + z
        return np.clip(q, self.qmin, self.qmax)

    def _values(self, q: np.ndarray, s: np.ndarray, z: np.ndarray) -> np.ndarray:
        out = ((q - z) + self.offset) * s
        return out.astype(np.float32) if self.precision == "float32" else out

    # -- layout: rows of values sharing one scale ----------------------------------------------

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise InputError(
                f"affine: axis={self.axis} is out of range for a {ndim}-D array; "
                f"expected an axis in [{-ndim}, {ndim - 1}]"
            )
        return self.axis % ndim

    def _rows(self, x: np.ndarray):
        """``(rows, to_param)``: the values sharing each scale, and rows -> parameter shape."""
        if self.granularity == "tensor":
            return x.reshape(1, -1), lambda v: v.reshape(())
        a = self._axis(x.ndim)
        if self.granularity == "channel":
            n = x.shape[a]
            return np.moveaxis(x, a, 0).reshape(n, -1), lambda v: v.reshape(n)
        n, gs = x.shape[a], self.group_size
        if n % gs:
            raise InputError(
                f"affine: axis {a} has length {n}, not a multiple of group_size={gs}; "
                "choose a group_size that divides it"
            )
        moved = np.moveaxis(x, a, -1)
        outer = moved.shape[:-1] + (n // gs,)
        return moved.reshape(-1, gs), lambda v: np.moveaxis(v.reshape(outer), -1, a)

    def _broadcast(self, param: np.ndarray, shape: tuple[int, ...], start: int | None) -> np.ndarray:
        """``param`` expanded against a (chunk of a) tensor of ``shape``; ``start`` = row offset."""
        if self.granularity == "tensor":
            return param
        a = self._axis(len(shape))
        if self.granularity == "channel":
            full = param.reshape([param.size if i == a else 1 for i in range(len(shape))])
        elif param.ndim != len(shape):
            raise InputError(f"affine: the per-group scale has shape {param.shape}; got a {len(shape)}-D array of shape {shape}")
        else:
            full = np.repeat(param, self.group_size, axis=a)
        if start is not None and full.shape[0] > 1:
            if start + shape[0] > full.shape[0]:
                raise InputError(f"affine: the stream passed row {start + shape[0]} of a tensor fitted with {full.shape[0]} rows")
            full = full[start:start + shape[0]]
        expected = (shape[a],) if self.granularity == "channel" else shape
        got = (full.shape[a],) if self.granularity == "channel" else full.shape
        if got != expected:
            what = f"{param.size} channels along axis {a}" if self.granularity == "channel" else f"tensor shape {full.shape}"
            raise InputError(f"affine: fitted for {what}; got an array of shape {shape}")
        return full

    # -- calibration ----------------------------------------------------------------------------

    def fit(self, x: Any) -> "Affine":
        """Observe ``x`` afresh (forgetting earlier batches) and set ``scale`` and ``zero_point``."""
        arr = check_real(x, "affine.fit", allow_empty=False)
        rows, to_param = self._rows(arr)
        if self.observer == "percentile":
            lo, hi = observers.percentile(rows, self.percentile, self.symmetric)
        elif self.observer == "mse":
            lo0, hi0 = observers.minmax(rows, self.symmetric)
            lo, hi = observers.mse_search(lo0, hi0, lambda a, b: self._row_sse(rows, a, b), self.grid)
        else:
            lo, hi = observers.minmax(rows, self.symmetric)
        self._install(lo, hi, to_param)
        return self

    def partial_fit(self, x: Any) -> "Affine":
        """Fold batch ``x`` into the running range: running extremes (``minmax``) or their
        exponential moving average (``moving-average``).  The first call (or a call after
        :meth:`set_scale`) is :meth:`fit`."""
        if self._range is None:
            return self.fit(x)
        if self.observer not in ("minmax", "moving-average"):
            raise UnsupportedError(
                f"affine: partial_fit needs observer 'minmax' or 'moving-average', not {self.observer!r}; "
                "fit() on the whole calibration set instead"
            )
        arr = check_real(x, "affine.partial_fit", allow_empty=False)
        rows, to_param = self._rows(arr)
        new = observers.minmax(rows, self.symmetric)
        if new[0].shape != self._range[0].shape:
            raise InputError(f"affine.partial_fit: batch has {new[0].size} scale groups, earlier batches {self._range[0].size}")
        if self.observer == "minmax":
            lo, hi = observers.merge_minmax(self._range, new)
        else:
            lo, hi = observers.moving_average(self._range, new, self.momentum)
        self._install(lo, hi, to_param)
        return self

    def _install(self, lo: np.ndarray, hi: np.ndarray, to_param) -> None:
        s, z = self._scale_zero(lo, hi)
        self._range = (lo, hi)
        self.scale, self.zero_point = to_param(s), to_param(z)

    def _row_sse(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per-row squared error of the range ``[lo, hi]``, in float arithmetic for speed.

        Same division and clamp as :meth:`_codes`; the half-way modes all round with
        ``rint`` here, which changes no error (a tie is equally far from both neighbours).
        """
        s, z = self._scale_zero(lo, hi)
        s, z = s[:, None], z[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            if self.precision == "float32":
                v = (rows.astype(np.float32) / s.astype(np.float32)).astype(np.float64)
            else:
                v = rows / s
            if self.offset:
                v -= self.offset
            v = _FLOAT_ROUND.get(self.rounding, np.rint)(v)
            np.clip(v, self.qmin - z, self.qmax - z, out=v)
            if self.offset:
                v += self.offset
            v *= s
            v -= rows
        return np.einsum("ij,ij->i", v, v)

    def set_scale(self, scale: Any, zero_point: Any = None) -> "Affine":
        """Use known parameters (e.g. from an ONNX model) instead of an observer.

        ``scale``: positive finite; a scalar (per-tensor), 1-D (per-channel) or the per-group
        shape.  ``zero_point``: integers in ``[qmin, qmax]`` broadcast to ``scale``'s shape;
        None means the symmetric zero point (0 signed, ``2**(bits-1)`` unsigned).
        """
        s = np.array(scale, dtype=np.float64)
        if self.granularity == "tensor" and s.size == 1:
            s = s.reshape(())
        if self.granularity != "tensor" and s.ndim == 0 or self.granularity == "channel" and s.ndim != 1 \
                or self.granularity == "tensor" and s.ndim:
            raise ParameterError(f"affine.set_scale: scale of shape {s.shape} does not fit granularity={self.granularity!r}")
        if self.precision == "float32":
            s = s.astype(np.float32).astype(np.float64)
        if not (np.isfinite(s) & (s > 0)).all():
            raise ParameterError(f"affine.set_scale: scale={scale!r} is not allowed; expected positive finite values")
        zp = self._fixed_zero() if zero_point is None else zero_point
        z = np.asarray(zp)
        if z.dtype.kind not in "iu" or ((z < self.qmin) | (z > self.qmax)).any():
            raise ParameterError(f"affine.set_scale: zero_point={zero_point!r} is not allowed; expected integers in [{self.qmin}, {self.qmax}]")
        self.scale, self.zero_point = s, np.broadcast_to(z.astype(np.int64), s.shape).copy()
        self._range = None
        return self

    # -- the protocol ---------------------------------------------------------------------------

    def encode(self, x: Any, _start: int | None = None) -> np.ndarray:
        """Integer codes of ``x`` (any shape); fits on ``x`` first when not fitted yet."""
        arr = check_real(x, "affine.encode")
        if self.scale is None:
            self.fit(arr)
        s = self._broadcast(self.scale, arr.shape, _start)
        z = self._broadcast(self.zero_point, arr.shape, _start)
        return self._codes(arr, s, z).astype(self.code_dtype)

    def decode(self, codes: Any, _start: int | None = None) -> np.ndarray:
        """Real values ``s * (q - z + d)`` (float64, or float32 with ``precision="float32"``)."""
        if self.scale is None:
            raise InputError("affine.decode: no scale yet; call fit(x), set_scale() or encode(x) first")
        q = np.asarray(codes)
        if q.dtype.kind not in "iu":
            raise InputError(f"affine.decode: expected an integer array of codes, got dtype {q.dtype}")
        q = q.astype(np.int64)
        bad = (q < self.qmin) | (q > self.qmax)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise InputError(f"affine.decode: code {int(q.reshape(-1)[i])} at flat index {i} is outside [{self.qmin}, {self.qmax}]")
        s = self._broadcast(self.scale, q.shape, _start)
        z = self._broadcast(self.zero_point, q.shape, _start)
        return self._values(q, s, z)

    def encoder(self) -> TensorEncoder:
        return TensorEncoder(self)

    def decoder(self) -> TensorDecoder:
        return TensorDecoder(self)

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Codes packed ``bits`` bits each, little-end first (see :mod:`.packing`)."""
        return pack_codes(codes, self.bits, signed=self.qmin < 0).tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int = 1) -> np.ndarray:
        """``frames * channels`` codes from :meth:`pack_codes` output, shaped ``(frames[, channels])``."""
        codes = unpack_codes(data, self.bits, frames * channels, signed=self.qmin < 0).astype(self.code_dtype)
        return codes.reshape(frames, channels) if channels > 1 else codes

    def levels(self) -> np.ndarray:
        """Sorted representable values of a per-tensor quantizer (after fitting)."""
        if self.scale is None or self.scale.ndim:
            raise UnsupportedError("affine.levels: needs a fitted per-tensor quantizer")
        return self._values(np.arange(self.qmin, self.qmax + 1), self.scale, self.zero_point)
