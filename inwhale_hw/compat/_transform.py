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

from ._samples import (
    CHUNK,
    MAXVALS,
    MINVALS,
    c_double,
    c_int,
    check_parameters,
    check_width,
    error,
    fragment_bytes,
    output_array,
    read,
    write,
)

#: C double arithmetic: inf and nan results are values, not warnings
def _ieee() -> np.errstate:
    return np.errstate(invalid="ignore", over="ignore")

__all__ = ["mul", "tomono", "tostereo", "add", "bias", "reverse", "byteswap", "lin2lin"]


def _samples(fragment: Any, width: Any) -> tuple[np.ndarray, np.ndarray, int]:
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    check_parameters(data.size, width)
    return data, read(data, width), width


def _bound(values: np.ndarray, width: int, out: np.ndarray) -> None:
    """audioop's ``fbound`` on float64 ``values`` (overwritten), cast into ``out``."""
    np.floor(values, out=values)
    np.clip(values, MINVALS[width], MAXVALS[width], out=values)
    np.copyto(out, values, casting="unsafe")  # NaN -> INT_MIN (x86-64), as C's (int) cast


def _scaled(x: np.ndarray, factor: float, width: int) -> bytes:
    """fbound(x * factor) for each sample, in cache-sized blocks."""
    out = output_array(x.size, width)
    scratch = np.empty(min(x.size, CHUNK))
    with _ieee():
        for start in range(0, x.size, CHUNK):
            part = scratch[: min(CHUNK, x.size - start)]
            np.multiply(x[start : start + part.size], factor, out=part)
            _bound(part, width, out[start : start + part.size])
    return write(out, width)


def mul(fragment: Any, width: int, factor: float) -> bytes:
    """Samples multiplied by ``factor``, clipped (``audioop.mul``)."""
    data = fragment_bytes(fragment)
    width, factor = c_int(width, "width"), c_double(factor, "factor")
    check_parameters(data.size, width)
    return _scaled(read(data, width), factor, width)


def tomono(fragment: Any, width: int, lfactor: float, rfactor: float) -> bytes:
    """Stereo frames mixed to mono: ``left * lfactor + right * rfactor`` (``audioop.tomono``)."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    lfactor, rfactor = c_double(lfactor, "lfactor"), c_double(rfactor, "rfactor")
    check_parameters(data.size, width)
    if (data.size // width) & 1:
        raise error(f"not a whole number of frames ({data.size // width} samples is not whole stereo frames)")
    x = read(data, width)
    left, right = x[0::2], x[1::2]
    out = output_array(left.size, width)
    scratch, other = np.empty(min(left.size, CHUNK)), np.empty(min(left.size, CHUNK))
    with _ieee():
        for start in range(0, left.size, CHUNK):
            stop = min(start + CHUNK, left.size)
            part, part_right = scratch[: stop - start], other[: stop - start]
            np.multiply(left[start:stop], lfactor, out=part)
            np.multiply(right[start:stop], rfactor, out=part_right)
            part += part_right
            _bound(part, width, out[start:stop])
    return write(out, width)


def tostereo(fragment: Any, width: int, lfactor: float, rfactor: float) -> bytes:
    """Mono to stereo frames ``(x * lfactor, x * rfactor)`` (``audioop.tostereo``)."""
    data = fragment_bytes(fragment)
    width = c_int(width, "width")
    lfactor, rfactor = c_double(lfactor, "lfactor"), c_double(rfactor, "rfactor")
    check_parameters(data.size, width)
    x = read(data, width)
    out = output_array(2 * x.size, width).reshape(-1, 2)
    scratch = np.empty(min(x.size, CHUNK))
    with _ieee():
        for start in range(0, x.size, CHUNK):
            stop = min(start + CHUNK, x.size)
            part = scratch[: stop - start]
            for channel, factor in enumerate((lfactor, rfactor)):
                np.multiply(x[start:stop], factor, out=part)
                _bound(part, width, out[start:stop, channel])
    return write(out.reshape(-1), width)


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
    data, x, width = _samples(fragment, width)
    return (data.reshape(-1, 3) if width == 3 else x)[::-1].tobytes()


def byteswap(fragment: Any, width: int) -> bytes:
    """Each sample's bytes in reverse order: big <-> little endian (``audioop.byteswap``)."""
    data, x, width = _samples(fragment, width)
    return data.reshape(-1, 3)[:, ::-1].tobytes() if width == 3 else x.byteswap().tobytes()


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
