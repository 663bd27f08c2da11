"""``mx``: OCP Microscaling (MX v1.0) block formats, 32 elements sharing one E8M0 scale.

Formats (OCP MX v1.0 §5, Table 1): MXFP8 (E4M3, E5M2), MXFP6 (E2M3, E3M2), MXFP4 (E2M1) and
MXINT8 (two's complement ``c`` standing for ``c / 64``).  The shared scale ``X = 2**x`` is an
E8M0 byte ``x + 127`` (``x`` in [-127, 127]; 0xFF is NaN).  Conversion of a block ``V``
(§6.3; input cast to float32 first):

* ``scale_rule="floor"`` (the spec): ``x = floor(log2(max|V|)) - emax``, ``emax`` the exponent
  of the element type's largest normal (E4M3 8, E5M2 15, E2M3 2, E3M2 4, E2M1 2, INT8 0);
  elements above the largest normal after scaling are clamped to it;
* ``scale_rule="rceil"`` (NVIDIA's / torchao's RCEIL): ``x = ceil(log2(max|V| / max_elem))``,
  exactly (the smallest ``x`` with ``max|V| <= max_elem * 2**x``), so nothing clamps;
* ``x`` is clamped to [-127, 127]; an all-zero block gets ``x = -127`` (byte 0);
* elements ``P_i = round(V_i / X)`` to nearest, ties to even (exact: ``X`` is a power of two),
  by :func:`inwhale_hw.plugins.minifloat.formats.encode` with saturation, or for MXINT8
  ``clamp(RNE(64 V_i / X), -127, 127)`` (symmetric, as the spec's reference code);
* a block holding NaN or inf (``nonfinite="nan-block"``) gets ``X = NaN`` (byte 0xFF) and zero
  element codes; it decodes to NaN everywhere (§6.2: a NaN scale makes every element NaN).
  ``nonfinite="error"`` (default) raises InputError instead.

Decoding: ``X * value(P_i)`` in float32 (exact unless it leaves float32's range).

Storage, per block: the E8M0 byte then the element codes -- 8-bit codes as bytes (33 B), 6-bit
codes as one little-end-first bit stream (25 B: code ``i`` at stream bits ``6i..6i+5``), 4-bit
codes two per byte, element ``2j`` in the low and ``2j + 1`` in the high nibble (17 B; the
order of PyTorch's ``float4_e2m1fn_x2``).

``flavor="gguf"`` (MXFP4 only) is GGUF's MXFP4 instead, byte for byte: gguf's floor rule (a
float32 ``log2``), the nearest E2M1 value by ``argmin`` (ties to the lower code, so
``1.75 X`` gives ``1.5 X`` where OCP gives ``2 X``) and GGML's nibble order (element ``j`` low,
``j + 16`` high); see :mod:`inwhale_hw.plugins.gguf.ternary`.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param
from inwhale_hw.errors import ParameterError
from inwhale_hw.hardware import check_vector_options

from ..tensor.block_codec import BlockQuantizer
from ..gguf.ternary import decode_mxfp4_gguf, encode_mxfp4_gguf
from ..minifloat.formats import FORMATS, decode, encode
from ..tensor.packing import pack_codes, unpack_codes
from . import block_dot, hardware

__all__ = ["MX", "MX_FORMATS", "e8m0_exponent"]

#: format -> (element format or None for INT8, element bits, emax of the element type)
MX_FORMATS = {
    "mxint8": (None, 8, 0),
    "mxfp8_e4m3": (FORMATS["fp8_e4m3fn"], 8, 8),
    "mxfp8_e5m2": (FORMATS["fp8_e5m2"], 8, 15),
    "mxfp6_e2m3": (FORMATS["fp6_e2m3fn"], 6, 2),
    "mxfp6_e3m2": (FORMATS["fp6_e3m2fn"], 6, 4),
    "mxfp4_e2m1": (FORMATS["fp4_e2m1fn"], 4, 2),
}
_INT8_MAX = 127 / 64


def e8m0_exponent(amax: np.ndarray, emax: int, max_elem: float, rule: str) -> np.ndarray:
    """Shared exponent ``x`` (int64, clamped to [-127, 127]) of blocks with largest magnitude ``amax``."""
    mant, ex = np.frexp(amax.astype(np.float64))  # amax = mant * 2**ex, 0.5 <= mant < 1
    if rule == "floor":
        x = (ex - 1) - emax
    else:
        # amax / max_elem lies in (2**(ex - 2 - f), 2**(ex - f)) for max_elem in [2**f, 2**(f + 1)),
        # so x is ex - 1 - f, or one more when amax exceeds max_elem * 2**(ex - 1 - f)
        x = (ex - 1) - int(np.floor(np.log2(max_elem)))
        x = np.where(amax > np.ldexp(max_elem, x), x + 1, x)
    return np.clip(np.where(amax > 0, x, -127), -127, 127).astype(np.int64)


class MX(BlockQuantizer):
    name = "mx"
    summary = "OCP Microscaling v1.0: MXINT8, MXFP8 E4M3/E5M2, MXFP6 E2M3/E3M2, MXFP4 (OCP or gguf flavor)"
    references = (
        "OCP Microscaling Formats (MX) Specification v1.0 (2023), §5 (formats), §6.2-6.3 (scale, conversion)",
        "NVIDIA/torchao MX recipes: RCEIL scale rule (torchao.prototype.mx_formats, ScaleCalculationMode.RCEIL)",
        "gguf/llama.cpp MXFP4 (GGML_TYPE_MXFP4) for flavor='gguf'",
    )
    params = (
        Param("format", "mxfp4_e2m1", "MX element format", str, choices=tuple(MX_FORMATS)),
        Param("scale_rule", "floor", "shared exponent: floor (OCP spec) or rceil (NVIDIA/torchao)", str,
              choices=("floor", "rceil")),
        Param("flavor", "ocp", "ocp, or gguf (MXFP4 only: GGUF's argmin ties and nibble order)", str,
              choices=("ocp", "gguf")),
        Param("nonfinite", "error", "NaN/inf input: error, or nan-block (scale NaN, as the spec)", str,
              choices=("error", "nan-block")),
    )

    #: element dequantizer (:mod:`.hardware`) and, for MXFP4, the block-dot PE (:mod:`.block_dot`)
    blocks = ("dequantizer", "block_dot")

    def datapath(self, block: str, **hw):
        if block == "block_dot":
            return block_dot.datapath(self, **hw)
        return hardware.datapath(self, **hw)

    def vectors(self, block: str, *, seed: int = 0, **opts):
        if block == "block_dot":
            return block_dot.vectors(self, seed, **check_vector_options(self.name, opts, ("count",)))
        return super().vectors(block, seed=seed, **opts)

    def reference(self, block: str, vectors):
        if block == "block_dot":
            return block_dot.reference(self, vectors)
        return hardware.reference(self, vectors)

    def _check_params(self) -> None:
        self.elem, self.elem_bits, self.emax = MX_FORMATS[self.format]
        if self.flavor == "gguf" and (self.format != "mxfp4_e2m1" or self.scale_rule != "floor"):
            raise ParameterError(
                f"quantizer 'mx': flavor='gguf' exists for format='mxfp4_e2m1' with scale_rule='floor' only, "
                f"not format={self.format!r}, scale_rule={self.scale_rule!r}"
            )
        self.block_size = 32
        self.type_size = 1 + 32 * self.elem_bits // 8
        self.accepts_nonfinite = self.nonfinite == "nan-block"
        self.max_elem = _INT8_MAX if self.elem is None else self.elem.max_value

    def _encode_blocks(self, blocks: np.ndarray) -> np.ndarray:
        if self.flavor == "gguf":
            return encode_mxfp4_gguf(blocks)
        v = blocks.astype(np.float64)
        special = ~np.isfinite(v).all(axis=1, keepdims=True)
        v = np.where(special, 0.0, v)
        x = e8m0_exponent(np.abs(v).max(axis=1, keepdims=True), self.emax, self.max_elem, self.scale_rule)
        scaled = np.ldexp(v, -x)  # exact: a power-of-two scale (underflow below 2**-1074 is far under any code)
        if self.elem is None:
            codes = np.clip(np.rint(scaled * 64), -127, 127).astype(np.int64) & 0xFF
        else:
            codes = encode(scaled, self.elem, saturate=True).astype(np.int64)
        scale = np.where(special, 0xFF, x + 127).astype(np.uint8)
        return np.concatenate([scale, self._pack(np.where(special, 0, codes))], axis=1)

    def _decode_blocks(self, data: np.ndarray) -> np.ndarray:
        if self.flavor == "gguf":
            return decode_mxfp4_gguf(data)
        e = data[:, :1].astype(np.int64)
        codes = self._unpack(data[:, 1:])
        vals = codes.astype(np.int8).astype(np.float64) / 64 if self.elem is None else decode(codes, self.elem)
        out = np.ldexp(vals, e - 127)
        return np.where(e == 0xFF, np.nan, out).astype(np.float32)

    def pack_elements(self, codes: np.ndarray) -> np.ndarray:
        """``(nb, 32)`` element codes -> the ``(nb, type_size - 1)`` element bytes of OCP blocks."""
        return self._pack(codes)

    def _pack(self, codes: np.ndarray) -> np.ndarray:
        """Element codes of each block as one little-end-first stream (32 codes fill whole bytes)."""
        return pack_codes(codes, self.elem_bits, layout="onnx").reshape(codes.shape[0], -1)

    def _unpack(self, raw: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(raw).reshape(-1)
        return unpack_codes(flat, self.elem_bits, 32 * raw.shape[0], layout="onnx").reshape(raw.shape[0], 32)
