"""Hardware wiring of the ``gguf`` quantizer: the Q4_0 / Q8_0 element dequantizer.

Block ``"dequantizer"``: :class:`inwhale_hw.hdl.block_dequant.IntScaleDequantizer`, ports
``code`` (the element's nibble or byte), ``scale`` (the block's binary16 ``d`` bits) ->
``value`` (float32 bits of the decoded element).  Vectors: every code against a sweep of
finite binary16 scales (all 31 exponents, subnormals included, extreme and seeded random
mantissas, both signs); the reference decodes one GGUF block per vector with the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import UnsupportedError
from inwhale_hw.hardware import Golden

__all__ = ["HARDWARE_TYPES", "datapath", "vectors", "reference"]

HARDWARE_TYPES = ("Q4_0", "Q8_0")


def _check(qtype: str) -> None:
    if qtype not in HARDWARE_TYPES:
        raise UnsupportedError(f"gguf: type {qtype!r} has no dequantizer datapath; types with one: {', '.join(HARDWARE_TYPES)}")


def datapath(qtype: str, **hw: Any):
    _check(qtype)
    from inwhale_hw.hdl.block_dequant import IntScaleDequantizer

    return IntScaleDequantizer(qtype.lower(), **hw)


def _scales(seed: int, per_exponent: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mant = np.concatenate([[0, 1, 1023, 512], rng.integers(0, 1024, per_exponent - 4)])
    finite = (np.arange(31)[:, None] << 10 | mant[None, :]).reshape(-1)
    return np.unique(np.concatenate([finite, finite | 0x8000]))


def vectors(qtype: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Every code x a sweep of finite binary16 scales."""
    _check(qtype)
    codes = np.arange(16 if qtype == "Q4_0" else 256)
    scales = _scales(seed, 16 if qtype == "Q4_0" else 4)
    c, s = np.meshgrid(codes, scales, indexing="ij")
    return {"code": c.reshape(-1), "scale": s.reshape(-1)}


def reference(quantizer: Any, inputs: dict[str, np.ndarray]) -> Golden:
    """float32 bits of element 0 of a block holding ``scale`` and ``code``, decoded by the model."""
    qtype = quantizer.type
    _check(qtype)
    code, scale = np.asarray(inputs["code"]), np.asarray(inputs["scale"])
    n = code.size
    blocks = np.zeros((n, quantizer.type_size), np.uint8)
    blocks[:, 0], blocks[:, 1] = scale & 0xFF, scale >> 8
    blocks[:, 2] = code if qtype == "Q8_0" else code | 0x80  # Q4_0: element 0 low nibble; element 16 = 8 -> 0
    values = quantizer.decode(blocks)[:, 0]
    coverage = {"subnormal_scales": int(np.sum((scale & 0x7C00) == 0)), "negative_scales": int(np.sum(scale >> 15)),
                "zero_products": int(np.sum(values == 0))}
    return Golden({"value": np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.int64)}, coverage)
