"""Shared input checking and streaming for the tensor quantizer plugins."""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import InputError

__all__ = ["check_real", "TensorStream", "TensorEncoder", "TensorDecoder"]


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


class TensorStream:
    """Streams chunks split along axis 0 through ``quantizer.<method>(chunk, _start=row)``.

    The row offset lets per-channel and per-group scales follow the chunks, so any chunking
    gives the one-shot result.
    """

    def __init__(self, quantizer: Any, method: str) -> None:
        self.quantizer = quantizer
        self._method = method
        self._row = 0
        self._template: np.ndarray | None = None
        self._closed = False

    def _run(self, chunk: Any) -> np.ndarray:
        name = self.quantizer.name
        if self._closed:
            raise InputError(f"{name}: stream already flushed; start a new one")
        arr = np.asarray(chunk)
        if arr.ndim == 0:
            raise InputError(f"{name}: stream chunks are slices along axis 0; got a 0-d array")
        out = getattr(self.quantizer, self._method)(arr, _start=self._row)
        self._row += arr.shape[0]
        self._template = out
        return out

    def flush(self) -> np.ndarray:
        """Nothing is pending in a stateless quantizer: an empty array; closes the stream."""
        self._closed = True
        if self._template is None:
            return np.empty(0)
        return self._template[:0].copy()


class TensorEncoder(TensorStream):
    def __init__(self, quantizer: Any) -> None:
        super().__init__(quantizer, "encode")

    def encode(self, chunk: Any) -> np.ndarray:
        return self._run(chunk)


class TensorDecoder(TensorStream):
    def __init__(self, quantizer: Any) -> None:
        super().__init__(quantizer, "decode")

    def decode(self, chunk: Any) -> np.ndarray:
        return self._run(chunk)
