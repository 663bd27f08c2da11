"""Hardware wiring of the ``mx`` block-dot PE: MXFP4 (E2M1) weights x int8 activations.

Block ``"block_dot"`` (format ``mxfp4_e2m1`` only): :class:`inwhale_hw.hdl.block_dot.MXFP4BlockDotPE`
with 32-element blocks and 8-bit activations.  The golden model :func:`block_dot` gives the
exact ``(sumi, exponent, nan)`` of each block from the E2M1 value table (OCP MX v1.0 §5.3.3:
0, 0.5, 1, 1.5, 2, 3, 4, 6, doubled to integers); the tests check it against ``ml_dtypes``'
``float4_e2m1fn`` values in float64.  Vectors: seeded random blocks, blocks at the rails
(every product ``±6 * -128``), zero blocks, and scale bytes 0, 127, 254 and 255 (NaN).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hardware import Golden

__all__ = ["datapath", "vectors", "reference", "block_dot", "pack_output", "BLOCK", "A_BITS", "E2M1_TWICE"]

BLOCK, A_BITS, EXP_BITS = 32, 8, 10
#: 2 * value of the E2M1 codes 0..15 (bit 3 the sign)
E2M1_TWICE = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], dtype=np.int64)


def _check(quantizer: Any) -> None:
    if quantizer.format != "mxfp4_e2m1":
        raise UnsupportedError(f"mx: format {quantizer.format!r} has no block_dot datapath; formats with one: mxfp4_e2m1")


def datapath(quantizer: Any, **hw: Any):
    _check(quantizer)
    if hw:
        raise ParameterError(f"mx block_dot: hardware parameter {sorted(hw)[0]!r} is not allowed; it takes none")
    from inwhale_hw.hdl.block_dot import MXFP4BlockDotPE

    return MXFP4BlockDotPE(BLOCK, A_BITS)


def block_dot(codes: np.ndarray, a: np.ndarray, xw: np.ndarray, xa: np.ndarray):
    """``(sumi, exponent, nan)`` per block: value ``= sumi * 2**exponent`` (``codes``, ``a``: ``(nb, 32)``)."""
    sumi = np.einsum("ij,ij->i", E2M1_TWICE[np.asarray(codes, np.int64)], np.asarray(a, np.int64))
    xw, xa = np.asarray(xw, np.int64), np.asarray(xa, np.int64)
    return sumi, xw + xa - 255, (xw == 255) | (xa == 255)


def pack_output(sumi: np.ndarray, exponent: np.ndarray, nan: np.ndarray, acc_bits: int) -> np.ndarray:
    """The PE's ``o.payload`` word: ``sumi`` | ``exponent`` << acc_bits | ``nan`` << (acc_bits + 10)."""
    return ((sumi & ((1 << acc_bits) - 1)) | ((exponent & ((1 << EXP_BITS) - 1)) << acc_bits)
            | (nan.astype(np.int64) << (acc_bits + EXP_BITS)))


def vectors(quantizer: Any, seed: int = 0, count: int = 64) -> dict[str, np.ndarray]:
    _check(quantizer)
    if count < 8:
        raise ParameterError(f"mx block_dot: count={count} is not allowed; expected at least 8 blocks (the edge cases)")
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 16, (count, BLOCK))
    a = rng.integers(-128, 128, (count, BLOCK))
    codes[0], a[0] = 15, -128  # -6 * -128: largest positive sum
    codes[1], a[1] = 7, -128  # most negative sum
    codes[2], a[2] = 7, 127
    codes[3] = rng.choice([0, 8], BLOCK)  # +0 / -0 only
    xw, xa = rng.integers(0, 255, count), rng.integers(0, 255, count)
    xw[:4], xa[:4] = (0, 254, 127, 127), (0, 254, 127, 127)
    xw[5], xa[6] = 255, 255
    payload = codes | ((a & 0xFF) << 4)
    return {"i": payload.reshape(-1), "scale": np.repeat(xw | (xa << 8), BLOCK)}


def reference(quantizer: Any, inputs: dict[str, np.ndarray]) -> Golden:
    from inwhale_hw.hdl.block_dot import acc_bits

    p = np.asarray(inputs["i"], dtype=np.int64).reshape(-1, BLOCK)
    codes, a = p & 15, (p >> 4) & 0xFF
    a = np.where(a >= 128, a - 256, a)
    scale = np.asarray(inputs["scale"], dtype=np.int64).reshape(-1, BLOCK)[:, -1]
    sumi, exponent, nan = block_dot(codes, a, scale & 0xFF, scale >> 8)
    out = pack_output(sumi, exponent, nan, acc_bits(BLOCK, 5, A_BITS))
    return Golden({"o": out}, {"rail_sums": int(np.sum(np.abs(sumi) >= BLOCK * 12 * 127)),
                               "nan_scale": int(np.sum(nan)), "extreme_exponent": int(np.sum(np.abs(exponent) >= 253))})
