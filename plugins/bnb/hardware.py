"""Hardware wiring of the ``bnb`` quantizer: the NF4/FP4 element dequantizer.

Block ``"dequantizer"``: :class:`inwhale_hw.hdl.block_dequant.Nf4Dequantizer` with the
quantizer's code book, ports ``code`` (4 bits) and ``absmax`` (float32 bits of the block's
absmax, after any double-quantization decode) -> ``value`` (float32 bits of
``book[code] * absmax``, rounded to nearest even).  Vectors: every code against a seeded sweep
of absmax values -- zero, the powers of two, all-ones mantissas and random bit patterns over
exponent fields 30..220, where every product is a normal float32 (the block's contract).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.hardware import Golden

from .codebooks import dequantize_4bit

__all__ = ["datapath", "vectors", "reference"]


def datapath(quantizer: Any, **hw: Any):
    from inwhale_hw.hdl.block_dequant import Nf4Dequantizer

    return Nf4Dequantizer([float(v) for v in quantizer.book], **hw)


def vectors(seed: int = 0, count: int = 512) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    exps = rng.integers(30, 221, count).astype(np.int64)
    mant = rng.integers(0, 1 << 23, count).astype(np.int64)
    mant[: count // 8] = 0
    mant[count // 8: count // 4] = (1 << 23) - 1
    absmax = np.concatenate([[0], (exps << 23) | mant])
    c, a = np.meshgrid(np.arange(16), absmax, indexing="ij")
    return {"code": c.reshape(-1), "absmax": a.reshape(-1)}


def reference(quantizer: Any, inputs: dict[str, np.ndarray]) -> Golden:
    absmax = np.asarray(inputs["absmax"], dtype=np.uint32).view(np.float32)
    values = dequantize_4bit(np.asarray(inputs["code"], dtype=np.int64), quantizer.book, absmax)
    exact = quantizer.book[np.asarray(inputs["code"], dtype=np.int64)].astype(np.float64) * absmax.astype(np.float64)
    coverage = {"rounded": int(np.sum(values.astype(np.float64) != exact)), "zero": int(np.sum(values == 0))}
    return Golden({"value": values.view(np.uint32).astype(np.int64)}, coverage)
