"""Sub-byte code packing for tensor quantizers: ``b``-bit codes <-> a ``uint8`` byte array.

``layout`` chooses the order (codes are taken in C, row-major, order of the array):

``"onnx"`` (default; any ``b`` in 1..16)
    ONNX ``INT4``/``UINT4`` tensors and ``numpy.packbits(..., bitorder="little")``: the codes
    form one continuous bit stream in which code ``i`` occupies stream bits ``[i*b, (i+1)*b)``,
    least significant bit first, and stream bit ``j`` is bit ``j % 8`` (value ``2**(j % 8)``)
    of byte ``j // 8``.  So for 4-bit codes element 0 is the low nibble of byte 0 and element 1
    the high nibble; for 2-bit codes byte 0 holds elements 0..3 from its low bits up; a 3-bit
    stream crosses byte boundaries (element 2 takes bits 6-7 of byte 0 and bit 0 of byte 1).
    Unused high bits of the last byte are zero.  ``n`` codes take ``ceil(n*b/8)`` bytes.
``"ggml"`` (``b = 4``)
    GGML's ``Q4_0``/``Q4_1``/``IQ4_NL`` nibble order (llama.cpp ``ggml-quants.c``): the codes
    are cut into blocks of ``block`` (default 32) and byte ``j`` of a block's ``block / 2``
    bytes holds element ``j`` in its low and element ``j + block/2`` in its high nibble;
    ``n`` must be a multiple of ``block``.
``"bnb"`` (``b = 4``)
    bitsandbytes' 4-bit packing: byte ``j`` holds element ``2j`` in its HIGH and element
    ``2j + 1`` in its low nibble; an odd last code fills a high nibble.

Signed codes are stored as their low ``b`` two's-complement bits and sign-extended on
unpacking (``signed=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import InputError, ParameterError

__all__ = ["pack_codes", "unpack_codes", "packed_size", "LAYOUTS"]

LAYOUTS = ("onnx", "ggml", "bnb")


def _check_bits(bits: Any, where: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= int(bits) <= 16:
        raise ParameterError(f"{where}: bits={bits!r} is not allowed; expected an int in [1, 16]")
    return int(bits)


def packed_size(count: int, bits: int) -> int:
    """Bytes needed for ``count`` codes of ``bits`` bits: ``ceil(count * bits / 8)``."""
    return (int(count) * _check_bits(bits, "packed_size") + 7) // 8


def _check_layout(layout: Any, bits: int, count: int, block: Any, where: str) -> None:
    if layout not in LAYOUTS:
        raise ParameterError(f"{where}: layout={layout!r} is not allowed; expected one of {', '.join(LAYOUTS)}")
    if layout == "onnx":
        return
    if bits != 4:
        raise ParameterError(f"{where}: layout={layout!r} packs 4-bit codes; got bits={bits}")
    if layout == "ggml":
        if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 2 or block % 2:
            raise ParameterError(f"{where}: block={block!r} is not allowed; expected an even int >= 2")
        if count % block:
            raise InputError(f"{where}: layout='ggml' needs whole blocks; {count} codes is not a multiple of block={block}")


def _nibble_order(count: int, layout: str, block: int) -> np.ndarray:
    """Element index stored at nibble ``k`` of the plain low-then-high stream."""
    k = np.arange(count + count % 2)
    if layout == "bnb":
        return k ^ 1  # swap the two nibbles of every byte
    half = block // 2
    blk, r = divmod(k, block)
    byte, high = r // 2, r % 2
    return blk * block + byte + high * half


def pack_codes(codes: Any, bits: int, signed: bool = False, layout: str = "onnx", block: int = 32) -> np.ndarray:
    """Pack integer ``codes`` of ``bits`` bits into a 1-D ``uint8`` array (``layout`` in the module doc).

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
    _check_layout(layout, b, flat.size, block, "pack_codes")
    if layout != "onnx":
        order = _nibble_order(flat.size, layout, block)
        flat = np.concatenate([flat, np.zeros(flat.size % 2, np.int64)])[order]
    stream = ((flat[:, None] >> np.arange(b)) & 1).astype(np.uint8)
    return np.packbits(stream.reshape(-1), bitorder="little")


def unpack_codes(data: Any, bits: int, count: int, signed: bool = False, layout: str = "onnx", block: int = 32) -> np.ndarray:
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
    _check_layout(layout, b, int(count), block, "unpack_codes")
    need = (int(count) * b + 7) // 8
    if raw.size < need:
        raise InputError(f"unpack_codes: {raw.size} bytes hold fewer than {count} codes of {b} bits ({need} bytes needed)")
    bits_read = int(count) * b if layout == "onnx" else need * 8  # whole bytes: an odd bnb count pads a nibble
    stream = np.unpackbits(raw[:need], count=bits_read, bitorder="little")
    codes = stream.reshape(-1, b).astype(np.int64) @ (np.int64(1) << np.arange(b, dtype=np.int64))
    if layout != "onnx":
        out = np.empty(codes.size, np.int64)
        out[_nibble_order(int(count), layout, block)] = codes
        codes = out[:int(count)]
    if signed:
        codes = np.where(codes >= 1 << (b - 1), codes - (1 << b), codes)
    return codes
