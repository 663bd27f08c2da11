"""Result tables of ``batch`` and ``accel sweep``: CSV, Parquet, Markdown and summaries.

Rows are flat dicts.  Columns are ordered as given first, then every other key in sorted
order, so two runs with the same rows write byte-identical CSV.  Parquet goes through
``pyarrow`` (the ``cluster`` extra); without it only the CSV is written and a note says so.

Summary statistics per group (e.g. per codec configuration): count, mean, median and the
10th / 90th percentiles (NumPy's default linear interpolation) of each metric column, over
finite values; ``inf`` (a lossless codec's SNR) is reported as the number of infinite rows.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..audio.atomic import atomic_path, atomic_write_text

__all__ = ["columns", "csv_text", "write_csv", "write_parquet", "summarize", "markdown", "parquet_available"]


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def columns(rows: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> list[str]:
    """``first`` (those present), then every other key of ``rows`` in sorted order."""
    keys = {k for row in rows for k in row}
    return [c for c in first if c in keys] + sorted(keys - set(first))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_text(rows: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> str:
    cols = columns(rows, first)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in cols])
    return buffer.getvalue()


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> Path:
    atomic_write_text(path, csv_text(rows, first))
    return Path(path)


def write_parquet(path: str | os.PathLike, rows: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> Path | None:
    """Write ``rows`` as Parquet; ``None`` when pyarrow is not installed."""
    if not parquet_available():
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(rows, first)
    data = {}
    for c in cols:
        values = [row.get(c) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds and kinds <= {int, float, bool} and not (bool in kinds and kinds != {bool}):
            data[c] = values
        else:
            data[c] = [None if v is None else str(v) for v in values]
    table = pa.table(data)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def summarize(rows: Iterable[dict[str, Any]], group: str, metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Per value of ``group`` (first-seen order): count and statistics of each metric."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[group], []).append(row)
    out = []
    for key, members in groups.items():
        record: dict[str, Any] = {group: key, "files": len(members)}
        for metric in metrics:
            values = np.array([float(r[metric]) for r in members if r.get(metric) is not None], dtype=np.float64)
            finite = values[np.isfinite(values)]
            record[f"{metric}.inf"] = int(np.count_nonzero(np.isinf(values)))
            if finite.size:
                record[f"{metric}.mean"] = float(np.mean(finite))
                record[f"{metric}.median"] = float(np.median(finite))
                record[f"{metric}.p10"] = float(np.percentile(finite, 10))
                record[f"{metric}.p90"] = float(np.percentile(finite, 90))
        out.append(record)
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}" if abs(value) >= 1e4 or value != round(value, 2) else f"{value:g}"
    return "" if value is None else str(value)


def markdown(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    """A Markdown table of ``cols``."""
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"
