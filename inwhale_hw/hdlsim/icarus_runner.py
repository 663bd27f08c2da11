"""Run a component's generated Verilog on vectors in Icarus Verilog.

:func:`run_icarus` writes the component as Verilog (module ``inwhale_dut``), one ``$readmemh``
file per input, and a Verilog-2005 testbench that applies the vectors and ``$fwrite``\\ s the
outputs in hex, one line per vector (map blocks) or per output transfer (stream blocks).
It compiles with ``iverilog -g2005`` (in the SystemVerilog modes Icarus does not run the
generated ``always @*`` blocks at time 0) and runs ``vvp``; the outputs are read back and
sign-extended per port.  The testbench follows the Amaranth runner cycle for cycle:

* combinational: set the inputs, wait 1 ns, record;
* pipelined (``latency = L``): one reset cycle, then per cycle set vector ``j``, wait, record
  the outputs of vector ``j - L`` (once ``j >= L``), clock edge;
* stream: one reset cycle, ``o.ready`` high; per cycle offer element ``k`` (``i.valid`` high
  while any remain, sideband inputs held at element ``k``), wait, record ``o.payload`` and
  the observed ports when ``o.valid``, advance ``k`` when ``i.ready``, clock edge.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from amaranth.lib import wiring

from ..errors import InputError, ToolNotFoundError, VerificationError
from .ports import Harness, Port, describe
from .verilog import module_ports, verilog_text
from .vectors import UNDEFINED, SimRun, check_inputs

__all__ = ["run_icarus", "find_icarus", "testbench_text"]

DUT = "inwhale_dut"
TB = "inwhale_tb"


def find_icarus() -> tuple[str, str]:
    """Paths of ``iverilog`` and ``vvp``, or ToolNotFoundError naming the package to install."""
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iverilog is None or vvp is None:
        raise ToolNotFoundError(
            "Icarus Verilog (iverilog and vvp) is not installed; install the Debian/Ubuntu "
            "package 'iverilog' (or see https://steveicarus.github.io/iverilog/)"
        )
    return iverilog, vvp


def _reg(name: str, port: Port) -> str:
    return f"reg [{port.width - 1}:0] {name}"


def _wire(name: str, port: Port) -> str:
    return f"wire [{port.width - 1}:0] {name}"


def testbench_text(harness: Harness, ports: list[str], count: int, outputs: int, max_cycles: int,
                   vcd: bool) -> str:
    """Verilog-2005 testbench for ``harness``; ``ports`` are the DUT's Verilog port names."""
    lines = ["`timescale 1ns/1ps", f"module {TB};", "  integer j, fd, taken, recorded, cycles;"]
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
        lines += ["    #1 s_clk = 1; #1 s_clk = 0; s_rst = 0;"]
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
            f"      if (j >= {latency}) {write}",
            "      s_clk = 1; #1 s_clk = 0;",
            "    end",
        ]
    else:
        lines += [
            "    taken = 0; recorded = 0; cycles = 0;",
            f"    while (recorded < {outputs} && cycles < {max_cycles}) begin",
            f"      if (taken < {count}) begin s_i__valid = 1; " + assign.format(idx="taken") + " end",
            "      else s_i__valid = 0;",
            "      #1;",
            f"      if (s_o__valid === 1'b1) begin {write} recorded = recorded + 1; end",
            f"      if (taken < {count} && s_i__ready === 1'b1) taken = taken + 1;",
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


def _parse(text: str, harness: Harness) -> dict[str, np.ndarray]:
    ports = list(harness.outputs.items())
    columns: list[list[int]] = [[] for _ in ports]
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != len(ports):
            raise VerificationError(f"Icarus output line {line!r} does not hold {len(ports)} values")
        for column, field in zip(columns, fields):
            column.append(int(field, 16) if all(c in "0123456789abcdefABCDEF" for c in field) else -1)
    result = {}
    for (key, port), column in zip(ports, columns):
        raw = np.asarray(column, dtype=np.int64)
        result[key] = np.where(raw < 0, UNDEFINED, port.from_bits(np.maximum(raw, 0)))
    return result


def run_icarus(
    design: wiring.Component | Callable[[], wiring.Component],
    inputs: Mapping[str, Any],
    *,
    outputs: int | None = None,
    vcd: str | os.PathLike | None = None,
    max_cycles: int | None = None,
    workdir: str | os.PathLike | None = None,
) -> SimRun:
    """Simulate the Verilog of ``design`` on ``inputs`` in Icarus Verilog.

    Arguments as for :func:`~inwhale_hw.hdlsim.amaranth_runner.run_amaranth`; ``workdir``
    keeps the generated files (testbench, Verilog, hex vectors, outputs) in that directory
    instead of a temporary one.
    """
    start = time.perf_counter()
    iverilog, vvp = find_icarus()
    component = design() if callable(design) and not isinstance(design, wiring.Component) else design
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
    with tempfile.TemporaryDirectory(prefix="inwhale_icarus_") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        (work / "dut.v").write_text(text)
        (work / "tb.v").write_text(testbench_text(harness, ports, count, n_out, limit, vcd is not None))
        for key, port in harness.inputs.items():
            _write_hex(work / f"in_{port.name}.hex", port, checked[key])
        _tool([iverilog, "-g2005", "-o", "sim.vvp", "tb.v", "dut.v"], work, "iverilog")
        t0 = time.perf_counter()
        _tool([vvp, "-n", "sim.vvp"], work, "vvp")
        sim_seconds = time.perf_counter() - t0
        result = _parse((work / "out.txt").read_text(), harness)
        if vcd is not None:
            shutil.copyfile(work / "wave.vcd", f"{os.fspath(vcd)}.tmp{os.getpid()}")
            os.replace(f"{os.fspath(vcd)}.tmp{os.getpid()}", vcd)
    return SimRun("icarus", result, time.perf_counter() - start, sim_seconds)


def _tool(argv: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise VerificationError(f"{what} failed (exit {proc.returncode}): " + " | ".join(detail))
