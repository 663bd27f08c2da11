"""Hardware verification: run Amaranth blocks in Amaranth's simulator and, as generated
Verilog, in Icarus Verilog or Verilator; compare with the golden model; prove pipelined
blocks equivalent to their unpipelined form; synthesize for iCE40.

* :func:`verify` — simulate a hardware model's block (or any component) on vectors and compare
  with the golden model, returning a :class:`Report` (vectors checked, mismatches, the
  first failing vectors).
* :func:`run_amaranth`, :func:`run_icarus`, :func:`run_verilator` — the runners, for map
  (combinational or pipelined) and stream (valid/ready) blocks; :mod:`.ports` describes
  both kinds, :mod:`.testbench` the Verilog testbench the last two share.
* :mod:`.seeded` — what every testbench does alike: seeded stalls on both sides of a
  stream, a real reset, stream vectors from the reset state, shuffled exhaustive vectors.
* :mod:`.formal` — Yosys ``sat`` proofs that a pipelined block equals its unpipelined form;
  :mod:`.matrix` — every variant (flavors x pipeline depths) for ``verify --matrix`` and
  ``--formal``; :mod:`.random_run` — 10^7-vector random runs generated in the testbench.
* :mod:`.protocol` — builds and checks any hardware model (:mod:`inwhale_hw.hardware`:
  ``blocks``, ``datapath(block, **hw)``, ``vectors(block, seed=..., **opts)``,
  ``reference(block, vectors)``), with defaults for small map blocks of quantizers.
* :mod:`.stimulus` — shared stimulus for codec families: bundled audio, full-scale edge
  signals, state loads, and a sample-by-sample run of a sequential codec.
* :func:`verilog_text`, :func:`write_verilog` — Verilog through Amaranth's bundled Yosys.
* :func:`synthesize` — iCE40 LUT4/FF/carry counts from Yosys and Fmax from nextpnr-ice40.
"""

from .amaranth_runner import run_amaranth
from .icarus_runner import run_icarus
from .verilator_runner import run_verilator
from .ports import Harness, Port, describe
from .protocol import build_block, golden_vectors
from .synth import SynthReport, synthesize
from .vectors import SimRun, Vectors
from .verilog import verilog_text, write_verilog
from .verify import Mismatch, Report, verify

__all__ = [
    "Harness",
    "Mismatch",
    "Port",
    "Report",
    "SimRun",
    "SynthReport",
    "Vectors",
    "build_block",
    "describe",
    "golden_vectors",
    "run_amaranth",
    "run_icarus",
    "run_verilator",
    "synthesize",
    "verify",
    "verilog_text",
    "write_verilog",
]
