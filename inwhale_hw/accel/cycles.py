"""Cycle estimates for an R x C MAC array and a vector unit, from a stated dataflow.

A MAC layer is ``groups`` independent products ``(M x K) @ (K x N)``: for a Gemm ``M`` is the
batch, ``N`` the output features and ``K`` the input features; a convolution is lowered by
im2col with ``M = batch * H_out * W_out`` output pixels, ``N = C_out / group`` and
``K = C_in / group * kH * kW`` (the layout of :mod:`inwhale_hw.accel.ops_quant`).

``output-stationary`` (default): each of the R x C processing elements owns one output of an
``R x C`` tile of ``M x N`` and accumulates it in place while row operands stream in from the
left and column operands from the top, one ``k`` per cycle::

    cycles = groups * ceil(M / R) * ceil(N / C) * K  +  (R + C - 2)

The ``R + C - 2`` cycles are the systolic wavefront's fill (the skew of the last PE's
operands), paid once per layer: draining a finished tile is overlapped with the next tile's
accumulation (double-buffered output registers).

``weight-stationary``: each PE holds one weight of an ``R x C`` tile of ``K x N``; all ``M``
rows stream through each weight tile, partial sums flowing down the columns::

    cycles = groups * ceil(K / R) * ceil(N / C) * M  +  (R + C - 2)

Utilization is ``MACs / (cycles * R * C)``.  Element-wise and pooling work runs on a vector
unit of ``L`` lanes: ``ceil(elements / L)`` cycles, ``elements`` counting every input element
a pooling window reads.  Data movement (Reshape, Flatten, Transpose) costs nothing; float
operators left on the host are not counted.  Memory bandwidth is not modelled: every estimate
assumes operands arrive in time.
"""

from __future__ import annotations

from ..errors import ParameterError

__all__ = ["mac_cycles", "vector_cycles", "utilization"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def mac_cycles(shape: tuple[int, int, int, int], rows: int, cols: int, dataflow: str = "output-stationary") -> int:
    """Cycles of ``groups`` products ``(M x K) @ (K x N)`` on an ``rows x cols`` array."""
    groups, m, n, k = (int(v) for v in shape)
    if min(groups, m, n, k) < 0 or rows < 1 or cols < 1:
        raise ParameterError(f"mac_cycles: shape {shape} and array {rows}x{cols} must be non-negative / positive")
    if groups * m * n * k == 0:
        return 0
    if dataflow == "output-stationary":
        tiles = _ceil_div(m, rows) * _ceil_div(n, cols) * k
    elif dataflow == "weight-stationary":
        tiles = _ceil_div(k, rows) * _ceil_div(n, cols) * m
    else:
        raise ParameterError(f"mac_cycles: dataflow={dataflow!r} is not allowed; expected output-stationary or weight-stationary")
    return groups * tiles + rows + cols - 2


def vector_cycles(elements: int, lanes: int) -> int:
    """``ceil(elements / lanes)``."""
    if lanes < 1:
        raise ParameterError(f"vector_cycles: lanes={lanes!r} must be >= 1")
    return _ceil_div(int(elements), lanes)


def utilization(macs: int, cycles: int, rows: int, cols: int) -> float:
    """Fraction of PE-cycles doing a MAC (0 when no cycles)."""
    return macs / (cycles * rows * cols) if cycles else 0.0
