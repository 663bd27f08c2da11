"""The ``audioop`` functions that transform samples: gain, mixing, channels, bias and layout.

Exact to CPython 3.11 ``audioop``.  The float operations are audioop's own, one IEEE double
operation each in the same order, then its ``fbound``: values above the width's maximum
become the maximum, values below ``minimum + 1`` the minimum, the rest are rounded DOWN
(``floor``; Python 3.11 rounds this way, older versions truncated toward zero).  A NaN becomes
``(int)NaN``, which is -2**31 on x86-64 (stored in ``width`` bytes: 0 for widths 1-3).

``mul(x, f)``                 fbound(x * f)
``tomono(x, l, r)``           fbound(left * l + right * r) per stereo frame
``tostereo(x, l, r)``         frames (fbound(x * l), fbound(x * r))
``add(a, b)``                 a + b saturated to the width's range
``bias(x, b)``                x + b wrapping around modulo 2**(8 width) (unsigned arithmetic)
``reverse`` / ``byteswap``    sample order reversed / bytes of each sample reversed
``lin2lin(x, w, w2)``         the sample moved to the top of 32 bits, then the top ``8 w2``
                              bits kept (arithmetic shifts: widening appends zero bytes,
                              narrowing rounds down)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._samples import MAXVALS, MINVALS, c_double, c_int, check_parameters, check_width, error, fragment_bytes, read, write

#: C double arithmetic: inf and nan results are values, not warnings
def _ieee() -> np.errstate:
    return np.errstate(invalid="ignore", over="ignore")

__all__ = ["mul", "tomono", "tostereo", "add", "bias", "reverse", "byteswap", "lin2lin"]


def _samples(fragment: Any, width: Any) -> tuple[np.ndarray, np.ndarray, int]:
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_parameters(data.size, width)
    return data, read(data, width), width


def _bound(values: np.ndarray, width: int) -> bytes:
    """audioop's ``fbound`` on float64 ``values`` (overwritten), stored in ``width`` bytes."""
    np.floor(values, out=values)
    np.clip(values, MINVALS[width], MAXVALS[width], out=values)
    return write(values.astype(np.int32), width)


def mul(fragment: Any, width: int, factor: float) -> bytes:
    """Samples multiplied by ``factor``, clipped (``audioop.mul``)."""
    data = fragment_bytes(fragment)
    width, factor = c_int(width, "width"), c_double(factor, "factor")
    check_parameters(data.size, width)
    x = read(data, width)
    out = np.empty(x.size)
    with _ieee():
        np.multiply(x, factor, out=out)
        return _bound(out, width)


def tomono(fragment: Any, width: int, lfactor: float, rfactor: float) -> bytes:
    """Stereo frames mixed to mono: ``left * lfactor + right * rfactor`` (``audioop.tomono``)."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    lfactor, rfactor = c_double(lfactor, "lfactor"), c_double(rfactor, "rfactor")
    check_parameters(data.size, width)
    if (data.size // width) & 1:
        raise error(f"not a whole number of frames ({data.size // width} samples is not whole stereo frames)")
    x = read(data, width)
    out = np.empty(x.size // 2)
    right = np.empty(x.size // 2)
    with _ieee():
        np.multiply(x[0::2], lfactor, out=out)
        np.multiply(x[1::2], rfactor, out=right)
        out += right
        return _bound(out, width)


def tostereo(fragment: Any, width: int, lfactor: float, rfactor: float) -> bytes:
    """Mono to stereo frames ``(x * lfactor, x * rfactor)`` (``audioop.tostereo``)."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    lfactor, rfactor = c_double(lfactor, "lfactor"), c_double(rfactor, "rfactor")
    check_parameters(data.size, width)
    x = read(data, width)
    out = np.empty((x.size, 2))
    with _ieee():
        np.multiply(x, lfactor, out=out[:, 0])
        np.multiply(x, rfactor, out=out[:, 1])
        return _bound(out.reshape(-1), width)


def add(fragment1: Any, fragment2: Any, width: int) -> bytes:
    """Sample-wise sum, saturated to the width's range (``audioop.add``)."""
    data1, data2 = fragment_bytes(fragment1), fragment_bytes(fragment2)
    width = c_int(width, "width")
    check_parameters(data1.size, width)
    if data1.size != data2.size:
        raise error(f"Lengths should be the same ({data1.size} and {data2.size} bytes)")
    wide = np.int32 if width < 4 else np.int64
    total = read(data1, width).astype(wide)
    total += read(data2, width)
    np.clip(total, MINVALS[width], MAXVALS[width], out=total)
    return write(total, width)


def bias(fragment: Any, width: int, bias: int) -> bytes:
    """``bias`` added to every sample, wrapping around (``audioop.bias``)."""
    data = fragment_bytes(fragment)
    width, bias = c_int(width, "width"), c_int(bias, "bias")
    check_parameters(data.size, width)
    if width == 3:
        return write(read(data, 3).astype(np.int64) + bias, 3)
    unsigned = {1: np.uint8, 2: np.uint16, 4: np.uint32}[width]
    return (data.view(unsigned) + unsigned(bias & (256**width - 1))).tobytes()


def reverse(fragment: Any, width: int) -> bytes:
    """Samples in reverse order (``audioop.reverse``)."""
    data, _, width = _samples(fragment, width)
    return data.reshape(-1, width)[::-1].tobytes()


def byteswap(fragment: Any, width: int) -> bytes:
    """Each sample's bytes in reverse order: big <-> little endian (``audioop.byteswap``)."""
    data, _, width = _samples(fragment, width)
    return data.reshape(-1, width)[:, ::-1].tobytes()


def lin2lin(fragment: Any, width: int, newwidth: int) -> bytes:
    """Samples converted to ``newwidth`` bytes by their top bits (``audioop.lin2lin``)."""
    data = fragment_bytes(fragment)
    width, newwidth = c_int(width, "width"), c_int(newwidth, "newwidth")
    check_parameters(data.size, width)
    check_width(newwidth)
    x = read(data, width)
    shift = 8 * (newwidth - width)
    if shift > 0:
        return write(x.astype(np.int32) << shift, newwidth)
    return write(x >> -shift, newwidth)
