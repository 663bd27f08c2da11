"""Requantization units: an integer accumulator to an 8/16-bit output, bit-exact with the
``gemmlowp`` and ``shift-only`` profiles of :mod:`inwhale_hw.nn.profiles`.

Both are combinational (or pipelined with ``pipeline`` register stages, see
:mod:`inwhale_hw.hdl.pipeline`) map blocks.  The per-channel constants are run-time inputs,
so one unit serves every output channel of a layer.  Ports (``T`` is the output shape:
``signed(8)`` for ``int8``, ``unsigned(8)`` for ``uint8``, likewise 16):

``acc`` (``signed(acc_bits)``, in), ``zero_point`` (``T``, in), ``y`` (``T``, out), and

:class:`RequantGemmlowp` (gemmlowp ``fixedpoint.h``; TFLite ``common.h``
``MultiplyByQuantizedMultiplier``, double rounding)
    ``multiplier`` (``unsigned(31)``) and ``shift`` (``signed(6)``): the pair
    ``(q, shift) = QuantizeMultiplier(M)`` (``quantization_util.cc``: ``q`` is 0 or in
    ``[2^30, 2^31)``, ``shift`` in ``[-32, 31]``).  With ``l = max(shift, 0)``,
    ``r = max(-shift, 0)``::

        x = wrap32(acc << l)                                    int32 product, as C's imul
        h = SaturatingRoundingDoublingHighMul(x, q) = (x q + 2^30) >> 31
          = (x q)[31:63] + (x q)[30]                            (the saturating case needs
                                                                 q = -2^31, never produced)
        v = RoundingDivideByPOT(h, r) = (h' >> r) + h'[r-1]    h' = h - [h < 0 and r > 0]
        y = sat_T(v + zero_point)

    ``RoundingDivideByPOT`` rounds half away from zero (``remainder > (mask >> 1) + (h <
    0)``); for ``h < 0`` that is round half up of ``h - 1``, so one decrement, one barrel
    shifter of ``2 h'`` (its bit 0 is the round bit ``h'[r-1]``) and one incrementer do it,
    without a sticky-bit mask.  (``h >= -2^31 + 1``, so ``h - 1`` does not wrap.)  The
    32 x 31 product is Yosys' own mapping of ``x * q`` (no DSP blocks on the iCE40 HX
    parts): :func:`~inwhale_hw.hdl.pe.multiply`'s adder tree saves about a quarter of the
    LUT4s here but simulates 6 to 20 times slower, which the verification runs pay.
:class:`RequantShift` (the multiplier-free datapath of power-of-two scales)
    ``shift`` (``signed(6)``): ``k`` with ``2^-k = s_in s_w / s_out``::

        v = (acc + 2^(k-1)) >> k = (acc >> k) + acc[k-1]        k > 0, round half up
        v = acc << -k                                           k <= 0, exact
        y = sat_T(v + zero_point)

    Only the ``n + 3`` bits ``acc[k-1 .. k+n+1]`` leave the barrel shifter; whether
    ``acc >> k`` fits ``signed(n + 1)`` is read off the ones'-complement magnitude of ``acc``
    under a thermometer mask of ``k`` (no bit at ``n + k`` or above), and the left shift
    likewise checks the bits it would push out, so no wide intermediate is built.

Saturation is done in narrow words.  With ``n`` output bits, ``hi - lo = 2^n - 1``, so
clamping ``v`` to ``signed(n + 1)`` first changes no final result (a ``v`` at or beyond
``+-2^n`` saturates either way whatever the zero point), and the zero point is then added
in ``n + 2`` bits instead of 32.  The left shift of ``RequantShift`` shifts the clamped
value by at most ``n + 1`` places (a nonzero value shifted further saturates anyway).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .pe import check_acc_bits, check_choice, validating
from .pipeline import Pipeline, check_depth

__all__ = ["RequantGemmlowp", "RequantShift", "OUTPUT_SHAPES", "saturate"]

#: output dtype name -> port shape
OUTPUT_SHAPES = {"int8": signed(8), "uint8": unsigned(8), "int16": signed(16), "uint16": unsigned(16)}


def saturate(value: Value, shape: Shape) -> Value:
    """``value`` clamped to the range of ``shape``, as a value of that width.

    ``value`` is first extended to at least ``n + 1`` bits.  It is in range exactly when
    its bits from the top of ``shape`` upwards are all equal (``signed(n)``: bits
    ``[n-1, W)``) or all zero (``unsigned(n)``: bits ``[n, W)``); out of range it takes the
    bound on the side of its sign.
    """
    value = Value.cast(value)
    if not value.shape().signed:
        value = Cat(value, Const(0, 1)).as_signed()
    shape = Shape.cast(shape)
    n, width = shape.width, value.shape().width
    if width < n + 1:
        value = Cat(value, value[width - 1].replicate(n + 1 - width)).as_signed()
        width = n + 1
    negative = value[width - 1]
    if shape.signed:
        top = value[n - 1:]
        in_range = (top == 0) | (top == (1 << (width - n + 1)) - 1)
        lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    else:
        in_range = value[n:] == 0
        lo, hi = 0, (1 << n) - 1
    return Mux(in_range, value[:n], Mux(negative, Const(lo, shape), Const(hi, shape)))


class _Requant(wiring.Component):
    """Ports, options and the final ``sat_T(v + zero_point)`` shared by both units."""

    cuts: tuple[str, ...] = ()

    def __init__(self, acc_bits: int = 32, dtype: str = "int8", pipeline: int = 0) -> None:
        owner = type(self).__name__
        with validating(self):
            self.acc_bits = check_acc_bits(acc_bits, owner, 2, 32)
            self.dtype = check_choice("dtype", dtype, tuple(OUTPUT_SHAPES), owner)
            self.pipeline = check_depth(pipeline, owner)
        shape = OUTPUT_SHAPES[dtype]
        super().__init__({
            "acc": In(signed(self.acc_bits)),
            **self.control_ports(),
            "zero_point": In(shape),
            "y": Out(shape),
        })

    def control_ports(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Clock cycles from an input to its output (0: combinational)."""
        return self.pipeline

    def finish(self, m: Module, pipe: Pipeline, v: Value, zero_point: Value) -> None:
        """Drive ``y`` with ``sat_T(v + zero_point)`` through the output stages."""
        shape = OUTPUT_SHAPES[self.dtype]
        narrow = Signal(signed(shape.width + 1), name="narrow")
        m.d.comb += narrow.eq(saturate(v, signed(shape.width + 1)))
        shifted = Signal(signed(shape.width + 2), name="shifted")
        m.d.comb += shifted.eq(narrow + zero_point)
        pipe.output(m, self.y, saturate(shifted, shape))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(acc_bits={self.acc_bits}, dtype={self.dtype!r}, pipeline={self.pipeline})"


class RequantGemmlowp(_Requant):
    """gemmlowp / TFLite reference requantization (see the module docstring)."""

    cuts = ("product", "high")

    def control_ports(self) -> dict[str, Any]:
        return {"multiplier": In(unsigned(31)), "shift": In(signed(6))}

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        left, right = Signal(5, name="left"), Signal(6, name="right")
        m.d.comb += [left.eq(Mux(self.shift[5], 0, self.shift[:5])), right.eq(Mux(self.shift[5], (-self.shift)[:6], 0))]
        x = Signal(signed(32), name="x")
        m.d.comb += x.eq((self.acc.as_signed() << left)[:32])
        product = Signal(signed(63), name="product")
        m.d.comb += product.eq(x * self.multiplier)
        product, right, zero_point = pipe.cut(m, "product", product, right, self.zero_point)
        high = Signal(signed(32), name="high")
        m.d.comb += high.eq(product[31:63].as_signed() + product[30])
        high, right, zero_point = pipe.cut(m, "high", high, right, zero_point)
        # half away from zero = half up applied to high - 1 when high < 0 (and r > 0)
        biased = Signal(signed(32), name="biased")
        m.d.comb += biased.eq(high - (high[31] & right.any()))
        halves = Signal(signed(33), name="halves")
        m.d.comb += halves.eq(Cat(Const(0, 1), biased).as_signed() >> right)  # 2 biased >> r: bit 0 is biased[r-1]
        v = Signal(signed(32), name="v")
        m.d.comb += v.eq(halves[1:].as_signed() + halves[0])
        self.finish(m, pipe, v, zero_point)
        return m


class RequantShift(_Requant):
    """Power-of-two (shift-only) requantization (see the module docstring)."""

    cuts = ("rounded",)

    def control_ports(self) -> dict[str, Any]:
        return {"shift": In(signed(6))}

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        pipe = Pipeline(self.pipeline, self.cuts)
        n = OUTPUT_SHAPES[self.dtype].width
        right, left = Signal(5, name="right"), Signal(6, name="left")
        m.d.comb += [right.eq(Mux(self.shift[5], 0, self.shift[:5])), left.eq(Mux(self.shift[5], (-self.shift)[:6], 0))]
        acc, top = self.acc, self.acc_bits - 1
        sign = acc[top]
        # bits k-1 .. k+n+1 of acc (sign-extended above, 0 below): the round bit, then acc >> k
        window = Signal(n + 3, name="window")
        m.d.comb += window.eq((Cat(Const(0, 1), acc).as_signed() >> right)[: n + 3])
        # acc >> k fits signed(n + 1) iff |acc| in ones' complement is below 2^(n + k):
        # no bit j >= n + k of it is set (a thermometer mask of k, no comparators)
        magnitude = (acc ^ sign.replicate(self.acc_bits))[n:top]
        fits = Signal(name="fits")
        m.d.comb += fits.eq(~(magnitude & (Const((1 << len(magnitude)) - 1, len(magnitude)) << right)[: len(magnitude)]).any())
        rounded = Signal(signed(n + 2), name="rounded")
        m.d.comb += rounded.eq(Mux(fits, window[1: n + 2].as_signed(), self.rail(n + 1, sign)) + window[0])
        rounded, left, zero_point = pipe.cut(m, "rounded", rounded, left, self.zero_point)
        # low << l fits signed(n + 1) iff |low| in ones' complement is below 2^(n - l) (l <= n),
        # or low == 0 (l = n + 1, which stands for every larger shift)
        low = saturate(rounded, signed(n + 1))
        low_sign = low[n]
        places = Mux(left > n + 1, n + 1, left)[:5]
        spill = ((low ^ low_sign.replicate(n + 1))[:n] & ~(Const((1 << n) - 1, n) >> places)[:n]).any()
        spill |= (places > n) & low.any()
        shifted = Signal(signed(n + 1), name="shifted")
        m.d.comb += shifted.eq(Mux(spill, self.rail(n + 1, low_sign), (low << places)[: n + 1]))
        self.finish(m, pipe, shifted, zero_point)
        return m

    @staticmethod
    def rail(width: int, negative: Value) -> Value:
        """The most negative ``signed(width)`` value if ``negative``, else the largest."""
        return Mux(negative, Const(-(1 << (width - 1)), signed(width)), Const((1 << (width - 1)) - 1, signed(width)))
