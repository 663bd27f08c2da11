"""Run a component on vectors in Amaranth's Python simulator.

Map blocks use an async testbench that sets the inputs and reads the outputs; the simulator
settles the design after every ``ctx.set``, so each vector costs one settle plus the
``ctx.set``/``ctx.get`` bookkeeping (about 65k vectors/s for a G.711 encoder on one core,
against about 75k/s for a one-gate design: the bookkeeping dominates).  Components help the
simulator by naming shared intermediates (a named signal is computed once per settle,
an expression once per use).  With a VCD, combinational vectors are 1 ns apart, so the
trace is readable.

Pipelined map blocks (``latency = L > 0``) take one vector per clock; the outputs of vector
``j`` are read ``L`` cycles later, and the outputs right after reset (before the first clock
edge) are recorded as ``SimRun.reset_outputs``.  Stream blocks use the generic stream
testbench described in :mod:`.ports`, with the seeded stalls of :mod:`.seeded` on both
sides unless ``stalls=False``.  Clocked designs are held in reset for
:data:`~.seeded.RESET_CYCLES` cycles first.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Mapping

import numpy as np
from amaranth.hdl import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from ..errors import InputError
from .ports import Port, describe
from .seeded import IDLE_CYCLES, RESET_CYCLES, draws, junk_bits, stall_flags
from .vectors import SimRun, check_inputs

__all__ = ["run_amaranth"]

_CLOCK_PERIOD = 1e-8


def _instance(design: Any) -> wiring.Component:
    return design() if callable(design) and not isinstance(design, wiring.Component) else design


def _clocked(component: wiring.Component) -> tuple[Simulator, ClockDomain]:
    """A simulator for ``component`` with an explicit ``sync`` domain whose reset we drive."""
    m = Module()
    m.domains.sync = domain = ClockDomain("sync")
    m.submodules.dut = component
    sim = Simulator(m)
    sim.add_clock(_CLOCK_PERIOD, domain="sync")
    return sim, domain


def run_amaranth(
    design: wiring.Component | Callable[[], wiring.Component],
    inputs: Mapping[str, Any],
    *,
    outputs: int | None = None,
    vcd: str | os.PathLike | None = None,
    max_cycles: int | None = None,
    seed: int = 0,
    stalls: bool = True,
) -> SimRun:
    """Simulate ``design`` (a component, or a zero-argument factory) on ``inputs``.

    ``outputs`` is the number of output transfers to collect from a stream block (required
    there).  ``max_cycles`` bounds a stream run (default
    ``16 * (inputs + outputs) + 1024``); a block that stalls returns fewer outputs.
    A stream run also ends once every input was taken and no output followed for
    :data:`~.seeded.IDLE_CYCLES` cycles (a block that lost outputs).  ``seed`` selects the
    stall pattern of a stream run; ``stalls=False`` keeps ``i.valid``
    high while elements remain and ``o.ready`` always high.
    """
    start = time.perf_counter()
    component = _instance(design)
    harness = describe(component)
    checked = check_inputs(harness, inputs)
    count = len(next(iter(checked.values())))
    if harness.kind == "stream":
        if outputs is None:
            raise InputError("a stream block needs the number of output transfers to collect")
        limit = max_cycles if max_cycles is not None else 16 * (count + outputs) + 1024
        return _run_stream(component, harness, checked, outputs, limit, vcd, start, seed if stalls else None)
    return _run_map(component, harness, checked, count, vcd, start)


def _run_map(component, harness, checked, count, vcd, start) -> SimRun:
    ins = [(port.value(component), checked[key].tolist()) for key, port in harness.inputs.items()]
    results = {key: [0] * count for key in harness.outputs}
    outs = [(port.value(component), results[key]) for key, port in harness.outputs.items()]
    latency = harness.latency
    reset_outputs: dict[str, int] = {}

    if latency == 0:
        sim = Simulator(component)

        async def testbench(ctx):
            for j in range(count):
                for signal, values in ins:
                    ctx.set(signal, values[j])
                for signal, store in outs:
                    store[j] = ctx.get(signal)
                if vcd is not None:
                    await ctx.delay(1e-9)
    else:
        sim, domain = _clocked(component)

        async def testbench(ctx):
            await _reset(ctx, domain)
            for j in range(count + latency):
                if j < count:
                    for signal, values in ins:
                        ctx.set(signal, values[j])
                if j == 0:
                    reset_outputs.update({key: ctx.get(port.value(component)) for key, port in harness.outputs.items()})
                if j >= latency:
                    for signal, store in outs:
                        store[j - latency] = ctx.get(signal)
                await ctx.tick()

    sim.add_testbench(testbench)
    sim_seconds = _run(sim, vcd)
    result = {key: np.asarray(results[key], dtype=np.int64) for key in harness.outputs}
    cycles = count + latency + RESET_CYCLES if latency else 0
    return SimRun("amaranth", result, time.perf_counter() - start, sim_seconds, cycles,
                  reset_outputs=reset_outputs if latency else None)


def _run_stream(component, harness, checked, outputs, limit, vcd, start, seed) -> SimRun:
    hs = {name: port.value(component) for name, port in harness.handshake.items()}
    ins = [(port.value(component), checked[key].tolist()) for key, port in harness.inputs.items()]
    outs = [(key, port.value(component)) for key, port in harness.outputs.items()]
    payload, payload_port = harness.inputs["i"].value(component), harness.inputs["i"]
    recorded: dict[str, list[int]] = {key: [] for key in harness.outputs}
    count = len(checked["i"])
    cycles = 0
    sim, domain = _clocked(component)

    async def testbench(ctx):
        nonlocal cycles
        await _reset(ctx, domain)
        taken = 0
        chunk = np.zeros(0, dtype=np.uint32)
        idle = 0
        while len(recorded["o"]) < outputs and cycles < limit and idle < IDLE_CYCLES:
            gap = blocked = False
            if seed is not None:
                if cycles % _CHUNK == 0:
                    chunk = draws(seed, cycles, _CHUNK).tolist()
                draw = chunk[cycles % _CHUNK]
                gap, blocked = stall_flags(draw)
            offering = taken < count and not gap
            ctx.set(hs["i__valid"], int(offering))
            ctx.set(hs["o__ready"], int(not blocked))
            if offering:
                for signal, values in ins:
                    ctx.set(signal, values[taken])
            elif seed is not None:
                ctx.set(payload, _numeric(payload_port, junk_bits(draw)))
            if not blocked and ctx.get(hs["o__valid"]):
                for key, signal in outs:
                    recorded[key].append(ctx.get(signal))
            idle = 0 if taken < count else idle + 1
            if not blocked and ctx.get(hs["o__valid"]):
                idle = 0
            if offering and ctx.get(hs["i__ready"]):
                taken += 1
            await ctx.tick()
            cycles += 1

    sim.add_testbench(testbench)
    sim_seconds = _run(sim, vcd)
    result = {key: np.asarray(recorded[key], dtype=np.int64) for key in harness.outputs}
    return SimRun("amaranth", result, time.perf_counter() - start, sim_seconds, cycles)


#: stall draws computed per block of cycles
_CHUNK = 1 << 14


def _numeric(port: Port, bits: int) -> int:
    """The value of ``port``'s width taken from the low bits of ``bits``."""
    return int(port.from_bits(np.int64(bits)))


async def _reset(ctx, domain: ClockDomain) -> None:
    ctx.set(domain.rst, 1)
    for _ in range(RESET_CYCLES):
        await ctx.tick()
    ctx.set(domain.rst, 0)


def _run(sim: Simulator, vcd: str | os.PathLike | None) -> float:
    t0 = time.perf_counter()
    if vcd is None:
        sim.run()
    else:
        tmp = f"{os.fspath(vcd)}.tmp{os.getpid()}"
        try:
            with sim.write_vcd(tmp):
                sim.run()
            os.replace(tmp, vcd)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return time.perf_counter() - t0
