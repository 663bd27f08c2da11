"""Running a batch in chunks of images, and merging the per-chunk op results.

Every operator the simulator runs treats the images of a batch independently, so the batch can
be cut along axis 0 and run chunk by chunk with identical results; chunks whose largest tensor
has about 2^18 elements keep each operator's temporaries in the CPU caches (whole-batch int64
temporaries of many megabytes cost more in page faults than in arithmetic: the digits CNN runs
about 1.5x faster in chunks of 256-512 images than as one batch of 1797).  A graph that mixes images
(a Reshape folding the batch, a Flatten with axis 0, ...) is detected by an output whose first
dimension is not the chunk's, and then runs as one batch.

Merged results: outputs are concatenated along axis 0, counts add, accumulator statistics merge
with :func:`merge_stats`, and the MAC shape ``(groups, M, N, K)``
adds the batch dimension back (``M`` for convolutions and 2-D products, ``groups`` for batched
MatMuls), so cycle estimates are those of the whole batch.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import FixedPointOverflowError
from ..nn import AccumulatorStats
from ..nn.accumulate import signed_bits_needed
from .context import OpResult

__all__ = ["NotSeparable", "PROBE_IMAGES", "TARGET_ELEMENTS", "check_separable", "merge_results", "merge_stats",
           "run_chunked"]

#: images in the first chunk of an automatic split
PROBE_IMAGES = 128
#: elements of the largest tensor per chunk (int64: 2 MiB) in an automatic split
TARGET_ELEMENTS = 1 << 18


class NotSeparable(Exception):
    """An op's output does not keep the image batch on axis 0."""


def check_separable(result: OpResult, batch: int) -> None:
    if any(o.ndim == 0 or o.shape[0] != batch for o in result.outputs):
        raise NotSeparable


def merge_stats(parts: list[AccumulatorStats]) -> AccumulatorStats:
    """Statistics of one layer computed in several batch chunks: counts add, peaks and bounds
    take the maximum."""
    first = parts[0]
    peak = max(p.peak for p in parts)
    bound = max(p.bound for p in parts)
    return AccumulatorStats(
        acc_bits=first.acc_bits, overflow=first.overflow, outputs=sum(p.outputs for p in parts), k=first.k,
        overflowed=sum(p.overflowed for p in parts), final_out_of_range=sum(p.final_out_of_range for p in parts),
        peak=peak, peak_is_partial=first.peak_is_partial, bits_needed=signed_bits_needed(peak),
        bound=bound, bound_bits=signed_bits_needed(bound),
    )


def merge_results(parts: list[OpResult]) -> OpResult:
    """One op's chunk results as if the whole batch had run at once."""
    first = parts[0]
    merged = OpResult([np.concatenate([p.outputs[i] for p in parts]) for i in range(len(first.outputs))], first.engine)
    merged.macs = sum(p.macs for p in parts)
    merged.vector_elements = sum(p.vector_elements for p in parts)
    if first.mac_shape is not None:
        groups = [p.mac_shape[0] for p in parts]
        g, m, n, k = first.mac_shape
        if len(set(groups)) > 1:
            merged.mac_shape = (sum(groups), m, n, k)
        else:
            merged.mac_shape = (g, sum(p.mac_shape[1] for p in parts), n, k)
    if first.acc is not None:
        merged.acc = merge_stats([p.acc for p in parts])
    if first.clamped is not None:
        merged.clamped = (sum(p.clamped[0] for p in parts), sum(p.clamped[1] for p in parts))
    return merged


def run_chunked(run_ops: Callable, feeds: dict[str, np.ndarray], batch: int, chunk: int | str):
    """``run_ops(feeds, expect_batch) -> (list of (OpResult, seconds), tensors)`` over chunks of
    images (``tensors``: the feeds and every op output); returns the merged list and the
    concatenated tensors.

    ``chunk`` is a number of images, or ``"auto"``: a first chunk of :data:`PROBE_IMAGES`
    images measures the largest tensor per image ``E``, and the rest runs in chunks of
    ``max(PROBE_IMAGES, TARGET_ELEMENTS // E)`` images.
    """
    per_chunk, envs = [], []
    start, size = 0, PROBE_IMAGES if chunk == "auto" else int(chunk)
    while start < batch:
        stop = min(start + size, batch)
        try:
            results, env = run_ops({k: v[start:stop] for k, v in feeds.items()}, stop - start)
        except FixedPointOverflowError as exc:
            raise FixedPointOverflowError(f"{exc} (in images {start}..{stop - 1} of the batch)", count=exc.count,
                                          first_index=exc.first_index) from None
        if chunk == "auto" and start == 0:
            per_image = max(o.size for r, _ in results for o in r.outputs) // (stop - start)
            size = max(PROBE_IMAGES, TARGET_ELEMENTS // max(per_image, 1))
        per_chunk.append(results)
        envs.append(env)
        start = stop
    merged = [(merge_results([c[i][0] for c in per_chunk]), sum(c[i][1] for c in per_chunk))
              for i in range(len(per_chunk[0]))]
    return merged, {name: np.concatenate([e[name] for e in envs]) for name in envs[0]}
