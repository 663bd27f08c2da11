"""``gguf``: the block quants of GGML / llama.cpp, byte for byte as a GGUF file stores them.

``type`` picks the format.  Encode and decode: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (:mod:`.legacy`),
TQ1_0, TQ2_0 and MXFP4 (:mod:`.ternary`); decode only: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_NL
(:mod:`.kquants`; their encoders search scales and are not modelled).  ``encode`` takes a real
array whose last axis is a multiple of the block size (32, or 256 for TQ*/K types), casts it to
float32 as ``gguf.quants.quantize`` does, and returns the ``uint8`` rows of a GGUF tensor
(see :mod:`inwhale_hw.plugins.tensor.block_codec`); ``decode`` returns float32.
"""

from __future__ import annotations

import numpy as np

from inwhale_hw import Param
from inwhale_hw.hardware import check_vector_options
from inwhale_hw.errors import UnsupportedError

from ..tensor.block_codec import BlockQuantizer
from . import block_dot, hardware
from .kquants import K_QUANTS
from .legacy import LEGACY
from .ternary import TERNARY

__all__ = ["GGUF", "GGUF_TYPES", "ENCODABLE"]

#: type name -> (block_size, type_size, encoder or None, decoder)
GGUF_TYPES = {**LEGACY, **TERNARY, **K_QUANTS}
ENCODABLE = tuple(name for name, spec in GGUF_TYPES.items() if spec[2] is not None)


class GGUF(BlockQuantizer):
    name = "gguf"
    summary = "GGML/GGUF block quants (Q4_0..Q8_0, TQ1_0, TQ2_0, MXFP4; K-quants and IQ4_NL decode), byte-exact"
    references = (
        "llama.cpp ggml/src/ggml-quants.c (quantize_row_*_ref, dequantize_row_*) and ggml-common.h (block layouts)",
        "gguf Python package, gguf/quants.py (NumPy reference used by the tests)",
        "OCP Microscaling Formats (MX) v1.0, §5 (E8M0, E2M1) for MXFP4",
    )
    params = (Param("type", "Q4_0", "GGML quantization type", str, choices=tuple(GGUF_TYPES)),)
    #: element dequantizer (:mod:`.hardware`) and block-dot PE (:mod:`.block_dot`), types Q4_0 and Q8_0
    blocks = ("dequantizer", "block_dot")

    def _check_params(self) -> None:
        self.block_size, self.type_size, self._enc, self._dec = GGUF_TYPES[self.type]

    def encode(self, x):
        if self._enc is None:
            raise UnsupportedError(
                f"gguf: type {self.type!r} is decode-only here (its llama.cpp encoder searches scales); "
                f"encodable types: {', '.join(ENCODABLE)}"
            )
        return super().encode(x)

    def _encode_blocks(self, blocks: np.ndarray) -> np.ndarray:
        return self._enc(blocks)

    def _decode_blocks(self, data: np.ndarray) -> np.ndarray:
        return self._dec(data)

    def datapath(self, block: str, **hw):
        if block == "block_dot":
            return block_dot.datapath(self.type, **hw)
        return hardware.datapath(self.type, **hw)

    def vectors(self, block: str, *, seed: int = 0, **opts):
        if block == "block_dot":
            return block_dot.vectors(self.type, seed, **check_vector_options(self.name, opts, ("count",)))
        check_vector_options(self.name, opts, ())
        return hardware.vectors(self.type, seed)

    def reference(self, block: str, vectors):
        if block == "block_dot":
            return block_dot.reference(self.type, vectors)
        return hardware.reference(self, vectors)
