"""The Verilog testbench shared by the Icarus and Verilator runners, and its files.

:func:`testbench_text` writes a Verilog-2005 testbench (module ``inwhale_tb``) around the
component's generated Verilog (module ``inwhale_dut``) that reads one ``$readmemh`` file per
input and ``$fwrite``\\ s the outputs in hex, one line per vector (map blocks) or per output
transfer (stream blocks).  The testbench follows the Amaranth runner cycle for cycle:

* combinational: set the inputs, wait 1 ns, record;
* pipelined (``latency = L``): :data:`~.seeded.RESET_CYCLES` reset cycles, then per cycle
  set vector ``j``, wait, record the outputs right after reset (``j = 0``, to
  ``reset.txt``) and those of vector ``j - L`` (once ``j >= L``), clock edge;
* stream: the reset cycles, then per cycle draw the stalls of :mod:`.seeded` (or none),
  offer element ``k`` unless this cycle is a gap (``i.valid`` high, sideband inputs held at
  element ``k``; in a gap the payload carries junk), drive ``o.ready`` low when blocked,
  wait, record ``o.payload`` and the observed ports when ``o.valid`` and ``o.ready``,
  advance ``k`` when ``i.valid`` and ``i.ready``, clock edge; stop after the last output,
  or :data:`~.seeded.IDLE_CYCLES` cycles without one after the last input.

:func:`prepare` writes the DUT, the testbench and the vector files into a directory;
:func:`collect` reads the outputs back, sign-extended per port (``x``/``z`` as
:data:`~.vectors.UNDEFINED`).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import InputError, VerificationError
from .ports import Harness, Port, describe
from .seeded import IDLE_CYCLES, RESET_CYCLES, draw_verilog
from .verilog import module_ports, verilog_text
from .vectors import UNDEFINED, check_inputs

__all__ = ["DUT", "TB", "Bench", "testbench_text", "prepare", "collect", "run_tool"]

DUT = "inwhale_dut"
TB = "inwhale_tb"


def _reg(name: str, port: Port) -> str:
    return f"reg [{port.width - 1}:0] {name}"


def _wire(name: str, port: Port) -> str:
    return f"wire [{port.width - 1}:0] {name}"


def testbench_text(harness: Harness, ports: list[str], count: int, outputs: int, max_cycles: int,
                   vcd: bool, seed: int | None = 0) -> str:
    """Verilog-2005 testbench for ``harness``; ``ports`` are the DUT's Verilog port names.

    ``seed`` selects the stream stalls (``None``: no stalls)."""
    lines = ["`timescale 1ns/1ps", f"module {TB};", "  integer j, fd, fr, taken, recorded, cycles, idle;",
             "  reg [31:0] draw; reg gap, blocked;"]
    connect = []
    for key, port in harness.inputs.items():
        lines.append(f"  {_reg('s_' + port.name, port)};")
        lines.append(f"  reg [{port.width - 1}:0] m_{port.name} [0:{count - 1}];")
        connect.append(port.name)
    for port in harness.outputs.values():
        lines.append(f"  {_wire('s_' + port.name, port)};")
        connect.append(port.name)
    for name, port in harness.handshake.items():
        lines.append(f"  {(_reg if port.is_input else _wire)('s_' + name, port)};")
        connect.append(name)
    clocked = "clk" in ports
    if clocked:
        lines.append("  reg s_clk = 0, s_rst = 1;")
        connect += ["clk", "rst"] if "rst" in ports else ["clk"]
    lines.append(f"  {DUT} dut(" + ", ".join(f".{p}(s_{p})" for p in connect) + ");")
    record = ", ".join(f"s_{p.name}" for p in harness.outputs.values())
    fmt = " ".join("%h" for _ in harness.outputs)
    write = f'$fwrite(fd, "{fmt}\\n", {record});'
    lines += ["  initial begin"]
    if vcd:
        lines += ['    $dumpfile("wave.vcd");', f"    $dumpvars(0, {TB});"]
    for key, port in harness.inputs.items():
        lines.append(f'    $readmemh("in_{port.name}.hex", m_{port.name});')
    lines.append('    fd = $fopen("out.txt", "w");')
    if harness.kind == "stream":
        lines.append("    s_i__valid = 0; s_o__ready = 1;")
    if clocked:
        lines += [f"    for (j = 0; j < {RESET_CYCLES}; j = j + 1) begin #1 s_clk = 1; #1 s_clk = 0; end",
                  "    s_rst = 0;"]
    assign = " ".join(f"s_{p.name} = m_{p.name}[{{idx}}];" for p in harness.inputs.values())
    if harness.kind == "map" and not clocked:
        lines += [
            f"    for (j = 0; j < {count}; j = j + 1) begin",
            "      " + assign.format(idx="j"),
            f"      #1 {write}",
            "    end",
        ]
    elif harness.kind == "map":
        latency = harness.latency
        lines += [
            f"    for (j = 0; j < {count + latency}; j = j + 1) begin",
            f"      if (j < {count}) begin " + assign.format(idx="j") + " end",
            "      #1;",
            "      if (j == 0) begin fr = $fopen(\"reset.txt\", \"w\"); " + write.replace("(fd,", "(fr,")
            + " $fclose(fr); end",
            f"      if (j >= {latency}) {write}",
            "      s_clk = 1; #1 s_clk = 0;",
            "    end",
        ]
    else:
        payload = harness.inputs["i"]
        stall = (["      " + draw_verilog("draw", "cycles", seed),
                  "      gap = draw[1:0] == 0; blocked = draw[3:2] == 0;"]
                 if seed is not None else ["      gap = 0; blocked = 0;"])
        lines += [
            "    taken = 0; recorded = 0; cycles = 0; idle = 0;",
            f"    while (recorded < {outputs} && cycles < {max_cycles} && idle < {IDLE_CYCLES}) begin",
            *stall,
            "      s_o__ready = !blocked;",
            f"      if (taken < {count} && !gap) begin s_i__valid = 1; " + assign.format(idx="taken") + " end",
            "      else begin s_i__valid = 0;" + (f" s_{payload.name} = draw >> 4;" if seed is not None else "") + " end",
            "      #1;",
            f"      if (taken < {count}) idle = 0; else idle = idle + 1;",
            f"      if (s_o__valid === 1'b1 && !blocked) begin {write} recorded = recorded + 1; idle = 0; end",
            f"      if (s_i__valid && s_i__ready === 1'b1) taken = taken + 1;",
            "      s_clk = 1; #1 s_clk = 0;",
            "      cycles = cycles + 1;",
            "    end",
        ]
    lines += ["    $fclose(fd);", "    $finish;", "  end", "endmodule", ""]
    return "\n".join(lines)


def _write_hex(path: Path, port: Port, values: np.ndarray) -> None:
    digits = -(-port.width // 4)
    bits = port.to_bits(values)
    path.write_text("\n".join(format(int(v), f"0{digits}x") for v in bits) + "\n")


def _parse(text: str, harness: Harness, simulator: str) -> dict[str, np.ndarray]:
    ports = list(harness.outputs.items())
    columns: list[list[int]] = [[] for _ in ports]
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != len(ports):
            raise VerificationError(f"{simulator} output line {line!r} does not hold {len(ports)} values")
        for column, field in zip(columns, fields):
            column.append(int(field, 16) if all(c in "0123456789abcdefABCDEF" for c in field) else -1)
    result = {}
    for (key, port), column in zip(ports, columns):
        raw = np.asarray(column, dtype=np.int64)
        result[key] = np.where(raw < 0, UNDEFINED, port.from_bits(np.maximum(raw, 0)))
    return result


@dataclass(frozen=True)
class Bench:
    """A prepared testbench directory and the harness its outputs are parsed with."""

    work: Path
    harness: Harness
    count: int


def prepare(component: wiring.Component, inputs: Mapping[str, Any], work: Path, *, outputs: int | None,
            max_cycles: int | None, vcd: bool, seed: int | None) -> Bench:
    """Write ``dut.v``, ``tb.v`` and ``in_<port>.hex`` for ``component`` into ``work``."""
    harness = describe(component)
    checked = check_inputs(harness, inputs)
    count = len(next(iter(checked.values())))
    if harness.kind == "stream" and outputs is None:
        raise InputError("a stream block needs the number of output transfers to collect")
    n_out = count if harness.kind == "map" else outputs
    limit = max_cycles if max_cycles is not None else 16 * (count + n_out) + 1024
    text = verilog_text(component, DUT)
    ports = module_ports(text, DUT)
    expected = {p.name for p in (*harness.inputs.values(), *harness.outputs.values(), *harness.handshake.values())}
    missing = sorted(expected - set(ports))
    if missing:
        raise VerificationError(f"generated Verilog lacks ports {missing}; it has {ports}")
    work.mkdir(parents=True, exist_ok=True)
    (work / "dut.v").write_text(text)
    (work / "tb.v").write_text(testbench_text(harness, ports, count, n_out, limit, vcd, seed))
    for key, port in harness.inputs.items():
        _write_hex(work / f"in_{port.name}.hex", port, checked[key])
    return Bench(work, harness, count)


def collect(bench: Bench, simulator: str) -> tuple[dict[str, np.ndarray], dict[str, int] | None]:
    """The recorded outputs and, for a pipelined map block, the outputs right after reset."""
    outputs = _parse((bench.work / "out.txt").read_text(), bench.harness, simulator)
    reset_file = bench.work / "reset.txt"
    reset = None
    if reset_file.exists():
        reset = {key: int(v[0]) for key, v in _parse(reset_file.read_text(), bench.harness, simulator).items()}
    return outputs, reset


def run_tool(argv: list[str], cwd: Path, what: str) -> None:
    """Run ``argv`` in ``cwd``; VerificationError with the last lines of output on failure."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise VerificationError(f"{what} failed (exit {proc.returncode}): " + " | ".join(detail))
