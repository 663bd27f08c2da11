"""Arithmetic building blocks of the sequential codec datapaths (DPCM, CVSD, delta).

* Constant multiplication by canonical signed digits (CSD): ``c = sum_i d_i 2**s_i`` with
  ``d_i = +-1`` and no two adjacent non-zero digits, the representation with the fewest
  non-zero digits, so ``x * c`` costs ``len(digits) - 1`` adders (e.g. ``x * 15`` is
  ``(x << 4) - x``).  :class:`ProductBank` computes ``x * c`` for the constants of a table
  with one shift-add tree per distinct odd magnitude (shifts and negations reuse it).
* :func:`select_product`: ``x * table[index]`` as a bank of products and a multiplexer, or
  as a ROM feeding one multiplier, whichever needs fewer adders.
* :func:`clamp`, :func:`rom`.
* :class:`Stages`: combinational logic split into named submodules.  Amaranth's simulator
  compiles each fragment's combinational statements into one process that reruns until its
  signals settle, so a signal that is driven and read within one fragment costs a full rerun
  per level of such signals; a chain of stages, each its own submodule, runs each stage
  about once per settle instead (measured: 2-3x faster for the DPCM encoder).  In the
  Verilog each stage is a small module of its block, which also documents the structure.

Every operation uses Amaranth's exact arithmetic (results widen; nothing wraps).
"""

from __future__ import annotations

from typing import Sequence

from amaranth.hdl import Array, Const, Module, Mux, Signal, Value, signed

__all__ = ["csd_digits", "const_mul", "ProductBank", "select_product", "clamp", "rom", "Stages", "odd_part"]


def csd_digits(c: int) -> list[tuple[int, int]]:
    """Canonical signed digits of ``c``: ``[(shift, +-1), ...]`` with ``c = sum(d << shift)``."""
    digits, shift = [], 0
    while c:
        if c & 1:
            d = 2 - (c & 3)  # +1 when c = 1 (mod 4), -1 when c = 3 (mod 4)
            c -= d
            digits.append((shift, d))
        c >>= 1
        shift += 1
    return digits


def const_mul(x: Value, c: int) -> Value:
    """``x * c`` exactly, as a sum of shifted copies of ``x``."""
    digits = csd_digits(c)
    if not digits:
        return Const(0, 1)
    plus = [x << s for s, d in digits if d > 0]
    minus = [x << s for s, d in digits if d < 0]
    total = plus[0] if plus else Const(0, 1) - minus.pop(0)
    for term in plus[1:]:
        total = total + term
    for term in minus:
        total = total - term
    return total


def odd_part(c: int) -> tuple[int, int]:
    """``(odd, shift)`` with ``abs(c) == odd << shift`` (``c != 0``)."""
    shift = (abs(c) & -abs(c)).bit_length() - 1
    return abs(c) >> shift, shift


class ProductBank:
    """``x * c`` for every constant of ``table``: one shift-add tree per distinct odd
    magnitude, computed in the stage ``name`` of ``stages``."""

    def __init__(self, stages: "Stages", x: Value, table: Sequence[int], name: str) -> None:
        odds = sorted({odd_part(c)[0] for c in table if c})
        self.odd = stages(name, **{f"{name}_x{o}": const_mul(x, o) for o in odds})
        self.name = name

    def __call__(self, c: int) -> Value:
        if c == 0:
            return Const(0, 1)
        odd, shift = odd_part(c)
        product = self.odd[f"{self.name}_x{odd}"] << shift
        return -product if c < 0 else product

    @staticmethod
    def adders(table: Sequence[int]) -> int:
        """Adders a bank for ``table`` needs (the trees, plus one negation per negative entry)."""
        odds = {odd_part(c)[0] for c in table if c}
        return sum(max(len(csd_digits(o)) - 1, 0) for o in odds) + sum(1 for c in set(table) if c < 0)


def select_product(stages: "Stages", x: Value, table: Sequence[int], index: Value, name: str) -> Value:
    """``x * table[index]``: a :class:`ProductBank` and a multiplexer, or a ROM feeding one
    multiplier (about one adder per bit of the largest constant), whichever is smaller."""
    if len(set(table)) == 1:
        return const_mul(x, table[0])
    if ProductBank.adders(table) <= max(abs(c) for c in table).bit_length():
        bank = ProductBank(stages, x, table, name)
        return Array(bank(c) for c in table)[index]
    return x * rom(table)[index]


def rom(table: Sequence[int]) -> Array:
    """The integers ``table`` as constants of one signed shape, indexable by a Value."""
    shape = signed(max(abs(v) for v in table).bit_length() + 1)
    return Array(Const(v, shape) for v in table)


def clamp(value: Value, lo: int, hi: int) -> Value:
    """``min(max(value, lo), hi)``."""
    return Mux(value < lo, lo, Mux(value > hi, hi, value))


class Stages:
    """Combinational stages of a block: ``stages(name, sig=value, ...)`` adds a submodule
    ``name`` driving one new signal per keyword and returns them in a dict by name."""

    def __init__(self, m: Module) -> None:
        self.m = m

    def __call__(self, name: str, **values: Value) -> dict[str, Signal]:
        stage = Module()
        signals = {}
        for key, value in values.items():
            value = Value.cast(value)
            signals[key] = Signal(value.shape(), name=key)
            stage.d.comb += signals[key].eq(value)
        self.m.submodules[name] = stage
        return signals

    def one(self, name: str, value: Value) -> Signal:
        """A stage with a single signal, also called ``name``."""
        return self(name, **{name: value})[name]

    def clamped(self, name: str, value: Value, lo: int, hi: int) -> Signal:
        """``clamp(value, lo, hi)`` as signal ``name``, ``value`` first computed once by stage
        ``name + "_raw"`` (the clamp reads it three times)."""
        return self.one(name, clamp(self.one(f"{name}_raw", value), lo, hi))
