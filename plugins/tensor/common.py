"""Shared input checking of the tensor quantizer plugins (their streaming base is core:
:class:`inwhale_hw.quantizer.TensorStream`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import InputError

__all__ = ["check_real"]


def check_real(x: Any, where: str, allow_empty: bool = True) -> np.ndarray:
    """``x`` as a float64 array of any shape; non-real dtypes, NaN and inf raise InputError."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{where}: expected a real (float or integer) array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not allow_empty and arr.size == 0:
        raise InputError(f"{where}: cannot calibrate on an empty array (shape {arr.shape})")
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.argmin(finite.reshape(-1)))
        raise InputError(f"{where}: value {arr.reshape(-1)[i]} at flat index {i} is not finite; expected finite real numbers")
    return arr
