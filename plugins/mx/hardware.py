"""Hardware wiring of the ``mx`` quantizer: the element dequantizer.

Block ``"dequantizer"``: :class:`inwhale_hw.hdl.block_dequant.MxDequantizer`, ports ``code``
(one element code) and ``scale`` (the block's E8M0 byte) -> ``value`` (float32 bits of
``2**(scale - 127) * element``).  Its inputs total at most 16 bits, so verification runs every
code against every scale (exhaustive).  The reference decodes one MX block per vector with the
model (``flavor="ocp"``; the gguf flavor's MXFP4 values are the same E2M1 values, in GGML's
nibble order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inwhale_hw.errors import UnsupportedError
from inwhale_hw.hardware import Golden

__all__ = ["datapath", "reference"]


def datapath(quantizer: Any, **hw: Any):
    if quantizer.flavor != "ocp":
        raise UnsupportedError("mx: the dequantizer datapath models flavor='ocp' (the gguf flavor stores the same values)")
    from inwhale_hw.hdl.block_dequant import MxDequantizer

    return MxDequantizer(quantizer.format, **hw)


def reference(quantizer: Any, inputs: dict[str, np.ndarray]) -> Golden:
    """float32 bits of element 0 of a block holding ``scale`` and ``code``, decoded by the model."""
    code, scale = np.asarray(inputs["code"]).astype(np.int64), np.asarray(inputs["scale"]).astype(np.int64)
    codes = np.zeros((code.size, 32), np.int64)
    codes[:, 0] = code
    blocks = np.concatenate([scale[:, None].astype(np.uint8), quantizer.pack_elements(codes)], axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        values = quantizer.decode(blocks)[:, 0]
    tiny = (values != 0) & (np.abs(values) < np.finfo(np.float32).tiny)
    coverage = {"nan": int(np.isnan(values).sum()), "inf": int(np.isinf(values).sum()), "subnormal_out": int(tiny.sum())}
    return Golden({"value": np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.int64)}, coverage)
