"""The audioop drop-in against CPython's audioop: every function on 10^6-sample buffers.

    python benchmarks/bench_audioop.py [--samples N] [--repeat R] [--widths 2,4]
    INWHALE_HW_NUMBA=0 python benchmarks/bench_audioop.py --only ratecv_w,lin2adpcm,adpcm2lin

For each sample width, seeded full-scale noise (and an independent second buffer for
``add``); each case first checks that ``inwhale_hw.compat.audioop`` returns exactly what
``audioop`` returns, then times both in interleaved rounds (best of R) and prints the ratio
audioop time / drop-in time (>= 1: the drop-in is faster).  Goal (issue 16): every ratio >=
0.5.  ``ratecv`` with ``weightB != 0`` (case ``ratecv_w``), ``lin2adpcm`` and ``adpcm2lin``
use numba when installed; ``INWHALE_HW_NUMBA=0`` measures their NumPy/Python fallbacks.
``findfit`` matches a 64-sample reference (audioop's cost is length x reference).
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
from timing import best_times

from inwhale_hw.compat import audioop as compat

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

DTYPES = {1: np.int8, 2: np.int16, 4: np.int32}


def cases(width: int, n: int, seed: int) -> dict[str, tuple]:
    rng = np.random.default_rng(seed + width)
    info = np.iinfo(DTYPES[width])
    a = rng.integers(info.min, info.max, n, endpoint=True).astype(DTYPES[width]).tobytes()
    b = rng.integers(info.min, info.max, n, endpoint=True).astype(DTYPES[width]).tobytes()
    codes = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    other = 1 if width != 1 else 2
    table = {
        "max": ("max", a, width), "minmax": ("minmax", a, width), "avg": ("avg", a, width),
        "rms": ("rms", a, width), "avgpp": ("avgpp", a, width), "maxpp": ("maxpp", a, width),
        "cross": ("cross", a, width), "getsample": ("getsample", a, width, n // 2),
        "mul": ("mul", a, width, 0.7), "tomono": ("tomono", a, width, 0.5, 0.5),
        "tostereo": ("tostereo", a, width, 0.6, 0.4), "add": ("add", a, b, width),
        "bias": ("bias", a, width, 1000), "reverse": ("reverse", a, width),
        "byteswap": ("byteswap", a, width), "lin2lin": ("lin2lin", a, width, other),
        "ratecv": ("ratecv", a, width, 1, 44100, 48000, None),
        "ratecv_w": ("ratecv", a, width, 1, 44100, 48000, None, 3, 1),
        "lin2ulaw": ("lin2ulaw", a, width), "lin2alaw": ("lin2alaw", a, width),
        "ulaw2lin": ("ulaw2lin", codes, width), "alaw2lin": ("alaw2lin", codes, width),
        "lin2adpcm": ("lin2adpcm", a, width, None), "adpcm2lin": ("adpcm2lin", codes[: n // 2], width, None),
    }
    if width == 2:
        table["findmax"] = ("findmax", a, 1000)
        table["findfit"] = ("findfit", a, a[2 * (n // 3) : 2 * (n // 3) + 128])
        table["findfactor"] = ("findfactor", a, b)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--widths", default="2,4")
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    numba = os.environ.get("INWHALE_HW_NUMBA", "1")
    print(f"{args.samples} samples per buffer, best of {args.repeat} interleaved rounds, INWHALE_HW_NUMBA={numba}")
    print(f"{'case':12s} {'width':>5s} {'audioop ms':>11s} {'drop-in ms':>11s} {'ratio':>7s}")
    worst = float("inf")
    for width in (int(w) for w in args.widths.split(",")):
        for name, (fn, *call) in cases(width, args.samples, args.seed).items():
            if only and name not in only:
                continue
            ref, ours = getattr(audioop, fn), getattr(compat, fn)
            if ours(*call) != ref(*call):
                raise SystemExit(f"{name} width {width}: the drop-in's result differs from audioop's")
            t_ref, t_ours = best_times([lambda: ref(*call), lambda: ours(*call)], args.repeat)
            worst = min(worst, t_ref / t_ours)
            print(f"{name:12s} {width:5d} {t_ref * 1e3:11.2f} {t_ours * 1e3:11.2f} {t_ref / t_ours:7.2f}")
    print(f"lowest ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
