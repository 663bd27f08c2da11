"""Exact integer neural-network arithmetic and requantization profiles.

* :func:`matmul`, :func:`conv2d`: exact integer products with a modelled accumulator
  (``acc_bits``, overflow ``wrap``/``sat``/``error``) and :class:`AccumulatorStats`.
* :data:`PROFILES`: requantization conventions, each bit-exact with its namesake runtime.
* :func:`qlinear_matmul`, :func:`qlinear_conv`: the ONNX QLinearMatMul / QLinearConv operators.
* :mod:`inwhale_hw.nn.shiftadd`: products with power-of-two and APoT weight codes (shift-add).
* :mod:`inwhale_hw.nn.ibert`: integer-only GELU, exp, softmax, sqrt and LayerNorm (I-BERT).
"""

from .accumulate import OVERFLOW_POLICIES, AccumulatorStats
from .conv import conv2d
from .matmul import MatmulResult, matmul
from .profiles import PROFILES, get_profile
from .qlinear import qlinear_conv, qlinear_matmul

__all__ = [
    "OVERFLOW_POLICIES",
    "PROFILES",
    "AccumulatorStats",
    "MatmulResult",
    "conv2d",
    "get_profile",
    "matmul",
    "qlinear_conv",
    "qlinear_matmul",
]
