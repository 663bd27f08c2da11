"""Weight-only block formats on a small transformer: SQNR, bits per weight, output error, area.

Builds one pre-norm transformer encoder block offline with ``onnx.helper`` (d_model 128, 4 heads,
FFN 512, GELU written with Erf, sequence 32; weights N(0, 1/fan_in) with a few heavy-tailed
outlier columns, seeded), rewrites its six MatMul weights to each format of
:data:`inwhale_hw.accel.WEIGHT_FORMATS` and runs it on the accelerator's float executors
(:func:`inwhale_hw.accel.compare_weight_formats`).  Per format: weight SQNR over all six
weights, bits per weight with scales, output SQNR and max |error| against the float model, and
the iCE40 LUT4 per MAC of the matching PE from the README's synthesis tables (int8 x int8 PE;
Q4_0 / Q8_0 / MXFP4 block-dot PEs, one MAC per clock; "-" where no PE is built).  Rows
``q4_0+a8`` and ``q8_0+a8`` also quantize every layer input to GGUF Q8_0 (llama.cpp's W4A8 /
W8A8 dot products, the arithmetic the Q4_0 / Q8_0 block-dot PEs compute).

    python examples/block_formats/run.py [--out examples/block_formats/results]
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from inwhale_hw.accel import WEIGHT_FORMATS, compare_weight_formats

__all__ = ["build_transformer", "pe_area_per_mac", "tabulate", "to_markdown", "main"]

D, HEADS, FFN, SEQ, BATCH = 128, 4, 512, 32, 2
ROOT = Path(__file__).resolve().parents[2]


def _weight(rng, k: int, n: int) -> np.ndarray:
    w = rng.standard_normal((k, n)) / math.sqrt(k)
    outliers = rng.choice(k, size=max(1, k // 64), replace=False)
    w[outliers] *= 8  # a few input channels with large weights, as trained LLM layers have
    return w.astype(np.float32)


def build_transformer(seed: int = 0) -> onnx.ModelProto:
    """x (BATCH, SEQ, D) -> LN -> multi-head attention -> +x -> LN -> FFN(GELU) -> +: y."""
    rng = np.random.default_rng(seed)
    hd = D // HEADS
    inits = {f"w_{n}": _weight(rng, k, m) for n, k, m in (("q", D, D), ("k", D, D), ("v", D, D), ("o", D, D),
                                                          ("up", D, FFN), ("down", FFN, D))}
    inits.update({"ln1_g": np.ones(D, np.float32), "ln1_b": np.zeros(D, np.float32),
                  "ln2_g": np.ones(D, np.float32), "ln2_b": np.zeros(D, np.float32),
                  "heads": np.array([BATCH, SEQ, HEADS, hd], np.int64), "merge": np.array([BATCH, SEQ, D], np.int64),
                  "inv_sqrt_hd": np.array(1 / math.sqrt(hd), np.float32), "half": np.array(0.5, np.float32),
                  "one": np.array(1.0, np.float32), "sqrt2": np.array(math.sqrt(2), np.float32)})
    n = helper.make_node
    nodes = [n("LayerNormalization", ["x", "ln1_g", "ln1_b"], ["a"], axis=-1, name="ln1")]
    for p in "qkv":
        nodes += [n("MatMul", ["a", f"w_{p}"], [f"{p}0"], name=f"attn_{p}"),
                  n("Reshape", [f"{p}0", "heads"], [f"{p}1"], name=f"split_{p}"),
                  n("Transpose", [f"{p}1"], [f"{p}h"], perm=[0, 2, 1, 3] if p != "k" else [0, 2, 3, 1], name=f"tr_{p}")]
    nodes += [n("MatMul", ["qh", "kh"], ["s0"], name="scores"), n("Mul", ["s0", "inv_sqrt_hd"], ["s1"], name="scale"),
              n("Softmax", ["s1"], ["p"], axis=-1, name="softmax"), n("MatMul", ["p", "vh"], ["c0"], name="context"),
              n("Transpose", ["c0"], ["c1"], perm=[0, 2, 1, 3], name="tr_c"), n("Reshape", ["c1", "merge"], ["c2"], name="merge"),
              n("MatMul", ["c2", "w_o"], ["o"], name="attn_out"), n("Add", ["x", "o"], ["r1"], name="res1"),
              n("LayerNormalization", ["r1", "ln2_g", "ln2_b"], ["b"], axis=-1, name="ln2"),
              n("MatMul", ["b", "w_up"], ["u"], name="ffn_up"),
              n("Div", ["u", "sqrt2"], ["g0"], name="gelu_div"), n("Erf", ["g0"], ["g1"], name="gelu_erf"),
              n("Add", ["g1", "one"], ["g2"], name="gelu_add"), n("Mul", ["u", "g2"], ["g3"], name="gelu_mul"),
              n("Mul", ["g3", "half"], ["g"], name="gelu_half"),
              n("MatMul", ["g", "w_down"], ["f"], name="ffn_down"), n("Add", ["r1", "f"], ["y"], name="res2")]
    graph = helper.make_graph(nodes, "encoder_block",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, SEQ, D])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [BATCH, SEQ, D])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def pe_area_per_mac(readme: Path = ROOT / "README.md") -> dict[str, int]:
    """iCE40 LUT4 per MAC of the PEs in the README's synthesis tables (one MAC per clock each)."""
    text = readme.read_text(encoding="utf-8")
    found = {}
    for key, pattern in (("int8", r"^\| PE int8 x int8, wrap \| (\d+) \|"),
                         ("q4_0", r"^\| gguf \| Q4_0 \| block-dot PE[^|]*\| [^|]*\| (\d+) \|"),
                         ("q8_0", r"^\| gguf \| Q8_0 \| block-dot PE[^|]*\| [^|]*\| (\d+) \|"),
                         ("mxfp4", r"^\| mx \| mxfp4_e2m1 \| block-dot PE[^|]*\| [^|]*\| (\d+) \|")):
        m = re.search(pattern, text, re.M)
        if m:
            found[key] = int(m.group(1))
    return found


def _combined_sqnr(layers, energy: dict[str, float]) -> float:
    """SQNR over all rewritten weights from the per-layer SQNRs and signal energies."""
    signal = sum(energy[c.node] for c in layers)
    noise = sum(energy[c.node] * 10 ** (-c.weight_sqnr_db / 10) for c in layers)
    return 10 * math.log10(signal / noise)


def tabulate(seed: int = 0, formats: list[str] | None = None, a8_formats: tuple[str, ...] = ("q4_0", "q8_0")) -> list[dict]:
    """One row per format (module doc), then ``FMT+a8`` rows with Q8_0 activations (W4A8/W8A8)."""
    model = build_transformer(seed)
    x = np.random.default_rng(seed + 1).standard_normal((BATCH, SEQ, D)).astype(np.float32)
    _, results = compare_weight_formats(model, x, formats or list(WEIGHT_FORMATS))
    if a8_formats:
        _, with_a8 = compare_weight_formats(model, x, a8_formats, activations="q8_0")
        for r in with_a8:
            r.format += "+a8"
        results += with_a8
    area = pe_area_per_mac()
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    energy = {node.name: float(np.sum(inits[node.input[1]] ** 2)) for node in model.graph.node if node.input[1:2]
              and node.input[1] in inits and node.op_type == "MatMul"}
    return [{"format": r.format, "bits_per_weight": round(r.bits_per_weight, 4),
             "weight_sqnr_db": round(_combined_sqnr(r.layers, energy), 2),
             "output_sqnr_db": round(r.output_sqnr_db, 2), "max_abs_error": float(f"{r.max_abs_error:.4g}"),
             "lut4_per_mac": area.get(r.format.removesuffix("+a8"))} for r in results]


def to_markdown(rows: list[dict]) -> str:
    lines = ["| Format | Bits/weight | Weight SQNR (dB) | Output SQNR (dB) | Max abs error | LUT4 per MAC (iCE40) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lut = "-" if r["lut4_per_mac"] is None else str(r["lut4_per_mac"])
        lines.append(f"| {r['format']} | {r['bits_per_weight']:.3f} | {r['weight_sqnr_db']:.2f} | "
                     f"{r['output_sqnr_db']:.2f} | {r['max_abs_error']:.3g} | {lut} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = tabulate(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    (out / "results.md").write_text(to_markdown(rows), encoding="utf-8")
    print(to_markdown(rows), end="")


if __name__ == "__main__":
    main()
