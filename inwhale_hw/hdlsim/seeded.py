"""Seeded stimulus shared by every simulator: stalls, reset, vector order, random vectors.

The testbenches of all runners (Amaranth, Icarus, Verilator) must drive a block cycle for
cycle identically, so the randomness is one counter-based generator implemented twice, in
NumPy here and in Verilog by :func:`draw_verilog`: draw ``n`` of stream ``seed`` is
``lowbias32((n + seed * 0x9E3779B9 + 0x6A09E667) mod 2^32)``, with Chris Wellons' integer hash
``x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16`` (all mod
2^32; a bijection of 32-bit words).  Being a function of the index, it vectorizes in NumPy
(10^7 draws in well under a second) and needs no state in a testbench.

Stream stalls (one draw ``r`` per clock cycle of a stream run, see :func:`stall_flags`):

* input gap: ``i.valid`` is held low this cycle when ``r[0:2] == 0`` (probability 1/4),
  and ``i.payload`` carries junk (``r[4:]``) while ``i.valid`` is low, so a block that
  ignores ``valid`` takes wrong samples;
* output backpressure: ``o.ready`` is low this cycle when ``r[2:4] == 0`` (probability 1/4);
  an output counts only when ``o.valid`` and ``o.ready`` are both high, so a block that
  ignores ``ready`` loses the outputs it overwrites.

Reset: every clocked run holds the ``sync`` reset for :data:`RESET_CYCLES` cycles first.
:func:`from_reset` makes stream vectors start from the block's reset state (no state load on
the first element) and :func:`shuffled` appends a seeded permutation of map vectors, so a
pipeline stage that lets two signals slip by one cycle meets a different neighbour on
almost every vector.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .ports import Harness

__all__ = [
    "RESET_CYCLES",
    "IDLE_CYCLES",
    "draws",
    "draw_verilog",
    "stall_flags",
    "junk_bits",
    "from_reset",
    "shuffled",
]

#: cycles the ``sync`` reset is held before the first vector
RESET_CYCLES = 3
#: a stream run ends after this many cycles without an output once every input was taken
IDLE_CYCLES = 1024
_MASK32 = 0xFFFF_FFFF
_GOLDEN = 0x9E37_79B9
_START = 0x6A09_E667


def _offset(seed: int) -> int:
    return (int(seed) * _GOLDEN + _START) & _MASK32


def draws(seed: int, start: int, count: int) -> np.ndarray:
    """Draws ``start .. start + count - 1`` of stream ``seed``, as uint32."""
    offset = np.uint64(_offset(seed))
    x = (np.arange(start, start + count, dtype=np.uint64) + offset) & np.uint64(_MASK32)
    x = x.astype(np.uint32)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return x


def draw_verilog(target: str, index: str, seed: int) -> str:
    """Verilog statements setting the 32-bit reg ``target`` to draw ``index`` of ``seed``."""
    t = target
    return (f"{t} = {index} + 32'd{_offset(seed)}; {t} = {t} ^ ({t} >> 16); "
            f"{t} = {t} * 32'h7feb352d; {t} = {t} ^ ({t} >> 15); {t} = {t} * 32'h846ca68b; "
            f"{t} = {t} ^ ({t} >> 16);")


def stall_flags(draw: int) -> tuple[bool, bool]:
    """``(input_gap, output_blocked)`` for one cycle's draw."""
    return (draw & 3) == 0, (draw >> 2 & 3) == 0


def junk_bits(draw: int) -> int:
    """The bits driven on ``i.payload`` while ``i.valid`` is low."""
    return draw >> 4


def from_reset(harness: Harness, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Stream inputs whose first element loads no state: every sideband input is 0 there.

    By the protocol (:mod:`.protocol`), an element whose sideband inputs are all 0 is coded
    from the state the block holds, so the first output then depends on the reset state and
    a wrong reset value mismatches.  Map inputs are returned unchanged.
    """
    out = {key: np.asarray(value).copy() for key, value in inputs.items()}
    if harness.kind == "stream":
        for key in harness.inputs:
            if key != "i" and len(out[key]):
                out[key][0] = 0
    return out


def shuffled(inputs: Mapping[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Map inputs followed by the same vectors in a seeded random order (twice as many)."""
    order = np.random.default_rng(seed).permutation(len(next(iter(inputs.values()))))
    return {key: np.concatenate([np.asarray(v), np.asarray(v)[order]]) for key, v in inputs.items()}
