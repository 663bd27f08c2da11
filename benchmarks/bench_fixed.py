"""Throughput of the fixed-point core against APyTypes, measured in the same run.

    .venv/bin/python benchmarks/bench_fixed.py [--n 10000000] [--repeat 5]

* quantize: 10M float64 -> Q4.12 raw (HALF_AWAY + WRAP, which is what
  ``APyFixedArray.from_float`` does; also HALF_EVEN + SAT), in elements/s;
* multiply: exact product of two 10M-element Q4.12 arrays (APyTypes ``a * b``), elements/s;
* requantize: Q8.24 -> Q4.12 with HALF_EVEN + SAT (APyTypes ``cast``), elements/s (no goal);
* matmul: exact int8-range 256x256x256 (APyTypes ``a @ b`` on 8-bit formats), MAC/s; the same
  into an 18-bit accumulator that wraps (APyTypes accumulator context) or saturates per partial
  sum (no APyTypes equivalent), MAC/s.

Goals (issue 2): >= 150 M elements/s for quantize and multiply, >= 9 GMAC/s for the matmul.
Timing is best-of-N with ``time.perf_counter``; ratios are ours / APyTypes (> 1: we are faster).
APyTypes is optional: ``.venv/bin/pip install apytypes``; without it that column is skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from inwhale_hw.fixed import QFormat, exact_matmul, matmul, mul, quantize, requantize

try:
    import apytypes as apy
except ImportError:  # optional reference
    apy = None


def best(fn, repeat: int, ref=None) -> tuple[float, float | None]:
    """Best wall times of ``repeat`` calls of ``fn`` and ``ref`` (after a warm-up call each).

    The two are timed alternately so that load from other processes hits both alike.
    """
    fns = [fn] if ref is None else [fn, ref]
    times: list[list[float]] = [[] for _ in fns]
    for f in fns:
        f()
    for _ in range(repeat):
        for f, bucket in zip(fns, times):
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return min(times[0]), (min(times[1]) if ref is not None else None)


def row(label: str, work: float, unit: str, ours: float, ref: float | None, goal: float | None) -> None:
    rate = work / ours
    text = f"{label:<38} {rate / 1e6:10.1f} M{unit}/s"
    if goal is not None:
        text += f"  goal {goal / 1e6:.0f} M{unit}/s {'met' if rate >= goal else 'MISSED'}"
    if ref is not None:
        text += f"  | apytypes {work / ref / 1e6:8.1f} M{unit}/s  ratio {ref / ours:5.2f}x"
    print(text, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="elements for quantize/multiply")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is kept)")
    args = parser.parse_args()
    n, repeat = args.n, args.repeat
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, n = {n:,}, best of {repeat}")
    if apy is None:
        print("apytypes not installed: reference column skipped (.venv/bin/pip install apytypes)")
    else:
        print(f"apytypes {apy.__version__}")
    rng = np.random.default_rng(0)
    fmt = QFormat(4, 12)
    x = rng.uniform(-7.9, 7.9, n)

    ref_fn = (lambda: apy.APyFixedArray.from_float(x, int_bits=4, frac_bits=12)) if apy else None
    ours, ref = best(lambda: quantize(x, fmt, "HALF_AWAY", "WRAP"), repeat, ref_fn)
    if apy is not None:
        theirs = np.asarray(apy.APyFixedArray.from_float(x[:100_000], int_bits=4, frac_bits=12).to_bits(), dtype=np.int64)
        theirs = np.where(theirs >= 1 << 15, theirs - (1 << 16), theirs)
        assert np.array_equal(theirs, quantize(x[:100_000], fmt, "HALF_AWAY", "WRAP")), "apytypes disagrees"
    row("quantize HALF_AWAY+WRAP (el)", n, "el", ours, ref, 150e6)
    ours, _ = best(lambda: quantize(x, fmt, "HALF_EVEN", "SAT"), repeat)
    row("quantize HALF_EVEN+SAT (el)", n, "el", ours, None, 150e6)

    a = quantize(x, fmt, "HALF_EVEN", "SAT")
    b = quantize(x[::-1].copy(), fmt, "HALF_EVEN", "SAT")
    ref_fn = None
    if apy is not None:
        fa = apy.APyFixedArray(a, int_bits=4, frac_bits=12)  # int64 = two's complement bit patterns
        fb = apy.APyFixedArray(b, int_bits=4, frac_bits=12)
        ref_fn = lambda: fa * fb  # noqa: E731
    ours, ref = best(lambda: mul(a, fmt, b, fmt), repeat, ref_fn)
    row("multiply Q4.12 x Q4.12 exact (el)", n, "el", ours, ref, 150e6)

    src, dst = QFormat(8, 24), QFormat(4, 12)
    wide = quantize(x, src, "HALF_EVEN", "SAT")
    ref_fn = None
    if apy is not None:
        wa = apy.APyFixedArray(wide, int_bits=8, frac_bits=24)
        ref_fn = lambda: wa.cast(4, 12, apy.QuantizationMode.RND_CONV, apy.OverflowMode.SAT)  # noqa: E731
    ours, ref = best(lambda: requantize(wide, src, dst, "HALF_EVEN", "SAT"), repeat, ref_fn)
    row("requantize Q8.24->Q4.12 RNE+SAT (el)", n, "el", ours, ref, None)

    size = 256
    ma = rng.integers(-128, 128, (size, size)).astype(np.int8)
    mb = rng.integers(-128, 128, (size, size)).astype(np.int8)
    macs = size**3
    ref_fn = None
    if apy is not None:
        aa = apy.APyFixedArray(ma.astype(np.int64), int_bits=8, frac_bits=0)
        bb = apy.APyFixedArray(mb.astype(np.int64), int_bits=8, frac_bits=0)
        assert np.array_equal(exact_matmul(ma, mb), ma.astype(np.int64) @ mb), "matmul is not exact"
        ref_fn = lambda: aa @ bb  # noqa: E731
    ours, ref = best(lambda: exact_matmul(ma, mb), 4 * repeat, ref_fn)
    row(f"exact matmul int8 {size}^3 (MAC)", macs, "MAC", ours, ref, 9e9)

    f8, acc = QFormat(8, 0), QFormat(18, 0)  # about a quarter of the outputs overflow on the way
    ref_fn = None
    if apy is not None:
        def ref_fn():
            with apy.APyFixedAccumulatorContext(int_bits=18, frac_bits=0, overflow=apy.OverflowMode.WRAP):
                return aa @ bb
    ours, ref = best(lambda: matmul(ma, f8, mb, f8, acc, "wrap"), repeat, ref_fn)
    row("matmul 18-bit WRAP accumulator (MAC)", macs, "MAC", ours, ref, None)
    ours, _ = best(lambda: matmul(ma, f8, mb, f8, acc, "sat"), repeat)
    row("matmul 18-bit SAT per partial sum", macs, "MAC", ours, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
