"""Exact integer matmul throughput: inwhale_hw.nn against onnxruntime and APyTypes, same run;
narrow saturating / wrapping accumulators against the exact path.

    python benchmarks/bench_nn.py [--size 256] [--repeat 30] [--conv-repeat 3] [--no-conv]

On seeded int8 operands of M = K = N = size (default 256), best-of-R wall time (interleaved
rounds) of:

* ``inwhale_hw.nn.matmul`` (exact int32 accumulator, wrap; float32 BLAS is provably exact here
  since K * 128 * 128 < 2^24) and ``qlinear_matmul`` (s8s8 -> s8, profile onnxruntime);
* onnxruntime's own QLinearMatMul (s8s8 and u8s8, weights as a constant initializer so MLAS
  prepacks them, default thread count) on the same data;
* APyTypes ``APyFixedArray`` matmul of the same values (8 integer bits, 0 fractional), if
  ``apytypes`` is installed;
* NumPy int64 ``matmul`` (exact integer baseline).

Every result is checked equal to the exact product first.  Prints GMAC/s (M*K*N / time) and
the ratio of inwhale_hw to each reference.  Goal (issue 6): exact int8 matmul >= 9 GMAC/s.

Narrow accumulators (issue 12 section 3): ``nn.matmul`` on the same operands and ``nn.conv2d``
on a ResNet50-sized layer (int8 activations 1x256x56x56, 3x3 int8 weights 256 -> 256, pad 1,
1.85 G MAC) with the default exact 32-bit accumulator against an 18-bit (matmul) / 16-bit (conv)
register under ``sat`` and ``wrap``.  Every path returns the same statistics
(:class:`~inwhale_hw.nn.AccumulatorStats`: overflowed outputs, final sums out of range, peak,
bounds); the narrow paths run the compiled running sums (:mod:`inwhale_hw.fixed.running`) on
the outputs the bound analysis cannot clear.  Goal: each narrow path <= 5x the exact path's
time, measured in the same run (best of N, interleaved).  The narrow results are checked
against the NumPy path on a slice first.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np

from inwhale_hw.fixed import running
from inwhale_hw.nn import conv2d, matmul, qlinear_matmul
from timing import best_times

NARROW_GOAL = 5.0



def ort_qlinear_matmul(b: np.ndarray, a_dtype, scales):
    """An onnxruntime session computing QLinearMatMul(a, ., b) with b constant."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    types = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int8): TensorProto.INT8}
    sa, sb, sy = scales
    za = np.asarray(0 if np.dtype(a_dtype) == np.int8 else 128, dtype=a_dtype)
    init = [
        numpy_helper.from_array(np.asarray(sa, np.float32), "a_scale"),
        numpy_helper.from_array(za, "a_zero_point"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(np.asarray(sb, np.float32), "b_scale"),
        numpy_helper.from_array(np.asarray(0, np.int8), "b_zero_point"),
        numpy_helper.from_array(np.asarray(sy, np.float32), "y_scale"),
        numpy_helper.from_array(za.copy(), "y_zero_point"),
    ]
    names = ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"]
    graph = helper.make_graph(
        [helper.make_node("QLinearMatMul", names, ["y"])], "bench",
        [helper.make_tensor_value_info("a", types[np.dtype(a_dtype)], list(b.shape[::-1]))],
        [helper.make_tensor_value_info("y", types[np.dtype(a_dtype)], None)], initializer=init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session, za


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conv-repeat", type=int, default=3)
    parser.add_argument("--no-conv", action="store_true", help="skip the ResNet50-sized convolution")
    args = parser.parse_args()
    n = args.size
    rng = np.random.default_rng(args.seed)
    a = rng.integers(-128, 128, (n, n)).astype(np.int8)
    b = rng.integers(-128, 128, (n, n)).astype(np.int8)
    exact = a.astype(np.int64) @ b.astype(np.int64)
    macs = n * n * n
    scales = (np.float32(0.02), np.float32(0.01), np.float32(0.02 * 0.01 * np.sqrt(n) * 128 * 128 / 3 / 40))
    sa, sb, sy = (np.asarray(s) for s in scales)
    zero8 = np.asarray(0, np.int8)

    assert np.array_equal(matmul(a, b).values, exact)
    ours_q = qlinear_matmul(a, sa, zero8, b, sb, zero8, sy, zero8)
    rows: list[tuple[str, Callable[[], object]]] = [
        ("inwhale_hw.nn.matmul (exact, int32 acc)", lambda: matmul(a, b)),
        ("inwhale_hw.nn.qlinear_matmul s8s8", lambda: qlinear_matmul(a, sa, zero8, b, sb, zero8, sy, zero8)),
        ("numpy int64 matmul", lambda: a.astype(np.int64) @ b.astype(np.int64)),
    ]
    try:
        s8, _ = ort_qlinear_matmul(b, np.int8, scales)
        au = (a.astype(np.int16) + 128).astype(np.uint8)
        u8, _ = ort_qlinear_matmul(b, np.uint8, scales)
        assert np.array_equal(s8.run(None, {"a": a})[0], ours_q), "onnxruntime disagrees with profile onnxruntime"
        rows.append(("onnxruntime QLinearMatMul s8s8", lambda: s8.run(None, {"a": a})))
        rows.append(("onnxruntime QLinearMatMul u8s8", lambda: u8.run(None, {"a": au})))
    except ImportError:
        print("onnxruntime not installed: skipped")
    try:
        import apytypes

        fa = apytypes.APyFixedArray.from_float(a.astype(np.float64), int_bits=8, frac_bits=0)
        fb = apytypes.APyFixedArray.from_float(b.astype(np.float64), int_bits=8, frac_bits=0)
        assert np.array_equal(np.asarray((fa @ fb).to_numpy()), exact), "APyTypes result is not exact"
        rows.append((f"APyTypes {apytypes.__version__} APyFixedArray @", lambda: fa @ fb))
    except ImportError:
        print("apytypes not installed: skipped (pip install apytypes)")

    times = best_times([fn for _, fn in rows], args.repeat)
    ours = times[0]
    print(f"int8 matmul {n}x{n}x{n} ({macs / 1e6:.1f} M MAC), best of {args.repeat}")
    print(f"{'implementation':44s} {'ms':>8s} {'GMAC/s':>8s} {'speed of nn.matmul vs this':>26s}")
    for (name, _), t in zip(rows, times):
        print(f"{name:44s} {t * 1e3:8.3f} {macs / t / 1e9:8.2f} {t / ours:25.2f}x")
    worst = narrow_accumulators("matmul", lambda **kw: matmul(a, b, **kw), 18, macs, args.repeat,
                                lambda **kw: matmul(a[:8], b, **kw))
    if not args.no_conv:
        x = rng.integers(-128, 128, (1, 256, 56, 56)).astype(np.int8)
        w = rng.integers(-127, 128, (256, 256, 3, 3)).astype(np.int8)
        worst = max(worst, narrow_accumulators(
            "conv2d 1x256x56x56 * 256x256x3x3", lambda **kw: conv2d(x, w, padding=1, **kw), 16,
            256 * 56 * 56 * 256 * 9, args.conv_repeat, lambda **kw: conv2d(x[:, :, :6, :6], w, padding=1, **kw)))
    print(f"narrow-accumulator goal (<= {NARROW_GOAL:g}x the exact path): "
          f"{'met' if worst <= NARROW_GOAL else 'MISSED'} (worst {worst:.2f}x)")


def narrow_accumulators(label: str, run, bits: int, macs: int, repeat: int, small) -> float:
    """Time ``run(**accumulator)`` exact (32-bit wrap) and at ``bits`` under sat and wrap; print
    the ratios and return the worst.  ``small`` runs a slice, checked against the NumPy path."""
    configs = [("exact, 32-bit wrap (default)", {}),
               (f"{bits}-bit sat", {"acc_bits": bits, "overflow": "sat"}),
               (f"{bits}-bit wrap", {"acc_bits": bits, "overflow": "wrap"})]
    for _, kw in configs[1:]:
        compiled = small(**kw)
        enabled, running.ENABLED = running.ENABLED, False
        try:
            reference = small(**kw)
        finally:
            running.ENABLED = enabled
        assert np.array_equal(compiled.values, reference.values) and compiled.stats == reference.stats
    results = [run(**kw) for _, kw in configs]
    fns = [lambda kw=kw: run(**kw) for _, kw in configs]
    times = best_times(fns, repeat)
    cpu = best_times(fns, repeat, time.process_time)
    print(f"{label} ({macs / 1e6:.0f} M MAC), best of {repeat}; compiled running sums: {running.ENABLED}")
    print(f"{'accumulator':30s} {'wall ms':>9s} {'GMAC/s':>7s} {'vs exact':>8s} {'CPU ms':>9s} {'vs exact':>8s}"
          f"  overflowed / final out of range / peak bits")
    for (name, _), t, c, r in zip(configs, times, cpu, results):
        st = r.stats
        print(f"{name:30s} {t * 1e3:9.2f} {macs / t / 1e9:7.2f} {t / times[0]:7.2f}x {c * 1e3:9.2f} "
              f"{c / max(cpu[0], 1e-9):7.2f}x  {st.overflowed} / {st.final_out_of_range} / {st.bits_needed}")
    return max(t / times[0] for t in times[1:])


if __name__ == "__main__":
    main()
