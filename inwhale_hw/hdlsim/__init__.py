"""Hardware verification: run Amaranth blocks in Amaranth's simulator and, as generated
Verilog, in Icarus Verilog; compare with the golden model; synthesize for iCE40.

* :func:`verify` — simulate a hardware model's block (or any component) on vectors and compare
  with the golden model, returning a :class:`Report` (vectors checked, mismatches, the
  first failing vectors).
* :func:`run_amaranth`, :func:`run_icarus` — the two runners, for map (combinational or
  pipelined) and stream (valid/ready) blocks; :mod:`.ports` describes both kinds.
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
    "synthesize",
    "verify",
    "verilog_text",
    "write_verilog",
]
