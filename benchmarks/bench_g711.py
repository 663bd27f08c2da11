"""G.711 encode/decode throughput: inwhale_hw against CPython's audioop, in the same run.

    python benchmarks/bench_g711.py [--samples N] [--repeat R]

For each law, on one seeded buffer of N int16 samples (default 10 M), times best-of-R\n(interleaved rounds):

* audioop ``lin2ulaw``/``ulaw2lin`` (``lin2alaw``/``alaw2lin``), width 2, bytes in and out;
* the ``mulaw``/``alaw`` plugin, ``encode`` (int16 array -> uint8 codes) and ``decode``;
* the drop-in ``inwhale_hw.compat.audioop`` functions, bytes in and out like audioop.

Outputs are checked equal to audioop's first (plugin with flavor ``audioop``).  Prints
samples/s and the ratio to audioop.  Goals (issue 3): encode >= 2x, decode >= 0.5x.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from inwhale_hw.compat import audioop as compat
from inwhale_hw.plugins.g711.model import ALaw, MuLaw
from timing import best_times

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

LAWS = {
    "mulaw": (MuLaw, audioop.lin2ulaw, audioop.ulaw2lin, compat.lin2ulaw, compat.ulaw2lin),
    "alaw": (ALaw, audioop.lin2alaw, audioop.alaw2lin, compat.lin2alaw, compat.alaw2lin),
}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    pcm = np.clip(np.round(rng.normal(0, 6000, args.samples)), -32768, 32767).astype(np.int16)
    pcm_bytes = pcm.tobytes()
    n = args.samples
    print(f"{n} samples (seed {args.seed}), best of {args.repeat}; rates in M samples/s\n")
    print(f"{'law':6s} {'op':7s} {'audioop':>9s} {'plugin':>9s} {'ratio':>7s} {'compat':>9s} {'ratio':>7s}")
    for law, (cls, a_enc, a_dec, c_enc, c_dec) in LAWS.items():
        q = cls(flavor="audioop")
        codes = a_enc(pcm_bytes, 2)
        code_array = np.frombuffer(codes, dtype=np.uint8)
        if q.encode(pcm).tobytes() != codes or c_enc(pcm_bytes, 2) != codes:
            raise SystemExit(f"{law}: encoder output differs from audioop")
        if q.decode(code_array).tobytes() != a_dec(codes, 2) or c_dec(codes, 2) != a_dec(codes, 2):
            raise SystemExit(f"{law}: decoder output differs from audioop")
        cases = {
            "encode": (lambda: a_enc(pcm_bytes, 2), lambda: q.encode(pcm), lambda: c_enc(pcm_bytes, 2)),
            "decode": (lambda: a_dec(codes, 2), lambda: q.decode(code_array), lambda: c_dec(codes, 2)),
        }
        for op, fns in cases.items():
            rates = [n / t / 1e6 for t in best_times(list(fns), args.repeat)]
            print(
                f"{law:6s} {op:7s} {rates[0]:9.0f} {rates[1]:9.0f} {rates[1] / rates[0]:6.2f}x"
                f" {rates[2]:9.0f} {rates[2] / rates[0]:6.2f}x"
            )


if __name__ == "__main__":
    main()
