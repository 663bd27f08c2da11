"""Write the README's table of block-format dequantizers and block-dot PEs: iCE40 LUT4, FF, carry, Fmax.

Usage::

    python scripts/block_dequant_table.py [--pipeline 0 2] [--no-fmax]

Each dequantizer of :mod:`inwhale_hw.hdl.block_dequant` (one element per clock) and the
block-dot PEs of :mod:`inwhale_hw.hdl.block_dot` (one MAC per clock; no pipeline option) is synthesized
with :func:`inwhale_hw.hdlsim.synthesize` (Yosys ``synth_ice40``, nextpnr-ice40 Fmax with
every port registered, seed 1).  Needs the ``synth`` extra.
"""

from __future__ import annotations

import argparse

from inwhale_hw.hdl.block_dequant import IntScaleDequantizer, MxDequantizer, Nf4Dequantizer
from inwhale_hw.hdl.block_dot import BlockDotPE, MXFP4BlockDotPE
from inwhale_hw.hdlsim import synthesize
from inwhale_hw.plugins.bnb.codebooks import NF4

DESIGNS = (
    ("gguf", "Q4_0", "4-bit code x binary16 d -> float32 (exact)", lambda p: IntScaleDequantizer("q4_0", pipeline=p)),
    ("gguf", "Q8_0", "int8 x binary16 d -> float32 (exact)", lambda p: IntScaleDequantizer("q8_0", pipeline=p)),
    ("mx", "mxfp4_e2m1", "E2M1 x E8M0 -> float32 (exact)", lambda p: MxDequantizer("mxfp4_e2m1", pipeline=p)),
    ("mx", "mxfp8_e4m3", "E4M3 x E8M0 -> float32 (exact)", lambda p: MxDequantizer("mxfp8_e4m3", pipeline=p)),
    ("mx", "mxint8", "INT8/64 x E8M0 -> float32 (exact)", lambda p: MxDequantizer("mxint8", pipeline=p)),
    ("bnb", "nf4", "NF4 LUT x float32 absmax -> float32 (RNE)", lambda p: Nf4Dequantizer(NF4.tolist(), pipeline=p)),
)
PES = (
    ("gguf", "Q4_0", "block-dot PE: 32 x (int4 x int8), 17-bit sum x 16-bit scale", lambda: BlockDotPE(32, 4, 8, 16)),
    ("gguf", "Q8_0", "block-dot PE: 32 x (int8 x int8), 21-bit sum x 16-bit scale", lambda: BlockDotPE(32, 8, 8, 16)),
    ("mx", "mxfp4_e2m1", "block-dot PE: 32 x (E2M1 x int8), 18-bit sum, E8M0 + E8M0 exponent add", lambda: MXFP4BlockDotPE(32, 8)),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--no-fmax", action="store_true")
    args = ap.parse_args()
    print("| Quantizer | Format | Datapath | Pipeline | LUT4 | FF | Carry | Fmax (MHz, iCE40 hx8k) |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for quantizer, fmt, what, make in DESIGNS:
        for depth in args.pipeline:
            r = synthesize(lambda: make(depth), module="top", fmax=not args.no_fmax)
            fmax = "—" if r.fmax_mhz is None else f"{r.fmax_mhz:.0f}"
            print(f"| {quantizer} | {fmt} | {what} | {depth} | {r.lut4} | {r.ff} | {r.carry} | {fmax} |", flush=True)
    for quantizer, fmt, what, make in PES:
        r = synthesize(make, module="top", fmax=not args.no_fmax)
        fmax = "—" if r.fmax_mhz is None else f"{r.fmax_mhz:.0f}"
        print(f"| {quantizer} | {fmt} | {what} | — | {r.lut4} | {r.ff} | {r.carry} | {fmax} |", flush=True)


if __name__ == "__main__":
    main()
