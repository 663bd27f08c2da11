"""Hardware wiring of the ``gguf`` block-dot PE (Q4_0 or Q8_0 weights x int8 activations).

Block ``"block_dot"``: :class:`inwhale_hw.hdl.block_dot.BlockDotPE` with ``w_bits`` 4 (Q4_0,
weight = nibble - 8) or 8 (Q8_0), 8-bit activations, 32-element blocks and a 16-bit combined
scale.  The golden model is :func:`block_dot` (exact integers); :func:`fixed_scale` turns the
binary16 weight scale ``d_w`` and an activation scale ``d_a`` into the PE's fixed-point
``s = round(d_w * d_a * 2**frac)`` (half even; ``frac`` chosen per tensor so the largest
``s`` fits 16 bits), whose error against the float computation ``sum(d_w w_i * d_a a_i)`` the
tests measure.  Vectors: seeded random blocks, plus blocks at the rails (every product
``-8 * -128``, ``7 * 127``) and zero blocks, with random and extreme scales.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hardware import Golden

__all__ = ["datapath", "vectors", "reference", "block_dot", "fixed_scale", "BLOCK", "SCALE_BITS"]

BLOCK, SCALE_BITS, A_BITS = 32, 16, 8


def _w_bits(qtype: str) -> int:
    if qtype not in ("Q4_0", "Q8_0"):
        raise UnsupportedError(f"gguf: type {qtype!r} has no block_dot datapath; types with one: Q4_0, Q8_0")
    return 4 if qtype == "Q4_0" else 8


def datapath(qtype: str, **hw: Any):
    if hw:
        raise ParameterError(f"gguf block_dot: hardware parameter {sorted(hw)[0]!r} is not allowed; it takes none")
    from inwhale_hw.hdl.block_dot import BlockDotPE

    return BlockDotPE(BLOCK, _w_bits(qtype), A_BITS, SCALE_BITS)


def block_dot(w: np.ndarray, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Exact ``sum(w_i * a_i) * s`` per block: ``w``, ``a`` of shape ``(nb, 32)``, ``s`` ``(nb,)``."""
    return np.einsum("ij,ij->i", w.astype(np.int64), a.astype(np.int64)) * s.astype(np.int64)


def fixed_scale(d: np.ndarray, bits: int = SCALE_BITS) -> tuple[np.ndarray, int]:
    """``(s, frac)``: ``d >= 0`` as ``round(d * 2**frac)`` with the largest ``frac`` keeping ``s < 2**bits``."""
    top = float(np.max(d))
    frac = bits - 1 - int(np.floor(np.log2(top))) if top > 0 else 0
    s = np.rint(np.ldexp(d.astype(np.float64), frac)).astype(np.int64)
    return np.minimum(s, (1 << bits) - 1), frac


def vectors(qtype: str, seed: int = 0, count: int = 64) -> dict[str, np.ndarray]:
    wb = _w_bits(qtype)
    rng = np.random.default_rng(seed)
    wlo, whi = -(1 << (wb - 1)), (1 << (wb - 1)) - 1
    w = rng.integers(wlo, whi + 1, (count, BLOCK))
    a = rng.integers(-128, 128, (count, BLOCK))
    w[0], a[0] = wlo, -128  # largest positive sum
    w[1], a[1] = whi, -128  # most negative sum
    w[2], a[2] = whi, 127
    w[3] = 0
    s = rng.integers(0, 1 << SCALE_BITS, count)
    s[:3] = (1 << SCALE_BITS) - 1
    s[4] = 0
    payload = (w & ((1 << wb) - 1)) | ((a & 0xFF) << wb)
    return {"i": payload.reshape(-1), "scale": np.repeat(s, BLOCK)}


def reference(qtype: str, inputs: dict[str, np.ndarray]) -> Golden:
    wb = _w_bits(qtype)
    p = np.asarray(inputs["i"], dtype=np.int64).reshape(-1, BLOCK)
    w = p & ((1 << wb) - 1)
    w = np.where(w >= 1 << (wb - 1), w - (1 << wb), w)
    a = (p >> wb) & 0xFF
    a = np.where(a >= 128, a - 256, a)
    s = np.asarray(inputs["scale"], dtype=np.int64).reshape(-1, BLOCK)[:, -1]
    out = block_dot(w, a, s)
    sums = np.einsum("ij,ij->i", w, a)
    return Golden({"o": out}, {"rail_sums": int(np.sum(np.abs(sums) >= BLOCK * 127 * ((1 << (wb - 1)) - 1))),
                               "zero_scale": int(np.sum(s == 0))})
