"""How the verification runners see a component: its ports and its kind of block.

Two kinds of block are supported (:func:`describe` decides from the signature):

``map`` (combinational or pipelined)
    Every ``In`` port is an input, every ``Out`` port an output; one vector drives all
    inputs at once and the outputs belong to it.  A component may declare ``latency``
    (clock cycles of the ``sync`` domain from a vector to its outputs, default 0); the
    runners then apply one vector per cycle.  Vector keys are the port names.
``stream`` (sequential, one element per transfer)
    The signature has an ``i`` member ``In(amaranth.lib.stream.Signature(...))`` and an ``o``
    member ``Out(stream.Signature(...))``.  The runners offer the input elements on ``i``
    (``valid`` high while any remain), keep ``o.ready`` high, and record ``o.payload`` at
    every output transfer together with every other ``Out`` port (the block's observable
    state, e.g. predictor and step index, sampled in the same cycle as the transfer).  Every
    other ``In`` port is a sideband input held at its per-element value while that element
    is offered (e.g. a "load state" strobe and the state to load).  Vector keys: ``"i"`` for
    the input payloads, ``"o"`` for the output payloads, port names for the rest.

A port's name is its signature path joined by ``__`` (``i__payload``), exactly the name
Amaranth gives the Verilog port.  Values travel as ``int64`` arrays of the port's numeric
range (signed ports two's complement), so widths up to 63 bits are supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from amaranth.hdl import Shape, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import Flow

from ..errors import InputError, UnsupportedError

__all__ = ["Port", "Harness", "describe", "MAX_WIDTH"]

#: widest port the runners move through int64 arrays
MAX_WIDTH = 63


@dataclass(frozen=True)
class Port:
    """One flattened signature member: Verilog name, direction, width and signedness."""

    path: tuple[str | int, ...]
    name: str
    is_input: bool
    width: int
    signed: bool

    @property
    def lo(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def value(self, component: Any) -> Value:
        """The Amaranth value of this port on ``component``."""
        obj = component
        for key in self.path:
            obj = obj[key] if isinstance(key, int) else getattr(obj, key)
        return Value.cast(obj)

    def check(self, values: Any, key: str) -> np.ndarray:
        """``values`` as an int64 array, or InputError if any falls outside the port's range."""
        arr = np.asarray(values)
        if arr.dtype.kind not in "iub":
            raise InputError(f"vectors for port {key!r}: expected integers, got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise InputError(f"vectors for port {key!r}: expected a 1-D array, got shape {arr.shape}")
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < self.lo or hi > self.hi:
                bad = lo if lo < self.lo else hi
                kind = "signed" if self.signed else "unsigned"
                raise InputError(
                    f"vectors for port {key!r}: value {bad} does not fit {kind}({self.width}) "
                    f"[{self.lo}, {self.hi}]"
                )
        return arr.astype(np.int64)

    def to_bits(self, values: np.ndarray) -> np.ndarray:
        """Two's-complement bit patterns (non-negative int64) of in-range ``values``."""
        return values & ((1 << self.width) - 1) if self.signed else values

    def from_bits(self, bits: np.ndarray) -> np.ndarray:
        """Numeric values of ``width``-bit patterns (sign-extended for signed ports)."""
        bits = bits & ((1 << self.width) - 1)
        if self.signed:
            return np.where(bits >> (self.width - 1) != 0, bits - (1 << self.width), bits)
        return bits


@dataclass(frozen=True)
class Harness:
    """The kind of block and the ports the runners drive and record, keyed by vector name."""

    kind: str
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    latency: int
    #: stream handshake ports (``i__valid`` ...), empty for map blocks
    handshake: dict[str, Port]

    @property
    def clocked(self) -> bool:
        return self.kind == "stream" or self.latency > 0


def _ports(component: wiring.Component) -> Iterable[Port]:
    for path, member, value in component.signature.flatten(component):
        shape = Shape.cast(Value.cast(value).shape())
        name = "__".join(str(p) for p in path)
        if shape.width > MAX_WIDTH:
            raise UnsupportedError(
                f"port {name!r} is {shape.width} bits wide; the runners support up to {MAX_WIDTH}"
            )
        yield Port(tuple(path), name, member.flow == Flow.In, shape.width, shape.signed)


def _is_stream(component: wiring.Component, name: str, flow: Flow) -> bool:
    members = component.signature.members
    if name not in members:
        return False
    member = members[name]
    return member.is_signature and member.flow == flow and isinstance(member.signature, stream.Signature)


def describe(component: Any) -> Harness:
    """Classify ``component`` (a ``wiring.Component``) as a map or stream block."""
    if not isinstance(component, wiring.Component):
        raise UnsupportedError(
            f"expected an amaranth.lib.wiring.Component, got {type(component).__name__}"
        )
    ports = list(_ports(component))
    latency = getattr(component, "latency", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise UnsupportedError(f"{type(component).__name__}.latency = {latency!r}; expected an int >= 0")
    if _is_stream(component, "i", Flow.In) and _is_stream(component, "o", Flow.Out):
        special = {"i__payload": "i", "o__payload": "o"}
        handshake_names = {"i__valid", "i__ready", "o__valid", "o__ready"}
        inputs = {special.get(p.name, p.name): p for p in ports if p.is_input and p.name not in handshake_names}
        outputs = {special.get(p.name, p.name): p for p in ports if not p.is_input and p.name not in handshake_names}
        handshake = {p.name: p for p in ports if p.name in handshake_names}
        if "i" not in inputs or "o" not in outputs:
            raise UnsupportedError("a stream block needs payloads on both 'i' and 'o'")
        return Harness("stream", inputs, outputs, latency, handshake)
    inputs = {p.name: p for p in ports if p.is_input}
    outputs = {p.name: p for p in ports if not p.is_input}
    if not inputs or not outputs:
        raise UnsupportedError(
            f"{type(component).__name__} has no {'inputs' if not inputs else 'outputs'} to verify"
        )
    return Harness("map", inputs, outputs, latency, {})
