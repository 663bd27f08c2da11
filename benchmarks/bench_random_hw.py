"""10^7 random vectors through the PE and the requantizers in Verilator, against the golden model.

    python benchmarks/bench_random_hw.py [--count 10000000] [--chunk 1048576] [--seed 0]

Their input spaces exceed 2^16, so they are checked on long random runs: the Verilog
testbench generates every input from the seed (:mod:`inwhale_hw.hdlsim.random_run`, no
vector files), NumPy generates the same inputs and the golden outputs from the models'
``reference`` (``inwhale_hw.nn`` accumulators and requantization), and the per-chunk output
checksums must agree.  The PE's ``clear`` is forced on the first vector of each chunk so the
chunks are independent.  Prints, per block: vectors, chunks, the verdict, Verilator's
compile + simulation time and the golden model's time (the reference in the same run: the
simulator's speed as a ratio of NumPy's).  Exits 1 on any differing chunk.
"""

from __future__ import annotations

import argparse
import sys

import inwhale_hw
from inwhale_hw.hdlsim.ports import describe
from inwhale_hw.hdlsim.protocol import reference_outputs
from inwhale_hw.hdlsim.random_run import random_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1 << 20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = [
        ("mac", {}, "pe", {"clear": 1}),
        ("mac", {"overflow": "sat"}, "pe", {"clear": 1}),
        ("requant", {}, "gemmlowp", {}),
        ("requant", {}, "shift", {}),
    ]
    failed = 0
    for name, params, block, restart in cases:
        model = inwhale_hw.get_hardware(name, **params)
        component = model.datapath(block)
        harness = describe(component)
        report = random_run(component, lambda ins: reference_outputs(model, block, harness, ins), args.count,
                            seed=args.seed, chunk=args.chunk, restart=restart, design=f"{model!r} {block}")
        print(report)
        print(f"  simulation {report.vectors / max(report.sim_seconds, 1e-9):,.0f} vectors/s, golden model "
              f"{report.vectors / max(report.golden_seconds, 1e-9):,.0f} vectors/s "
              f"(ratio {report.golden_seconds / max(report.sim_seconds, 1e-9):.2f})")
        failed += not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
