"""Processing element: a signed 8 x 8 multiply into an N-bit accumulator, wrap or saturate.

One multiply-accumulate per clock of the ``sync`` domain.  Ports (``N = acc_bits``):

``a``, ``b`` (``signed(8)``, in)
    the operands (activation and weight, both int8 two's complement).
``bias`` (``signed(N)``, in)
    the value ``clear`` loads (tie to 0 for a plain clear).
``clear``, ``accumulate`` (1 bit, in)
    the controls, see below.
``acc`` (``signed(N)``, out)
    the accumulator register.
``overflowed`` (1 bit, out)
    sticky flag: a partial sum since the last ``clear`` left the accumulator range.

Per clock, with ``p = a * b`` (exact, ``signed(16)``)::

    base        = bias if clear else acc
    s           = base + (p if accumulate else 0)            exact, max(N, 16) + 1 bits
    acc'        = policy(s)
    overflowed' = (0 if clear else overflowed) | (s outside [-2^(N-1), 2^(N-1) - 1])

``policy`` is ``wrap`` (``s mod 2^N`` in two's complement: bits ``[0, N)`` of ``s``) or
``sat`` (clamp to the range; ``s`` is in range exactly when bits ``[N-1, W)`` of the
``W``-bit sum are all equal, and the clamp side is the sign of ``s``).  So a dot product
started by ``clear`` (with ``accumulate`` on the same cycle to include its first product)
is the accumulator of :mod:`inwhale_hw.nn.accumulate`: ``S_0 = bias``,
``S_{k+1} = policy(S_k + a_k b_k)``, and ``overflowed`` is that module's per-output
``overflowed`` statistic.  Registers reset to 0.

Latency: ``pipeline=0`` registers only the accumulator (the result of the vector applied
before a clock edge is on ``acc`` after it: latency 1); ``pipeline=1`` adds a register
after the multiplier (the product and the controls travel together: latency 2, one
vector per clock, and the multiplier and the adder are separate timing paths).

:class:`AccumulatingElement` holds the accumulator shared with the multiplier-free element
of :mod:`inwhale_hw.hdl.pow2_pe`: a subclass supplies its product as a non-negated value
and a sign that the accumulator's adder applies through its carry-in
(``base - m = base + ~m + 1``), so no separate negation adder is built.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw.errors import ParameterError

__all__ = [
    "ProcessingElement", "AccumulatingElement", "OVERFLOW", "check_acc_bits", "check_choice", "multiply", "validating",
]

#: accumulator overflow policies the hardware implements (the model's "error" is a software check)
OVERFLOW = ("wrap", "sat")
#: widest accumulator (the verification runners move values up to 63 bits)
MAX_ACC_BITS = 63


def check_acc_bits(acc_bits: object, owner: str, lo: int = 2, hi: int = MAX_ACC_BITS) -> int:
    """Return ``acc_bits`` if it is an int in ``[lo, hi]``, else ParameterError quoting it."""
    if isinstance(acc_bits, bool) or not isinstance(acc_bits, int) or not lo <= acc_bits <= hi:
        raise ParameterError(f"{owner}: acc_bits={acc_bits!r} is not allowed; expected an int in [{lo}, {hi}]")
    return acc_bits


def check_choice(name: str, value: object, choices: tuple, owner: str) -> Any:
    """Return ``value`` if it is one of ``choices``, else ParameterError quoting it."""
    if isinstance(value, bool) or value not in choices:
        raise ParameterError(
            f"{owner}: {name}={value!r} is not allowed; expected one of " + ", ".join(map(repr, choices))
        )
    return value


@contextmanager
def validating(component: wiring.Component) -> Iterator[None]:
    """Run a constructor's checks; when one raises, mark the half-built component as used,
    so Amaranth's "created but never used" warning does not fire (and repr it) at collection."""
    try:
        yield
    except BaseException:
        component._MustUse__used = True
        raise


class AccumulatingElement(wiring.Component):
    """An N-bit accumulator fed with one product per clock (see the module docstring).

    Subclasses define ``operand_ports`` (the signature members of their operands) and
    :meth:`product`, returning ``(magnitude, negate)``: the product is ``magnitude`` when
    ``negate`` is 0 and ``-magnitude`` when it is 1 (``negate`` may be None: never negated),
    and 0 when ``enable`` (``accumulate``) is low.  The accumulator always adds it, so
    ``accumulate`` costs no multiplexer on the register: gating the operand folds into the
    partial-product (or shift) logic.
    """

    def __init__(self, acc_bits: int = 32, overflow: str = "wrap", pipeline: int = 0) -> None:
        owner = type(self).__name__
        with validating(self):
            self.acc_bits = check_acc_bits(acc_bits, owner)
            self.overflow = check_choice("overflow", overflow, OVERFLOW, owner)
            self.pipeline = check_choice("pipeline", pipeline, (0, 1), owner)
        n = self.acc_bits
        super().__init__({
            **self.operand_ports(),
            "bias": In(signed(n)),
            "clear": In(1),
            "accumulate": In(1),
            "acc": Out(signed(n)),
            "overflowed": Out(1),
        })

    def operand_ports(self) -> dict[str, Any]:
        raise NotImplementedError

    def product(self, m: Module, enable: Value) -> tuple[Value, Value | None]:
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Clock cycles from a vector on the inputs to its result on ``acc``."""
        return 1 + self.pipeline

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        magnitude, negate = self.product(m, self.accumulate)
        clear, bias = self.clear, self.bias
        if self.pipeline:
            stage = {"clear": clear, "bias": bias, "product": magnitude}
            if negate is not None:
                stage["negate"] = negate
            held = {}
            for name, value in stage.items():
                held[name] = Signal(Value.cast(value).shape(), name=f"p1_{name}")
                m.d.sync += held[name].eq(value)
            clear, bias, magnitude = held["clear"], held["bias"], held["product"]
            negate = held.get("negate")
        n = self.acc_bits
        base = Signal(signed(n), name="base")
        m.d.comb += base.eq(Mux(clear, bias, self.acc))
        width = max(n, Shape.cast(Value.cast(magnitude).shape()).width) + 1
        total = Signal(signed(width), name="sum")
        if negate is None:
            m.d.comb += total.eq(base + magnitude)
        else:
            # base + (negate ? ~m + 1 : m): the +1 enters as the carry out of a guard bit
            inverted = Mux(negate, ~magnitude, magnitude)
            m.d.comb += total.eq((Cat(Const(1, 1), base).as_signed() + Cat(negate, inverted).as_signed())[1:])
        top = total[n - 1:]
        in_range = (top == 0) | (top == (1 << (width - n + 1)) - 1)
        if self.overflow == "wrap":
            result = total[:n]
        else:
            lo, hi = Const(-(1 << (n - 1)), signed(n)), Const((1 << (n - 1)) - 1, signed(n))
            result = Mux(in_range, total[:n].as_signed(), Mux(total[width - 1], lo, hi))
        m.d.sync += [self.acc.eq(result), self.overflowed.eq((self.overflowed & ~clear) | ~in_range)]
        return m

    def __repr__(self) -> str:
        return f"{type(self).__name__}(acc_bits={self.acc_bits}, overflow={self.overflow!r}, pipeline={self.pipeline})"


def multiply(m: Module, a: Value, b: Value, name: str = "pp") -> Value:
    """Exact ``a * b`` (``a`` signed, ``b`` signed or unsigned) as a tree of adders.

    With ``b`` of ``w`` bits, ``b = sum_j 2^j b_j`` (the top bit weighs ``-2^(w-1)`` when
    signed), so ``a b = sum_j +-(a & -b_j) 2^j``: ``w`` rows of ``a`` or 0, summed pairwise
    in ``ceil(log2 w)`` levels (a signed ``b``'s top row is subtracted).  A pair
    ``(v1 << s1) + (v2 << s2)`` adds only ``(v1 >> (s2 - s1)) + v2``; the low bits of ``v1``
    pass by.  Every sum is a named signal with Yosys ``keep``, so each stays one carry-chain
    adder (iCE40 ``SB_CARRY``) and none is merged into its neighbours or into a following
    accumulator.  8 x 8 on iCE40 (Yosys ``synth_ice40``): 132 LUT4 and 61 carries at
    123 MHz, against 177 LUT4 at 106 MHz for Yosys' own ``a * b``, and 349 LUT4 when
    Yosys merges ``a * b`` into a 32-bit accumulator's adder.
    """
    width, signed_b = len(b), b.shape().signed
    parts = [((a & -b[j]).as_signed(), j, signed_b and j == width - 1) for j in range(width)]
    level = 0
    while len(parts) > 1:
        pairs = []
        for i in range(0, len(parts) - 1, 2):
            (v1, s1, _), (v2, s2, neg2) = parts[i], parts[i + 1]
            gap = s2 - s1
            high = v1 >> gap
            total = Signal(signed(max(len(high), len(v2)) + 1), name=f"{name}{level}_{i // 2}", attrs={"keep": 1})
            m.d.comb += total.eq(high - v2 if neg2 else high + v2)
            pairs.append((Cat(v1[:gap], total).as_signed(), s1, False))
        parts = pairs + parts[len(pairs) * 2:]
        level += 1
    value, shift, negative = parts[0]
    return ((-value if negative else value) << shift)[: len(a) + width].as_signed()


class ProcessingElement(AccumulatingElement):
    """int8 x int8 multiply-accumulate: operand ports ``a`` and ``b`` (``signed(8)``);
    the product is :func:`multiply`."""

    def operand_ports(self) -> dict[str, Any]:
        return {"a": In(signed(8)), "b": In(signed(8))}

    def product(self, m: Module, enable: Value) -> tuple[Value, None]:
        product = Signal(signed(16), name="product")
        m.d.comb += product.eq(multiply(m, self.a, Mux(enable, self.b, 0)))
        return product, None
