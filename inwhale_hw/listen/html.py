"""HTML of the listening page: one self-contained file, offline, relative links only.

No CDN, web font or external script: the CSS and one small script are inline.  The script
checks that the browser can load every ``<audio>`` element's metadata and records the
outcome in the DOM: each element gets ``data-status="ok"`` or ``"error"``, and the element
``#audio-status`` gets ``data-status`` ``"ok"``/``"error"`` plus ``data-ok``/``data-total``
counts once all have settled (visible to readers as a footer line, used by the tests).
"""

from __future__ import annotations

import html
import math
from typing import Any

from .rdplot import rd_svg
from .views import CodecView, FailedCodec, InputView, PageView, TrackView

__all__ = ["render_page"]

_CSS = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dee8; --accent: #0b6e8a; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; font: 15px/1.45 system-ui, -apple-system,
       "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #f7f8fb; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 32px 0 4px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 0 0 4px; }
p.meta, .muted { color: var(--muted); margin: 2px 0; font-size: 13px; }
.note { background: #fff6e0; border: 1px solid #f0d48a; padding: 8px 12px; border-radius: 6px; }
table { border-collapse: collapse; margin: 12px 0; background: #fff; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
th { background: #eef1f6; }
td.name, th.name, td.params { text-align: left; }
.tracks { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 12px; }
.table-wrap { max-width: 100%; overflow-x: auto; }
@media (max-width: 600px) {
  body { padding: 10px; font-size: 14px; }
  table.metrics, table.metrics tbody, table.metrics tr, table.metrics td { display: block; width: 100%; }
  table.metrics tr.head { display: none; }
  table.metrics tr { border: 1px solid var(--line); margin-bottom: 8px; }
  table.metrics td { border: none; border-bottom: 1px solid #eef1f6; text-align: right; padding: 3px 8px; }
  table.metrics td::before { content: attr(data-label); float: left; color: var(--muted); padding-right: 8px; }
  table.metrics td.params { text-align: right; font-size: 12px; }
}
.track, article.codec { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
article.codec { margin: 14px 0; }
article.failed, tr.failed td { color: #a11; } p.error { font-family: monospace; white-space: pre-wrap; }
.track audio { width: 100%; }
.track img { width: 100%; height: auto; display: block; margin-top: 6px; }
.track .label { font-weight: 600; text-transform: capitalize; }
code { background: #eef1f6; padding: 0 4px; border-radius: 3px; }
a { color: var(--accent); }
svg.hist { background: #fff; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
"""

_SCRIPT = """
(function () {
  var audios = Array.prototype.slice.call(document.querySelectorAll("audio"));
  var status = document.getElementById("audio-status");
  var pending = audios.length, ok = 0, failed = [];
  function finish() {
    status.setAttribute("data-ok", String(ok));
    status.setAttribute("data-total", String(audios.length));
    status.setAttribute("data-status", failed.length ? "error" : "ok");
    status.textContent = failed.length
      ? "This browser could not load: " + failed.join(", ")
      : "All " + audios.length + " audio files loaded in this browser.";
  }
  function settle(a, good) {
    if (a.hasAttribute("data-status")) { return; }
    a.setAttribute("data-status", good ? "ok" : "error");
    if (good) { ok += 1; } else { failed.push(a.getAttribute("src")); }
    pending -= 1;
    if (pending === 0) { finish(); }
  }
  audios.forEach(function (a) {
    var check = function () { settle(a, a.duration > 0); };
    if (a.readyState >= 1) { check(); return; }
    a.addEventListener("loadedmetadata", check);
    a.addEventListener("error", function () { settle(a, false); });
  });
  if (audios.length === 0) { finish(); }
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, str):
        return {"inf": "∞", "-inf": "−∞", "nan": "n/a"}.get(value, value)
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "(none)"


def _track(track: "TrackView", title: str) -> str:
    img = (
        f'<a href="{_e(track.png)}" title="open the spectrogram full size">'
        f'<img src="{_e(track.png)}" alt="spectrogram of {_e(title)}" loading="lazy"></a>'
        if track.png
        else ""
    )
    caption = f'<p class="muted">{_e(track.caption)}</p>' if track.caption else ""
    return (
        f'<div class="track"><div class="label">{_e(track.label)}</div>'
        f'<audio controls preload="metadata" src="{_e(track.wav)}"></audio>{caption}{img}</div>'
    )


def _histogram_svg(edges: list[float], counts: list[int]) -> str:
    """A small bar chart of the error histogram (bar height ~ log(1 + count))."""
    if not counts:
        return ""
    width, height, pad = 300, 90, 14
    bar = (width - 2 * pad) / len(counts)
    top = math.log1p(max(counts)) or 1.0
    bars = []
    for i, c in enumerate(counts):
        h = (height - 2 * pad) * math.log1p(c) / top
        bars.append(
            f'<rect x="{pad + i * bar:.2f}" y="{height - pad - h:.2f}" width="{max(bar - 0.5, 0.5):.2f}" '
            f'height="{h:.2f}" fill="#0b6e8a"><title>[{edges[i]:g}, {edges[i + 1]:g}): {c}</title></rect>'
        )
    return (
        f'<svg class="hist" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="error histogram">{"".join(bars)}'
        f'<text x="{pad}" y="{height - 2}" font-size="9">{edges[0]:g}</text>'
        f'<text x="{width - pad}" y="{height - 2}" font-size="9" text-anchor="end">{edges[-1]:g}</text>'
        f'<text x="{width / 2}" y="10" font-size="9" text-anchor="middle">error histogram (log count)</text></svg>'
    )


def _kbps(value: Any) -> str:
    return _fmt(value / 1000.0, 1) if isinstance(value, (int, float)) else "n/a"


def _metrics_table(view: "InputView") -> str:
    speech = _speech_shown(view)
    labels = ("codec", "parameters", "bit/sample", "bitrate kbit/s", "payload kbit/s", "SNR dB", "segSNR dB",
              "segSNR unclamped dB", "max |error|", "residual gain") + (_SPEECH_LABELS if speech else ())
    head = "<tr class='head'>" + "".join(
        f'<th class="name">{_e(t)}</th>' if i < 2 else f"<th>{_e(t)}</th>" for i, t in enumerate(labels)
    ) + "</tr>"
    rows = []
    for c in view.codecs:
        m = c.record["metrics"]
        cells = (
            ("name", f"<a href='#{_e(view.slug)}-{_e(c.slug)}'>{_e(c.codec)}</a>"),
            ("params", _e(_params_text(c.params))),
            ("num", _fmt(m["bits_per_sample"], 2)),
            ("num", _kbps(m["bitrate_bps"])),
            ("num", _kbps(m["payload_bitrate_bps"])),
            ("num", _fmt(m["snr_db"])),
            ("num", _fmt(m["segmental_snr_db"])),
            ("num", _fmt(m.get("segmental_snr_unclamped_db"))),
            ("num", _fmt(m["max_abs_error"])),
            ("num", _e(c.gain_text)),
        ) + (tuple(("num speech", _fmt((c.record.get("speech_metrics") or {}).get(k), 3)) for k in _SPEECH_KEYS)
             if speech else ())
        rows.append("<tr>" + "".join(
            f'<td class="{k}" data-label="{_e(label)}">{v}</td>'
            for label, (k, v) in zip(labels, cells)
        ) + "</tr>")
    for f in view.failed:
        rows.append(
            f"<tr class='failed'><td class='name' data-label='codec'><a href='#{_e(view.slug)}-{_e(f.slug)}'>"
            f"{_e(f.codec)}</a></td><td class='params' colspan='{len(labels) - 1}' data-label='result'>failed: {_e(f.error)}</td></tr>"
        )
    frames = sorted({c.record["metrics"]["segmental_snr_frame_samples"] for c in view.codecs})
    if len(frames) == 1:
        frame_text = f"{frames[0]}-sample frames"
    else:
        frame_text = "frames of " + ", ".join(
            f"{c.record['metrics']['segmental_snr_frame_samples']} samples ({c.codec})" for c in view.codecs
        )
    clamp = view.codecs[0].record["metrics"]["segmental_snr_clamp_db"] if view.codecs else None
    note = (
        f"<p class='muted'>SNR over the whole signal; segSNR: mean of per-frame SNRs over {_e(frame_text)}, "
        f"each clamped to {clamp} dB; the unclamped segSNR averages the per-frame SNRs of the frames with "
        f"signal and error (not pinned at the clamp for high-quality codecs). Error = input - decoded, at the "
        f"input's rate.</p>{_speech_note(view, speech)}"
        if view.codecs
        else ""
    )
    return f"<div class='table-wrap'><table class='metrics'>{head}{''.join(rows)}</table></div>{note}{_rd_plots(view)}"


_SPEECH_KEYS = ("pesq_nb", "pesq_wb", "stoi", "estoi")
_SPEECH_LABELS = ("PESQ-NB (speech)", "PESQ-WB (speech)", "STOI (speech)", "ESTOI (speech)")


def _speech_shown(view: "InputView") -> bool:
    return any((c.record.get("speech_metrics") or {}).get("shown") for c in view.codecs)


def _speech_note(view: "InputView", shown: bool) -> str:
    """What the speech metrics are, or why they are not shown."""
    records = [c.record.get("speech_metrics") for c in view.codecs if c.record.get("speech_metrics")]
    if not records:
        return ""
    first = records[0]
    if not shown:
        return f"<p class='muted speech-note'>Speech metrics (PESQ, STOI) not shown: {_e(first['decision'])}.</p>"
    spans = "; ".join(f"{e['start_s']:.2f} s + {e['duration_s']:.2f} s" for e in first.get("excerpts", []))
    return (
        "<p class='note speech-note'><b>Speech metrics</b> — they model human judgement of <i>speech</i> and mean "
        "nothing for music. PESQ: ITU-T P.862 narrowband (MOS-LQO, P.862.1) at 8 kHz and P.862.2 wideband at "
        "16 kHz (inputs of at least 16 kHz only); STOI and ESTOI at 10 kHz; each excerpt is resampled to that "
        f"rate. Decision: {_e(first['decision'])}. Excerpts ({_e(first['excerpt_rule'])}): {_e(spans)}.</p>"
    )


def _rd_plots(view: "InputView") -> str:
    """Rate-distortion scatter plots: bit rate vs segSNR, and vs PESQ where it was computed."""
    def rate(c: "CodecView") -> float:
        m = c.record["metrics"]
        value = m.get("payload_bitrate_bps") or m.get("bitrate_bps")
        return float(value) if isinstance(value, (int, float)) else math.nan

    def num(value: Any) -> float:
        return float(value) if isinstance(value, (int, float)) else math.nan

    label = {c.slug: f"{c.codec} {_params_text(c.params)}".strip() for c in view.codecs}
    plots = [rd_svg([(label[c.slug], rate(c), num(c.record["metrics"]["segmental_snr_db"])) for c in view.codecs],
                    "segSNR (dB)", f"{view.name}: bit rate vs segSNR")]
    if _speech_shown(view):
        for key, name in (("pesq_nb", "PESQ-NB"), ("pesq_wb", "PESQ-WB")):
            pts = [(label[c.slug], rate(c), num((c.record.get("speech_metrics") or {}).get(key))) for c in view.codecs]
            plots.append(rd_svg(pts, f"{name} (MOS-LQO)", f"{view.name}: bit rate vs {name} (speech)"))
    body = "".join(p for p in plots if p)
    return f"<div class='rd-plots'>{body}</div>" if body else ""


def _codec_article(view: "InputView", c: "CodecView") -> str:
    return (
        f"<article class='codec' id='{_e(view.slug)}-{_e(c.slug)}'>"
        f"<h3>{_e(c.codec)} <span class='muted'>{_e(_params_text(c.params))}</span></h3>"
        f"<p class='muted'>{_e(c.summary)} — coded as {_e(c.coded_description)}: "
        f"<a href='{_e(c.coded_link)}'>coded file</a>, <a href='{_e(c.metrics_link)}'>metrics.json</a></p>"
        + (f"<p class='note'>{_e(c.rate_note)}</p>" if c.rate_note else "")
        + f"<div class='tracks'>{_track(view.original, f'{view.name} original')}"
        f"{_track(c.decoded, f'{c.codec} decoded')}"
        f"{_track(c.residual, f'{c.codec} residual')}</div>"
        f"{_histogram_svg(*c.histogram)}</article>"
    )


def _failed_article(view: "InputView", f: "FailedCodec") -> str:
    return (
        f"<article class='codec failed' id='{_e(view.slug)}-{_e(f.slug)}'><h3>{_e(f.codec)}</h3>"
        f"<p class='error'>failed: {_e(f.error)}</p></article>"
    )


def _input_section(view: "InputView") -> str:
    conv = f"<p class='muted'>{_e(view.conversion)}</p>" if view.conversion else ""
    return (
        f"<section id='{_e(view.slug)}'><h2>{_e(view.name)}</h2>"
        f"<p class='meta'>{_e(view.description)}</p>{conv}"
        f"<div class='tracks'>{_track(view.original, f'{view.name} original')}</div>"
        f"{_metrics_table(view)}{''.join(_codec_article(view, c) for c in view.codecs)}"
        f"{''.join(_failed_article(view, f) for f in view.failed)}</section>"
    )


def render_page(page: "PageView") -> str:
    """The complete ``index.html`` text."""
    note = f"<p class='note'>Spectrograms omitted: {_e(page.spectrogram_note)}</p>" if page.spectrogram_note else ""
    toc = " · ".join(f"<a href='#{_e(v.slug)}'>{_e(v.name)}</a>" for v in page.inputs)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>inwhale-hw listening page</title><link rel='icon' href='data:,'>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>Listening page</h1>"
        f"<p class='meta'>Codecs: {_e(', '.join(page.codecs) or '(none)')} · Inputs: {toc}</p>"
        "<p class='muted'>For each input: the original (after conversion to int16), then per codec the "
        "decoded signal and the residual (input − decoded). Spectrograms share one colour scale "
        "(−120…0 dB re full-scale white noise); stereo and multichannel inputs are drawn with their "
        "channels averaged, long inputs with groups of STFT frames averaged per column. Click a "
        "spectrogram to open it full size.</p>"
        f"{note}{''.join(_input_section(v) for v in page.inputs)}"
        f"<footer><p id='audio-status' data-status='pending'>Checking audio files…</p>"
        f"<p>Generated by {_e(page.generator)}.</p></footer>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
