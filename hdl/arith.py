"""Arithmetic building blocks of the sequential codec datapaths (DPCM, CVSD, delta).

* Constant multiplication by canonical signed digits (CSD): ``c = sum_i d_i 2**s_i`` with
  ``d_i = +-1`` and no two adjacent non-zero digits, the representation with the fewest
  non-zero digits, so ``x * c`` costs ``len(digits) - 1`` adders (e.g. ``x * 15`` is
  ``(x << 4) - x``).  :class:`ProductBank` computes ``x * c`` for the constants of a table
  with one shift-add tree per distinct odd magnitude (shifts and negations reuse it).
* :func:`select_product`: ``x * table[index]`` as a bank of products and a multiplexer, or
  as a ROM feeding one multiplier, whichever needs fewer adders.
* :func:`clamp`, :func:`saturate`, :func:`add_or_subtract`, :func:`greater`, :func:`rom`,
  :func:`signed_width` (values proven to lie in a range are sliced
  to it: Amaranth keeps the full width of ``a >> k``, and narrower values make smaller
  comparators and adders).
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

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned

__all__ = [
    "csd_digits", "const_mul", "ProductBank", "select_product", "clamp", "saturate", "add_or_subtract", "greater", "rom",
    "signed_width", "Stages", "odd_part",
]


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
        return self.plus(c, 0)

    def plus(self, c: int, offset: int) -> Value:
        """``offset + x * c`` with one adder or subtractor (no separate negation)."""
        if c == 0:
            return Const(offset)
        odd, shift = odd_part(c)
        product = self.odd[f"{self.name}_x{odd}"] << shift
        if c < 0:
            return Const(offset) - product
        return product + offset if offset else product

    @staticmethod
    def adders(table: Sequence[int]) -> int:
        """Adders a bank for ``table`` needs (the trees, plus one negation per negative entry)."""
        odds = {odd_part(c)[0] for c in table if c}
        return sum(max(len(csd_digits(o)) - 1, 0) for o in odds) + sum(1 for c in set(table) if c < 0)


def select_product(stages: "Stages", x: Value, table: Sequence[int], index: Value, name: str,
                   offset: int = 0) -> Signal:
    """``offset + x * table[index]`` (``x`` non-negative) as stage ``name``, in the form needing
    fewer adders:

    * shift-add rows: ``|table[index]| = sum_j t_j(index) 2**j`` where each bit ``t_j`` is a
      one-bit ROM of ``index``; one row ``x << j`` (gated by ``t_j``) per bit that is set in
      any entry, the rows summed by a tree of adders (iCE40 carry chains, about one LUT per
      bit, where Yosys's LUT-only mapping of a general multiplier needs about twice that), and
      the sign, if any entry is negative, applied by :func:`add_or_subtract` onto ``offset``;
    * a :class:`ProductBank` (one shift-add tree per distinct odd magnitude), a multiplexer and
      an adder for ``offset``.
    """
    if len(set(table)) == 1:
        return stages.one(name, const_mul(x, table[0]) + offset)
    mags = [abs(c) for c in table]
    common = min(odd_part(m)[1] for m in mags if m)
    mags = [m >> common for m in mags]
    rows = [j for j in range(max(mags).bit_length()) if any((m >> j) & 1 for m in mags)]
    if ProductBank.adders(table) < len(rows) - 1:
        bank = ProductBank(stages, x, table, f"{name}_bank")
        return stages.one(name, Array(bank(c) for c in table)[index] + offset)
    bits = stages.one(f"{name}_digits", rom(mags)[index])
    terms = [(x if all((m >> j) & 1 for m in mags) else Mux(bits[j], x, 0)) << j for j in rows]
    # a tree of two-input adders, each sum a kept signal: otherwise Yosys's alumacc merges the
    # rows into one multi-operand add and maps it to LUT full adders instead of carry chains
    # (485 LUT4 against 357 for Jayant's 4-bit multipliers on a 21-bit step)
    level = 0
    while len(terms) > 1:
        pairs = {f"{name}_sum{level}_{i}": terms[2 * i] + terms[2 * i + 1] for i in range(len(terms) // 2)}
        summed = list(stages(f"{name}_sum{level}", keep=True, **pairs).values())
        terms = summed + terms[len(summed) * 2 :]
        level += 1
    magnitude = stages.one(f"{name}_magnitude", terms[0] << common)
    if min(table) < 0:
        return stages.one(name, add_or_subtract(Const(offset), magnitude, rom([int(c < 0) for c in table])[index]))
    return stages.one(name, magnitude + offset)


def rom(table: Sequence[int]) -> Array:
    """The integers ``table`` as constants of one shape (unsigned when none is negative),
    indexable by a Value."""
    if min(table) >= 0:
        shape = unsigned(max(max(table).bit_length(), 1))
    else:
        shape = signed(signed_width(min(table), max(table)))
    return Array(Const(v, shape) for v in table)


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest signed shape holding every integer in [lo, hi]."""
    return max((v if v >= 0 else -v - 1).bit_length() for v in (lo, hi)) + 1


def clamp(value: Value, lo: int, hi: int) -> Value:
    """``min(max(value, lo), hi)``."""
    return Mux(value < lo, lo, Mux(value > hi, hi, value))


def saturate(value: Value, width: int) -> Value:
    """``value`` (signed) saturated to ``signed(width)``: it overflows when its bits from
    ``width - 1`` up are not all copies of its sign, a few LUTs and no comparator."""
    value = Value.cast(value)
    if len(value) <= width:
        return value
    top, sign = value[width - 1 :], value[-1]
    high, low = (1 << (width - 1)) - 1, -(1 << (width - 1))
    return Mux(~sign & top.any(), high, Mux(sign & ~top.all(), low, value[:width].as_signed()))


def add_or_subtract(x: Value, d: Value, subtract: Value) -> Value:
    """``x - d`` when ``subtract`` is 1, else ``x + d``: one adder, ``d`` conditionally inverted
    and ``subtract`` as the carry in (``~d + 1 = -d``); about half the LUTs of two adders and a
    multiplexer."""
    d = Value.cast(d)
    wide = d if d.shape().signed else Cat(d, Const(0, 1)).as_signed()
    inverted = (wide.as_unsigned() ^ subtract.replicate(len(wide))).as_signed()
    return x + inverted + subtract


def greater(a: Value, b: Value) -> Value:
    """``a > b`` as the sign of the exact difference ``b - a`` (an iCE40 carry chain and about
    one LUT per bit, against about two for Yosys's signed comparator)."""
    return (b - a)[-1]


class Stages:
    """Combinational stages of a block: ``stages(name, sig=value, ...)`` adds a submodule
    ``name`` driving one new signal per keyword and returns them in a dict by name
    (``keep=True`` gives the signals Yosys's ``keep`` attribute)."""

    def __init__(self, m: Module) -> None:
        self.m = m

    def __call__(self, name: str, keep: bool = False, **values: Value) -> dict[str, Signal]:
        stage = Module()
        signals = {}
        for key, value in values.items():
            value = Value.cast(value)
            signals[key] = Signal(value.shape(), name=key, attrs={"keep": 1} if keep else {})
            stage.d.comb += signals[key].eq(value)
        self.m.submodules[name] = stage
        return signals

    def one(self, name: str, value: Value) -> Signal:
        """A stage with a single signal, also called ``name``."""
        return self(name, **{name: value})[name]

    def saturated(self, name: str, value: Value, width: int) -> Signal:
        """``saturate(value, width)`` as signal ``name``, ``value`` computed by stage
        ``name + "_raw"``."""
        return self.one(name, saturate(self.one(f"{name}_raw", value), width))

    def clamped(self, name: str, value: Value, lo: int, hi: int) -> Signal:
        """``clamp(value, lo, hi)`` as signal ``name``, ``value`` first computed once by stage
        ``name + "_raw"`` (the clamp reads it three times)."""
        return self.one(name, clamp(self.one(f"{name}_raw", value), lo, hi))
