"""Independent exact reference for the fixed-point tests: rounding and overflow on Fractions.

Written from the mode definitions only (floor/ceil of rationals, Python's unbounded ints);
it shares no code with inwhale_hw.fixed.
"""

from __future__ import annotations

import math
from fractions import Fraction

HALF = Fraction(1, 2)


def ref_round(v: Fraction, mode: str) -> int:
    """Round the exact rational ``v`` to an integer by the named mode."""
    f = math.floor(v)
    r = v - f
    if mode == "FLOOR":
        return f
    if mode == "CEIL":
        return math.ceil(v)
    if mode == "TOWARD_ZERO":
        return math.trunc(v)
    if mode == "AWAY_FROM_ZERO":
        return f if r == 0 else (f + 1 if v > 0 else f)
    if r < HALF:
        return f
    if r > HALF:
        return f + 1
    tie = {
        "HALF_UP": f + 1,
        "HALF_DOWN": f,
        "HALF_TOWARD_ZERO": f if v > 0 else f + 1,
        "HALF_AWAY": f + 1 if v > 0 else f,
        "HALF_EVEN": f if f % 2 == 0 else f + 1,
        "HALF_ODD": f if f % 2 == 1 else f + 1,
    }
    return tie[mode]


def ref_limits(bits: int, signed: bool) -> tuple[int, int]:
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def ref_overflow(q: int, bits: int, signed: bool, mode: str) -> int | None:
    """Apply the overflow mode to the exact integer ``q``; None means "overflowed under ERROR"."""
    lo, hi = ref_limits(bits, signed)
    if mode == "SAT_SYM" and signed:
        lo = -hi
    if lo <= q <= hi:
        return q
    if mode == "WRAP":
        lo0 = ref_limits(bits, signed)[0]
        return (q - lo0) % 2**bits + lo0
    if mode in ("SAT", "SAT_SYM"):
        return hi if q > hi else lo
    if mode == "SAT_ZERO":
        return 0
    return None
