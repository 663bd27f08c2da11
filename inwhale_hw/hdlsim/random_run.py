"""Long random runs of map blocks, with the vectors generated inside the testbench.

Blocks whose input space exceeds 2^16 (processing elements, requantizers) are checked on
10^7 and more random vectors without writing them to files: the Verilog testbench
(Verilator, or Icarus for short runs) computes every input from the counter-based generator
of :mod:`.seeded`, and NumPy computes the same inputs, and the golden outputs from the
block's reference, chunk by chunk in Python.  Both sides fold each chunk's outputs into
one checksum per output port::

    sum over the chunk of (bits(out_m) + 1) * (2 m + 1)   mod 2^64,   m = 0 .. chunk-1

(``bits`` the port's two's-complement pattern; an odd weight per position, so any single
wrong output changes the sum and two wrong outputs cancel only by accident).  A chunk whose
sums differ is reported; rerun it with :func:`~.verify.verify` and explicit vectors to see
the vectors.

Inputs: port ``k`` (in signature order) takes draw ``n`` of stream ``64 seed + 2 k`` (and,
above 32 bits, of ``64 seed + 2 k + 1`` for the high word), truncated to the port's width.
``restart`` forces ports to a value on the first vector of every chunk (a PE's ``clear``),
so a stateful block's chunks are independent and each chunk's reference starts from reset.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import ParameterError
from .ports import Harness, Port, describe
from .seeded import RESET_CYCLES, draw_verilog, draws
from .testbench import DUT, run_tool
from .verilog import module_ports, verilog_text

__all__ = ["RandomReport", "random_inputs", "chunk_sums", "random_testbench", "random_run"]

TB = "inwhale_rand"


@dataclass
class RandomReport:
    """Outcome of one long random run."""

    design: str
    simulator: str
    vectors: int
    chunks: int
    bad_chunks: list[int] = field(default_factory=list)
    seconds: float = 0.0
    sim_seconds: float = 0.0
    golden_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.bad_chunks and self.vectors > 0

    def __str__(self) -> str:
        verdict = "all chunk sums match" if self.ok else f"{len(self.bad_chunks)} chunk(s) differ: {self.bad_chunks[:10]}"
        return (f"{self.design} [{self.simulator}]: {self.vectors:,} random vectors in {self.chunks} chunks, "
                f"{verdict} ({self.seconds:.1f} s; simulation {self.sim_seconds:.1f} s, "
                f"golden model {self.golden_seconds:.1f} s)")


def _port_bits(seed: int, k: int, port: Port, start: int, count: int) -> np.ndarray:
    bits = draws(64 * seed + 2 * k, start, count).astype(np.int64)
    if port.width > 32:
        bits |= draws(64 * seed + 2 * k + 1, start, count).astype(np.int64) << 32
    return bits & ((1 << port.width) - 1)


def random_inputs(harness: Harness, seed: int, start: int, count: int, chunk: int,
                  restart: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Inputs ``start .. start + count - 1`` of the run, keyed by port name."""
    inputs = {}
    index = np.arange(start, start + count)
    for k, (key, port) in enumerate(harness.inputs.items()):
        values = port.from_bits(_port_bits(seed, k, port, start, count))
        if key in restart:
            values = np.where(index % chunk == 0, int(restart[key]), values)
        inputs[key] = values.astype(np.int64)
    return inputs


def chunk_sums(port: Port, values: np.ndarray) -> int:
    """The checksum of one chunk of ``port``'s outputs (see the module docstring)."""
    bits = port.to_bits(np.asarray(values, dtype=np.int64)).astype(np.uint64)
    weights = 2 * np.arange(len(bits), dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum((bits + np.uint64(1)) * weights, dtype=np.uint64))


def random_testbench(harness: Harness, ports: list[str], seed: int, count: int, chunk: int,
                     restart: Mapping[str, int]) -> str:
    """Verilog testbench (module ``inwhale_rand``) writing one line of sums per chunk."""
    latency = harness.latency
    lines = [f"module {TB};", "  integer n, m, fd, j;", "  reg [31:0] t; reg [63:0] word, pos, v;", "  reg clk = 0, rst = 1;"]
    connect = []
    for port in harness.inputs.values():
        lines.append(f"  reg [{port.width - 1}:0] s_{port.name};")
        connect.append(port.name)
    for port in harness.outputs.values():
        lines += [f"  wire [{port.width - 1}:0] s_{port.name};", f"  reg [63:0] c_{port.name};"]
        connect.append(port.name)
    dut_conn = [f".{p}(s_{p})" for p in connect]
    dut_conn += [".clk(clk)"] if "clk" in ports else []
    dut_conn += [".rst(rst)"] if "rst" in ports else []
    lines.append(f"  {DUT} dut(" + ", ".join(dut_conn) + ");")
    lines += ["  initial begin", '    fd = $fopen("sums.txt", "w");']
    lines += [f"    c_{p.name} = 0;" for p in harness.outputs.values()]
    if "clk" in ports:
        lines += [f"    for (j = 0; j < {RESET_CYCLES}; j = j + 1) begin #1 clk = 1; #1 clk = 0; end", "    rst = 0;"]
    lines += [f"    for (n = 0; n < {count + latency}; n = n + 1) begin", f"      if (n < {count}) begin"]
    for k, (key, port) in enumerate(harness.inputs.items()):
        lines.append("        " + draw_verilog("t", "n", 64 * seed + 2 * k) + " word = {32'd0, t};")
        if port.width > 32:
            lines.append("        " + draw_verilog("t", "n", 64 * seed + 2 * k + 1) + " word = word | ({32'd0, t} << 32);")
        lines.append(f"        s_{port.name} = word[{port.width - 1}:0];")
        if key in restart:
            value = int(restart[key]) & ((1 << port.width) - 1)
            lines.append(f"        if (n % {chunk} == 0) s_{port.name} = {port.width}'d{value};")
    lines += ["      end", "      #1;", f"      if (n >= {latency}) begin", f"        m = n - {latency};",
              f"        pos = 2 * (m % {chunk}) + 1;"]
    for port in harness.outputs.values():
        lines.append(f"        v = {{{64 - port.width}'d0, s_{port.name}}}; c_{port.name} = c_{port.name} + (v + 1) * pos;")
    record = ", ".join(f"c_{p.name}" for p in harness.outputs.values())
    fmt = " ".join("%h" for _ in harness.outputs)
    lines += [f"        if ((m + 1) % {chunk} == 0 || m == {count - 1}) begin",
              f'          $fwrite(fd, "{fmt}\\n", {record});',
              "          " + " ".join(f"c_{p.name} = 0;" for p in harness.outputs.values()),
              "        end", "      end"]
    if "clk" in ports:
        lines.append("      #1 clk = 1; #1 clk = 0;")
    lines += ["    end", "    $fclose(fd);", "    $finish;", "  end", "endmodule", ""]
    return "\n".join(lines)


def random_run(
    component: wiring.Component,
    reference: Callable[[dict[str, np.ndarray]], Mapping[str, np.ndarray]],
    count: int,
    *,
    seed: int = 0,
    chunk: int = 1 << 18,
    restart: Mapping[str, int] | None = None,
    simulator: str = "verilator",
    design: str = "",
) -> RandomReport:
    """Run ``count`` random vectors through ``component`` and compare chunk checksums.

    ``reference(inputs)`` gives the golden outputs of one chunk's inputs (keyed by output
    port), starting from reset.  ``simulator`` is ``"verilator"`` or ``"icarus"``.
    """
    if simulator not in ("verilator", "icarus"):
        raise ParameterError(f"simulator {simulator!r} is not allowed; expected 'verilator' or 'icarus'")
    if not isinstance(count, int) or count < 1 or count >= 1 << 31:
        raise ParameterError(f"count={count!r} is not allowed; expected an int in [1, 2^31)")
    start = time.perf_counter()
    restart = dict(restart or {})
    harness = describe(component)
    if harness.kind != "map":
        raise ParameterError("random runs drive map blocks only (stream blocks: use verify with vectors)")
    unknown = sorted(set(restart) - set(harness.inputs))
    if unknown:
        raise ParameterError(f"restart ports {unknown} are not inputs of the block; inputs: {list(harness.inputs)}")
    text = verilog_text(component, DUT)
    ports = module_ports(text, DUT)
    with tempfile.TemporaryDirectory(prefix="inwhale_random_") as tmp:
        work = Path(tmp)
        (work / "dut.v").write_text(text)
        (work / "tb.v").write_text(random_testbench(harness, ports, seed, count, chunk, restart))
        t0 = time.perf_counter()
        if simulator == "verilator":
            from .verilator_runner import compile_verilator

            executable = compile_verilator(work, ["tb.v", "dut.v"], top=TB)
            t0 = time.perf_counter()
            run_tool([str(executable)], work, "Verilator simulation")
        else:
            from .icarus_runner import find_icarus

            iverilog, vvp = find_icarus()
            run_tool([iverilog, "-g2005", "-o", "sim.vvp", "tb.v", "dut.v"], work, "iverilog")
            t0 = time.perf_counter()
            run_tool([vvp, "-n", "sim.vvp"], work, "vvp")
        sim_seconds = time.perf_counter() - t0
        got = [line.split() for line in (work / "sums.txt").read_text().splitlines()]
    t1 = time.perf_counter()
    chunks = -(-count // chunk)
    bad = []
    for c in range(chunks):
        begin = c * chunk
        inputs = random_inputs(harness, seed, begin, min(chunk, count - begin), chunk, restart)
        expected = reference(inputs)
        sums = [chunk_sums(port, expected[key]) for key, port in harness.outputs.items()]
        if c >= len(got) or [int(v, 16) for v in got[c]] != sums:
            bad.append(c)
    golden_seconds = time.perf_counter() - t1
    return RandomReport(design or repr(component), simulator, count, chunks, bad,
                        time.perf_counter() - start, sim_seconds, golden_seconds)
