"""Sub-byte code packing for tensor quantizers: ``b``-bit codes <-> a ``uint8`` byte array.

Layout (little-end first, the order of ``numpy.packbits(..., bitorder="little")``, GGML's
``Q4_0`` nibble order and ONNX ``INT4``/``UINT4`` tensors): the codes form one continuous bit
stream in which code ``i`` occupies stream bits ``[i*b, (i+1)*b)``, least significant bit first,
and stream bit ``j`` is bit ``j % 8`` (value ``2**(j % 8)``) of byte ``j // 8``.  So for 4-bit
codes element 0 is the low nibble of byte 0 and element 1 the high nibble; for 2-bit codes
byte 0 holds elements 0..3 from its low bits up; a 3-bit stream crosses byte boundaries
(element 2 takes bits 6-7 of byte 0 and bit 0 of byte 1).  Unused high bits of the last byte
are zero.  ``n`` codes take ``ceil(n*b/8)`` bytes.

Signed codes are stored as their low ``b`` two's-complement bits and sign-extended on
unpacking (``signed=True``).  Codes are packed in C (row-major) order of the array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import InputError, ParameterError

__all__ = ["pack_codes", "unpack_codes", "packed_size"]


def _check_bits(bits: Any, where: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= int(bits) <= 16:
        raise ParameterError(f"{where}: bits={bits!r} is not allowed; expected an int in [1, 16]")
    return int(bits)


def packed_size(count: int, bits: int) -> int:
    """Bytes needed for ``count`` codes of ``bits`` bits: ``ceil(count * bits / 8)``."""
    return (int(count) * _check_bits(bits, "packed_size") + 7) // 8


def pack_codes(codes: Any, bits: int, signed: bool = False) -> np.ndarray:
    """Pack integer ``codes`` of ``bits`` bits into a 1-D ``uint8`` array (layout in the module doc).

    Codes must lie in ``[-2**(b-1), 2**(b-1) - 1]`` (``signed``) or ``[0, 2**b - 1]``; anything
    else raises :class:`~inwhale_hw.errors.InputError` naming the first bad value.
    """
    b = _check_bits(bits, "pack_codes")
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu":
        raise InputError(f"pack_codes: expected an integer array of codes, got dtype {arr.dtype}")
    lo, hi = (-(1 << (b - 1)), (1 << (b - 1)) - 1) if signed else (0, (1 << b) - 1)
    flat = arr.reshape(-1).astype(np.int64)
    bad = (flat < lo) | (flat > hi)
    if bad.any():
        i = int(np.argmax(bad))
        kind = "signed" if signed else "unsigned"
        raise InputError(
            f"pack_codes: code {int(flat[i])} at flat index {i} does not fit {b} {kind} bits [{lo}, {hi}]"
        )
    stream = ((flat[:, None] >> np.arange(b)) & 1).astype(np.uint8)
    return np.packbits(stream.reshape(-1), bitorder="little")


def unpack_codes(data: Any, bits: int, count: int, signed: bool = False) -> np.ndarray:
    """The first ``count`` codes of ``bits`` bits from packed ``data`` (bytes or uint8 array).

    Returns int64 codes (sign-extended when ``signed``); reshape to the tensor's shape.
    Too little data raises :class:`~inwhale_hw.errors.InputError`.
    """
    b = _check_bits(bits, "unpack_codes")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ParameterError(f"unpack_codes: count={count!r} is not allowed; expected an int >= 0")
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else np.asarray(data)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise InputError(f"unpack_codes: expected bytes or a 1-D uint8 array, got {raw.dtype} of shape {raw.shape}")
    need = (int(count) * b + 7) // 8
    if raw.size < need:
        raise InputError(f"unpack_codes: {raw.size} bytes hold fewer than {count} codes of {b} bits ({need} bytes needed)")
    stream = np.unpackbits(raw[:need], count=int(count) * b, bitorder="little")
    codes = stream.reshape(int(count), b).astype(np.int64) @ (np.int64(1) << np.arange(b, dtype=np.int64))
    if signed:
        codes = np.where(codes >= 1 << (b - 1), codes - (1 << b), codes)
    return codes
