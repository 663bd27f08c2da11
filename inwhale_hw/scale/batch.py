"""``inwhale-hw batch``: every codec configuration on every file of a corpus.

One task per (file, codec configuration).  A task reads its file (a path on a shared file
system, or the file's bytes when the workers cannot see the client's disk), runs the codec's
round trip through its real coded file (:func:`inwhale_hw.audio.roundtrip.run_roundtrip`) and
returns one flat row of numbers: the input's rate, channels, frames and duration, the codec's
parameters (``param.<name>``), SNR, segmental SNR (with its frame length), maximum absolute
error and the bit rates.  Timings are not part of a row, so the table is identical, value for
value, whatever the number of workers or the order tasks finish in.

Codec configurations come from ``-c``/``-p`` (as in ``listen``) or a TOML grid file::

    [[codec]]
    name = "ima-adpcm"
    params = { flavor = "standard" }          # fixed parameters
    grid = { method = ["search", "trellis"] }  # one configuration per combination

Results are stored per task as they finish (:class:`~.store.TaskStore`), keyed by the input
bytes, the configuration and the code (:mod:`.keys`), so re-running into the same directory
computes only what is missing.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import InputError, ParameterError
from ..speech import check_content_hint
from ..tomlfile import read_toml
from .corpus import CorpusItem
from .engine import Engine
from .keys import canonical_json, code_fingerprint, file_digest, task_key
from .store import TaskStore

__all__ = ["CodecConfig", "BatchResult", "load_grid", "expand_grid", "evaluate", "run_batch"]


@dataclass(frozen=True)
class CodecConfig:
    """A codec name with fixed parameter values (strings as on the command line, or TOML values)."""

    codec: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.codec}({inner})" if inner else self.codec

    def build(self):
        """The configured codec (validates the name and every parameter)."""
        from ..audio.codecs import make_codec

        return make_codec(self.codec, dict(self.params))


def expand_grid(codec: str, fixed: dict[str, Any] | None = None, grid: dict[str, Sequence[Any]] | None = None) -> list[CodecConfig]:
    """One :class:`CodecConfig` per combination of the ``grid`` values, each with ``fixed``."""
    fixed = dict(fixed or {})
    grid = dict(grid or {})
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ParameterError(f"codec {codec!r}: grid entry {key!r} must be a non-empty list, not {values!r}")
        if key in fixed:
            raise ParameterError(f"codec {codec!r}: parameter {key!r} is both fixed and in the grid")
    keys = sorted(grid)
    configs = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = {**fixed, **dict(zip(keys, combo))}
        configs.append(CodecConfig(codec, tuple(sorted(params.items()))))
    return configs


def load_grid(path: str | os.PathLike) -> list[CodecConfig]:
    """Codec configurations from a TOML grid file (see the module docstring)."""
    data = read_toml(path, "codec grid")
    entries = data.get("codec")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected one or more [[codec]] tables with a 'name'")
    configs: list[CodecConfig] = []
    for entry in entries:
        unknown = sorted(set(entry) - {"name", "params", "grid"})
        if "name" not in entry or unknown:
            raise InputError(f"{path}: a [[codec]] table takes name, params and grid; got {sorted(entry)}")
        configs += expand_grid(str(entry["name"]), entry.get("params"), entry.get("grid"))
    return configs


def evaluate(
    source: str | bytes, suffix: str, config: CodecConfig, rate: int | None, content: str = "auto"
) -> dict[str, Any]:
    """One task: the row for ``config`` on one input (a path, or the file's bytes).

    The round trip streams (:func:`inwhale_hw.audio.pipeline.roundtrip_files` into a temporary
    folder), so a task's memory is bounded by the block, not the file.  Metrics compare at
    the input's rate (a codec at another rate is resampled back), as ``roundtrip`` does.  Rows
    carry PESQ/STOI speech metrics when ``content`` (or, for ``auto``, the stated rule of
    :mod:`inwhale_hw.speech`) says the input is speech.
    """
    from ..audio.pipeline import roundtrip_files
    from ..audio.stream import open_audio

    q = config.build()
    with tempfile.TemporaryDirectory(prefix="inwhale-batch-") as tmp:
        path = Path(source) if isinstance(source, str) else Path(tmp) / f"input{suffix}"
        if isinstance(source, bytes):
            path.write_bytes(source)
        trip = roundtrip_files(lambda: open_audio(path, rate=rate), q, tmp, content=content)
    m, speech = trip.metrics, trip.speech or {}
    row: dict[str, Any] = {
        "codec": config.codec,
        "config": config.label,
        "input_rate": trip.rate,
        "codec_rate": trip.codec_rate,
        "channels": trip.channels,
        "frames": trip.frames,
        "duration_s": trip.frames / trip.rate,
        "snr_db": float(m.snr_db),
        "segsnr_db": float(m.segmental_snr_db),
        "segsnr_frame": int(m.segment_frame),
        "max_abs_error": float(m.max_abs_error),
        "bits_per_sample": m.bits_per_sample,
        "bitrate_bps": m.bitrate_bps,
        "payload_bitrate_bps": m.payload_bitrate_bps,
        "segsnr_unclamped_db": m.segmental_snr_unclamped_db,
        "speech": speech.get("decision"),
        **{k: speech.get(k) for k in ("pesq_nb", "pesq_wb", "stoi", "estoi")},
    }
    for key, value in sorted(q.params.items()):
        row[f"param.{key}"] = value.name if hasattr(value, "name") and not isinstance(value, str) else value
    return row


@dataclass
class BatchResult:
    """Rows in table order, the failed tasks, and how many tasks were reused from the store."""

    rows: list[dict[str, Any]]
    failures: list[dict[str, str]] = field(default_factory=list)
    reused: int = 0
    computed: int = 0


def run_batch(
    items: Sequence[CorpusItem],
    configs: Sequence[CodecConfig],
    out_dir: str | os.PathLike,
    engine: Engine,
    *,
    rate: int | None = None,
    force: bool = False,
    ship_bytes: bool = False,
    progress: Callable[[int, int], None] | None = None,
    content: str = "auto",
) -> BatchResult:
    """Run every configuration on every item (skipping stored results); rows sorted by file, config.

    ``content`` (``auto``/``speech``/``music``) decides the speech-metric columns (:func:`evaluate`).
    """
    check_content_hint(content)
    if not configs:
        raise ParameterError("no codec configuration to run")
    for config in configs:
        config.build()  # bad names or parameters fail here, before any task starts
    store = TaskStore(out_dir, force=force)
    code = code_fingerprint(*(config.build() for config in configs))
    keys: dict[tuple[int, int], str] = {}
    todo: list[tuple[str, tuple[Any, ...]]] = []
    queued: set[str] = set()
    for i, item in enumerate(items):
        digest = file_digest(item.path)
        payload: str | bytes = item.path.read_bytes() if ship_bytes else str(item.path.resolve())
        if ship_bytes and engine.parallel:
            payload = engine.share(payload)
        for j, config in enumerate(configs):
            key = task_key(input=digest, codec=config.codec, params=canonical_json(config.params), rate=rate, code=code, content=content)
            keys[i, j] = key
            if not store.done(key) and key not in queued:
                queued.add(key)
                todo.append((key, (payload, item.path.suffix, config, rate, content)))
    total = len(todo)

    def finished(key: str, row: dict[str, Any]) -> None:
        store.put(key, row)

    failures = engine.run(evaluate, todo, finished, progress=(lambda n: progress(n, total)) if progress else None)
    for failure in failures:
        store.put_error(failure.key, failure.error)
    return _collect(items, configs, keys, store, reused=len(keys) - total, computed=total)


def _collect(items, configs, keys, store: TaskStore, *, reused: int, computed: int) -> BatchResult:
    rows, failed = [], []
    for (i, j), key in sorted(keys.items()):
        record = store.get(key)
        item, config = items[i], configs[j]
        if record is None or not record.get("ok"):
            error = record.get("error", "no result") if record else "no result"
            failed.append({"file": item.name, "config": config.label, "error": error})
            continue
        rows.append({"file": item.name, **{f"meta.{k}": v for k, v in sorted(item.meta.items())}, **record["row"]})
    return BatchResult(rows, failed, reused=reused, computed=computed)
