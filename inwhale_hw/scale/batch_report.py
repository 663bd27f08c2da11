"""What ``inwhale-hw batch`` writes: tables, summary, plots and an HTML page.

``OUT/results.csv`` and ``OUT/results.parquet``: one row per (file, codec configuration);
``OUT/summary.csv`` and ``OUT/summary.md``: per configuration, count and mean / median /
10th / 90th percentile of SNR and segmental SNR, and the mean bit rate; ``OUT/failures.csv``
when tasks failed; ``OUT/rate_distortion.png`` (segmental SNR against bit rate, one point per
configuration at its median with the 10-90 % range as a bar, coloured by codec family) and
``OUT/distribution.png`` (per-file segmental SNR per configuration); ``OUT/index.html`` links
all of it and, per configuration, a listening page (``OUT/pages/<n>/index.html``) with the
files of best, median and worst segmental SNR.
"""

from __future__ import annotations

import functools

import html
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..audio.atomic import atomic_path, atomic_write_text
from .batch import BatchResult, CodecConfig
from .corpus import CorpusItem
from .tables import markdown, parquet_available, summarize, write_csv, write_parquet

__all__ = ["write_batch_outputs", "pick_examples", "FIRST_COLUMNS"]

FIRST_COLUMNS = ("file", "codec", "config", "input_rate", "codec_rate", "channels", "frames", "duration_s",
                 "snr_db", "segsnr_db", "segsnr_frame", "max_abs_error", "bits_per_sample", "bitrate_bps",
                 "payload_bitrate_bps", "segsnr_unclamped_db", "speech", "pesq_nb", "pesq_wb", "stoi", "estoi")
METRICS = ("snr_db", "segsnr_db", "bitrate_bps")


def pick_examples(rows: Sequence[dict[str, Any]], config: str) -> dict[str, str]:
    """Files of worst, median and best segmental SNR for ``config`` (ties broken by file name)."""
    members = sorted((r for r in rows if r["config"] == config), key=lambda r: (float(r["segsnr_db"]), r["file"]))
    if not members:
        return {}
    return {"worst": members[0]["file"], "median": members[(len(members) - 1) // 2]["file"], "best": members[-1]["file"]}


def _plots(rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], out: Path) -> list[str]:
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = list(dict.fromkeys(r["codec"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in summary:
        members = [r for r in rows if r["config"] == s["config"]]
        family = members[0]["codec"]
        color = f"C{families.index(family) % 10}"
        rate = float(np.median([float(r["bitrate_bps"]) for r in members if r.get("bitrate_bps") is not None] or [math.nan]))
        median = s.get("segsnr_db.median")
        if median is None or not math.isfinite(rate):
            continue
        ax.errorbar(rate / 1000, median, yerr=[[median - s["segsnr_db.p10"]], [s["segsnr_db.p90"] - median]],
                    fmt="o", color=color, capsize=3)
        ax.annotate(s["config"], (rate / 1000, median), fontsize=7, xytext=(4, 2), textcoords="offset points")
    for family in families:
        ax.plot([], [], "o", color=f"C{families.index(family) % 10}", label=family)
    ax.set_xlabel("bit rate (kbit/s)")
    ax.set_ylabel("segmental SNR (dB), median and 10-90 %")
    ax.set_title(f"Rate-distortion over {len({r['file'] for r in rows})} files")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "rate_distortion.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)

    configs = [s["config"] for s in summary]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(configs) + 2), 4.5))
    data = [[float(r["segsnr_db"]) for r in rows if r["config"] == c and math.isfinite(float(r["segsnr_db"]))] or [math.nan]
            for c in configs]
    ax.boxplot(data, showfliers=True)
    ax.set_xticks(range(1, len(configs) + 1))
    ax.set_xticklabels(configs, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("segmental SNR (dB) per file")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    with atomic_path(out / "distribution.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return ["rate_distortion.png", "distribution.png"]


def _pages(rows, configs: Sequence[CodecConfig], items: Sequence[CorpusItem], rate, out: Path,
           progress: Callable[[str], None]) -> dict[str, tuple[str, dict[str, str]]]:
    from ..audio.stream import open_audio
    from ..listen import PageInput, build_listening_page

    by_name = {item.name: item for item in items}
    links = {}
    for n, config in enumerate(configs):
        picks = pick_examples(rows, config.label)
        if not picks:
            continue
        names = list(dict.fromkeys(picks[k] for k in ("best", "median", "worst")))
        inputs = [PageInput(name, functools.partial(open_audio, by_name[name].path, rate=rate)) for name in names]
        (out / "pages").mkdir(exist_ok=True)  # atomic outputs never create parents themselves
        page = build_listening_page(inputs, [config.build()], out / "pages" / str(n))
        links[config.label] = (page.relative_to(out).as_posix(), picks)
        progress(config.label)
    return links


def _index(summary, plots, links, result: BatchResult, files: list[str]) -> str:
    esc = html.escape
    cells = ["config", "files", "snr_db.median", "segsnr_db.mean", "segsnr_db.median", "segsnr_db.p10",
             "segsnr_db.p90", "bitrate_bps.mean"]
    head = "".join(f"<th>{esc(c)}</th>" for c in cells) + "<th>listen</th>"
    body = []
    for s in summary:
        tds = "".join(f"<td>{esc(_num(s.get(c)))}</td>" for c in cells)
        link = links.get(s["config"])
        listen = (f'<a href="{esc(link[0])}">best / median / worst</a>' if link else "")
        body.append(f"<tr>{tds}<td>{listen}</td></tr>")
    imgs = "".join(f'<p><a href="{p}"><img src="{p}" style="max-width:100%"></a></p>' for p in plots)
    fail = f"<p>{len(result.failures)} task(s) failed: see <a href=\"failures.csv\">failures.csv</a>.</p>" if result.failures else ""
    tables = ", ".join(f'<a href="{f}">{f}</a>' for f in files)
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>inwhale-hw batch</title>"
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
        f"<h1>Batch: {len(result.rows)} results</h1><p>Tables: {tables}</p>{fail}"
        f"<table><tr>{head}</tr>{''.join(body)}</table>{imgs}</body></html>\n"
    )


def _num(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.2f}"
    return "" if value is None else str(value)


def write_batch_outputs(result: BatchResult, configs: Sequence[CodecConfig], items: Sequence[CorpusItem], out_dir,
                        *, rate: int | None = None, pages: bool = True,
                        progress: Callable[[str], None] = lambda label: None) -> dict[str, Path]:
    """Write every output of the module docstring into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    written = {"results.csv": write_csv(out / "results.csv", result.rows, FIRST_COLUMNS)}
    if parquet_available():
        written["results.parquet"] = write_parquet(out / "results.parquet", result.rows, FIRST_COLUMNS)
    summary = summarize(result.rows, "config", METRICS)
    written["summary.csv"] = write_csv(out / "summary.csv", summary, ("config", "files"))
    cols = ["config", "files", "snr_db.median", "segsnr_db.mean", "segsnr_db.median", "segsnr_db.p10", "segsnr_db.p90",
            "bitrate_bps.mean"]
    atomic_write_text(out / "summary.md", markdown(summary, cols))
    written["summary.md"] = out / "summary.md"
    if result.failures:
        written["failures.csv"] = write_csv(out / "failures.csv", result.failures, ("file", "config", "error"))
    plots = _plots(result.rows, summary, out) if result.rows else []
    links = _pages(result.rows, configs, items, rate, out, progress) if pages and result.rows else {}
    files = [name for name in written if name != "summary.md"] + ["summary.md"]
    atomic_write_text(out / "index.html", _index(summary, plots, links, result, files))
    written["index.html"] = out / "index.html"
    return written
