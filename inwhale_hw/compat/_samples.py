"""Argument conversion and sample (un)packing shared by the ``audioop`` drop-in's functions.

audioop (CPython 3.11 ``Modules/audioop.c``) parses its arguments before it checks them, so
every function here first converts its arguments the way Argument Clinic does, then checks:

* a fragment is any C-contiguous bytes-like object (``str`` -> ``TypeError``);
* ``int`` arguments take ``__index__`` objects only (a float -> ``TypeError``) and must fit a
  C ``int`` (``OverflowError``), ``Py_ssize_t`` ones a 64-bit signed integer;
* ``double`` arguments take floats, objects with ``__float__`` and integers.

Samples are signed ``width``-byte integers (width 1, 2, 3 or 4) in native byte order.
:func:`read` returns them as a NumPy view where a dtype exists (int8, int16, int32) and as a
new int32 array for 24-bit samples; :func:`write` stores integer values into ``width`` bytes,
keeping the low ``8 * width`` bits (C's cast to a narrower type).
"""

from __future__ import annotations

import operator
import sys
from typing import Any

import numpy as np

from inwhale_hw.errors import InputError

__all__ = [
    "MAXVALS",
    "MINVALS",
    "error",
    "c_int",
    "c_ssize",
    "c_double",
    "fragment_bytes",
    "check_width",
    "check_parameters",
    "read",
    "write",
    "output_array",
    "CHUNK",
]

#: samples per block of the chunked float pipelines: the float64 scratch (512 KiB) stays in
#: cache and no large temporary is allocated per call (fresh pages cost more than the math)
CHUNK = 1 << 16

MAXVALS = {1: 0x7F, 2: 0x7FFF, 3: 0x7FFFFF, 4: 0x7FFFFFFF}
MINVALS = {1: -0x80, 2: -0x8000, 3: -0x800000, 4: -0x80000000}
_DTYPES = {1: np.int8, 2: np.int16, 4: np.int32}
_LITTLE = sys.byteorder == "little"


class error(InputError):  # noqa: N801 - the name audioop users catch
    """audioop's ``error``: bad sample width, fragment length, index or rate.

    A subclass of :class:`~inwhale_hw.errors.InputError` (hence also of ``ValueError``).
    """


error.__module__ = "inwhale_hw.compat.audioop"


def c_int(value: Any, name: str) -> int:
    """``value`` as a C ``int``: ``TypeError`` unless it has ``__index__``, ``OverflowError`` past 32 bits."""
    number = operator.index(value)
    if not -(2**31) <= number < 2**31:
        raise OverflowError(f"{name} {number} does not fit a C int (32-bit signed)")
    return number


def c_ssize(value: Any, name: str) -> int:
    """``value`` as a ``Py_ssize_t`` (64-bit signed)."""
    number = operator.index(value)
    if not -(2**63) <= number < 2**63:
        raise OverflowError(f"{name} {number} does not fit a Py_ssize_t (64-bit signed)")
    return number


def c_double(value: Any, name: str) -> float:
    """``value`` as a C ``double``: floats, ``__float__`` objects and integers; not strings."""
    if isinstance(value, float):
        return value
    kind = type(value)
    if hasattr(kind, "__float__"):
        return float(value)
    if hasattr(kind, "__index__"):
        return float(operator.index(value))
    raise TypeError(f"{name} must be a real number, not {kind.__name__}")


def fragment_bytes(fragment: Any) -> np.ndarray:
    """The fragment's bytes as a read-only ``uint8`` array (no copy for contiguous buffers)."""
    return np.frombuffer(memoryview(fragment).cast("B"), dtype=np.uint8)


def check_width(width: int) -> None:
    """Raise :class:`error` unless ``width`` is 1, 2, 3 or 4 (audioop's message, plus the value)."""
    if width not in (1, 2, 3, 4):
        raise error(f"sample width {width} is not supported (Size should be 1, 2, 3 or 4)")


def check_parameters(length: int, width: int) -> None:
    """Width check, then: ``length`` bytes must be whole samples."""
    check_width(width)
    if length % width:
        raise error(f"not a whole number of frames ({length} bytes of {width}-byte samples)")


def read(data: np.ndarray, width: int) -> np.ndarray:
    """Signed samples of the ``uint8`` array ``data`` (a whole number of ``width``-byte samples)."""
    if width != 3:
        return data.view(_DTYPES[width])
    triples = data.reshape(-1, 3)
    wide = np.zeros((triples.shape[0], 4), dtype=np.uint8)
    if _LITTLE:
        wide[:, 1:] = triples
    else:
        wide[:, :3] = triples
    return wide.view(np.int32).reshape(-1) >> 8


def output_array(count: int, width: int) -> np.ndarray:
    """An uninitialized array of ``count`` samples to :func:`write` as ``width``-byte samples."""
    return np.empty(count, dtype=_DTYPES.get(width, np.int32))


def write(values: np.ndarray, width: int) -> bytes:
    """``values`` (any integer dtype) as ``width``-byte native samples, low bits kept."""
    if width != 3:
        return values.astype(_DTYPES[width], copy=False).tobytes()
    wide = values.astype(np.int32, copy=False).view(np.uint8).reshape(-1, 4)
    return np.ascontiguousarray(wide[:, :3] if _LITTLE else wide[:, 1:]).tobytes()
