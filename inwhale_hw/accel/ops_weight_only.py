"""com.microsoft MatMulNBits: weight-only quantized MatMul as ``MatMul4BitsQuantizer`` (RTN)
writes it and onnxruntime's CPU kernel (``contrib_ops/cpu/quantization/matmul_nbits.cc``)
reads it.

Weights ``B`` are ``(N, k_blocks, blob)`` bytes: row ``n`` of the ``N x K`` weight matrix,
``block_size`` codes of ``bits`` bits per block, the lowest bits first in each byte
(``K`` padded to whole blocks).  ``scales`` hold one float per (row, block); ``zero_points``
are absent (then ``2^(bits-1)``) or packed the same way as the codes, one per (row, block),
each row padded to whole bytes.  Dequantization is exact up to one float32 rounding,
``w = f32(f32(q - zp) * scale)``; ``Y = A @ W^T (+ bias)`` is then a float32 product whose
summation order differs from MLAS's (tolerance in :data:`inwhale_hw.accel.SUPPORTED`).

The integer view (codes, per-block scales and zero points) is reported as a layer note.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .context import ExecContext, OpResult
from .graph import Op

__all__ = ["EXECUTORS", "unpack_codes"]


def unpack_codes(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """The first ``count`` ``bits``-bit codes of each row of ``packed`` (uint8, lowest bits
    first): int32 array of shape ``packed.shape[:-1] + (count,)``."""
    raw = np.asarray(packed, dtype=np.uint8)
    per = 8 // bits
    shifts = np.arange(per, dtype=np.uint8) * bits
    codes = (raw[..., None] >> shifts) & ((1 << bits) - 1)
    return codes.reshape(raw.shape[:-1] + (raw.shape[-1] * per,))[..., :count].astype(np.int32)


def weights(op: Op, b: np.ndarray, scales: np.ndarray, zero_points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(W float32 (N, K), codes (N, K), zero points (N, k_blocks))`` of a MatMulNBits node."""
    k, n = int(op.attrs["K"]), int(op.attrs["N"])
    bits, block = int(op.attrs.get("bits", 4)), int(op.attrs["block_size"])
    if bits not in (2, 4, 8):
        raise ModelError(f"MatMulNBits {op.name!r}: bits={bits} is not one of 2, 4, 8")
    blocks = -(-k // block)
    if b.dtype != np.uint8 or b.size != n * blocks * block * bits // 8:
        raise ModelError(f"MatMulNBits {op.name!r}: B has {b.size} {b.dtype} elements, expected {n * blocks * block * bits // 8} uint8")
    codes = unpack_codes(b.reshape(n, blocks * block * bits // 8), bits, blocks * block)
    s = np.asarray(scales, dtype=np.float32).reshape(n, blocks)
    if zero_points is None:
        zp = np.full((n, blocks), 1 << (bits - 1), dtype=np.int32)
    elif zero_points.dtype == np.uint8:
        zp = unpack_codes(zero_points.reshape(n, -1), bits, blocks)
    else:
        raise ModelError(f"MatMulNBits {op.name!r}: {zero_points.dtype} zero points are not supported (uint8 packed only)")
    w = (codes - np.repeat(zp, block, axis=1)).astype(np.float32) * np.repeat(s, block, axis=1)
    return w[:, :k], codes[:, :k], zp


def matmul_nbits(op: Op, args: list, ctx: ExecContext) -> OpResult:
    a, b, scales, zero_points = (args + [None] * 4)[:4]
    if len(args) > 4 and args[4] is not None:
        raise ModelError(f"MatMulNBits {op.name!r}: g_idx (act-order) is not supported")
    bias = args[5] if len(args) > 5 else None
    w, codes, zp = weights(op, b, scales, zero_points)
    if a.dtype != np.float32 or a.shape[-1] != w.shape[1]:
        raise ModelError(f"MatMulNBits {op.name!r}: A must be float32 with last axis K={w.shape[1]}, got {a.dtype} {a.shape}")
    y = np.matmul(a, w.T)
    if bias is not None:
        y = y + bias
    bits, block = int(op.attrs.get("bits", 4)), int(op.attrs["block_size"])
    note = (f"int{bits} weights {w.shape[0]}x{w.shape[1]} (codes {int(codes.min())}..{int(codes.max())}), blocks of {block}, "
            f"{zp.shape[1]} float32 scales per row, zero points {int(zp.min())}..{int(zp.max())}")
    rows = int(np.prod(a.shape[:-1], dtype=np.int64))
    return OpResult([y.astype(np.float32)], "host", macs=rows * w.shape[0] * w.shape[1], notes=[note])


EXECUTORS = {"MatMulNBits": matmul_nbits}
