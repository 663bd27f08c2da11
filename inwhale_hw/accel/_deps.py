"""Lazy imports of the optional ``onnx`` extra (``onnx``, ``onnxruntime``).

The simulator itself needs only NumPy; reading a model needs ``onnx`` and the bit-exactness
reference needs ``onnxruntime``.  Both come with ``pip install 'inwhale_hw[onnx]'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UnsupportedError

__all__ = ["require", "available"]


def require(module: str) -> ModuleType:
    """Import ``module`` (``onnx`` or ``onnxruntime``) or raise UnsupportedError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UnsupportedError(
            f"the Python package {module!r} is not installed ({exc}); it comes with the optional "
            f"extra 'onnx': pip install 'inwhale_hw[onnx]'"
        ) from None


def available(module: str) -> bool:
    """True when ``module`` imports."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
