"""Exhaustive G.711 hardware checks: seconds and vectors/s per simulator.

    python benchmarks/bench_hdl_verify.py

For each simulator (Amaranth's, and Icarus Verilog when installed) the µ-law and A-law
encoders run on all 65536 inputs; the reference in the same run is a one-gate block
(``code = pcm[8:16]``) on the same vectors through the same runner, i.e. the simulator's
own per-vector floor, so the ratio says how much the G.711 logic adds.  Best of 3 runs;
``simulation`` excludes Verilog generation and compilation.  Goal (issue 5): exhaustive
check in <= 2 s per simulator.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
from amaranth.hdl import Module, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import inwhale_hw
from inwhale_hw.hdlsim import Vectors, run_amaranth, run_icarus
from inwhale_hw.hdlsim.verify import compare

REPEATS = 3


class OneGate(wiring.Component):
    def __init__(self):
        super().__init__({"pcm": In(signed(16)), "code": Out(unsigned(8))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.code.eq(self.pcm[8:16])
        return m


def best(runner, factory, inputs):
    runs = [runner(factory(), inputs) for _ in range(REPEATS)]
    return min(runs, key=lambda r: r.seconds), runs


def main() -> None:
    pcm = {"pcm": np.arange(-32768, 32768)}
    runners = {"amaranth": run_amaranth}
    if shutil.which("iverilog"):
        runners["icarus"] = run_icarus
    else:
        print("icarus: iverilog not installed, skipped")
    for sim, runner in runners.items():
        floor, _ = best(runner, OneGate, pcm)
        print(f"{sim}: one-gate floor {floor.seconds:.2f} s total, {floor.sim_seconds:.2f} s simulation, "
              f"{65536 / floor.sim_seconds:,.0f} vectors/s")
        for law in ("mulaw", "alaw"):
            q = inwhale_hw.get_quantizer(law)
            run, _ = best(runner, lambda: q.datapath("encoder"), pcm)
            report = compare(law, Vectors(pcm, {"code": q.encode(pcm["pcm"].astype(np.int16))}), run)
            t0 = time.perf_counter()
            q.encode(pcm["pcm"].astype(np.int16))
            numpy_s = time.perf_counter() - t0
            print(f"  {law} encoder: {report.vectors_checked} vectors, {report.mismatches} mismatches, "
                  f"{run.seconds:.2f} s total, {run.sim_seconds:.2f} s simulation, "
                  f"{65536 / run.sim_seconds:,.0f} vectors/s; ratio to the floor {run.sim_seconds / floor.sim_seconds:.2f}x; "
                  f"NumPy golden model {numpy_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
