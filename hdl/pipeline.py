"""Optional pipeline registers for combinational datapaths.

A block written as a chain of combinational steps marks the places where a register may go
(its *cut points*) and asks a :class:`Pipeline` for each one.  ``Pipeline(depth, cuts)``
spends ``depth`` register stages: the first always goes on the outputs (so every output
is registered once ``depth >= 1``), the next ones on the named cut points in the order the
block lists them in ``cuts`` (its preferred places, usually the middle of the longest path
first), and any further stages become extra output registers.  The latency is therefore
exactly ``depth`` clock cycles of the ``sync`` domain and the throughput one vector per
cycle; ``depth = 0`` is purely combinational and uses no clock.

Registers reset to 0 (synchronous reset of the ``sync`` domain), so during the first
``depth`` cycles after reset the outputs show the all-zero state, not a computed value.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, Value

from inwhale_hw.errors import ParameterError

__all__ = ["Pipeline", "MAX_DEPTH", "check_depth"]

#: deepest pipeline accepted (beyond the cut points every stage is a plain output delay)
MAX_DEPTH = 16


def check_depth(depth: object, owner: str) -> int:
    """Return ``depth`` if it is an int in [0, MAX_DEPTH], else raise ParameterError quoting it."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise ParameterError(
            f"{owner}: pipeline={depth!r} is not allowed; expected an int in [0, {MAX_DEPTH}] "
            "(register stages; 0 = combinational)"
        )
    return depth


class Pipeline:
    """Register placement for one elaboration of a block with cut points ``cuts``."""

    def __init__(self, depth: int, cuts: tuple[str, ...]) -> None:
        self.depth = depth
        inner = max(0, min(depth - 1, len(cuts)))
        self.registered_cuts = frozenset(cuts[:inner])
        self.output_stages = depth - inner
        self._cuts = cuts

    def cut(self, m: Module, name: str, *values: Value) -> tuple[Value, ...]:
        """``values`` as named signals, registered once when cut point ``name`` holds a register.

        A combinational cut is a plain named wire: it keeps the intermediate visible in
        traces and lets the simulator compute it once instead of once per use.
        """
        if name not in self._cuts:
            raise ValueError(f"cut point {name!r} is not one of {self._cuts}")
        domain = "sync" if name in self.registered_cuts else "comb"
        return tuple(_signal(m, domain, value, f"{name}_{index}") for index, value in enumerate(values))

    def output(self, m: Module, port: Value, value: Value) -> None:
        """Drive ``port`` from ``value`` through the remaining output register stages."""
        for stage in range(self.output_stages):
            value = _signal(m, "sync", value, f"out_{stage}")
        m.d.comb += port.eq(value)


def _signal(m: Module, domain: str, value: Value, name: str) -> Signal:
    value = Value.cast(value)
    signal = Signal(value.shape(), name=name)
    m.d[domain] += signal.eq(value)
    return signal
