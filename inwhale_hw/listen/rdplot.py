"""Rate-distortion plots of the listening page: one inline SVG scatter per quality measure.

Every codec/configuration run on an input is one point: x = its bit rate (payload bit/s when
the coded size is known, else the nominal ``bits_per_sample * rate * channels``) on a log2
axis, y = a quality number (segmental SNR in dB, or PESQ MOS-LQO).  Points are labelled with
the codec name and carry a ``<title>`` tooltip with the exact values.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

__all__ = ["RdPoint", "rd_svg"]

#: (label, bits per second, quality value)
RdPoint = tuple[str, float, float]

_W, _H, _L, _R, _T, _B = 520, 260, 48, 16, 22, 34


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / (count - 1)
    return [lo + i * step for i in range(count)]


def rd_svg(points: Sequence[RdPoint], y_label: str, title: str) -> str:
    """An SVG scatter of ``points`` (non-finite values and rates <= 0 are left out; "" if none remain)."""
    pts = [(lab, r, v) for lab, r, v in points if r > 0 and math.isfinite(r) and math.isfinite(v)]
    if not pts:
        return ""
    xs = [math.log2(r) for _, r, _ in pts]
    ys = [v for _, _, v in pts]
    x0, x1 = min(xs) - 0.25, max(xs) + 0.25
    y0, y1 = min(ys), max(ys)
    pad = max(0.5, 0.08 * (y1 - y0))
    y0, y1 = y0 - pad, y1 + pad

    def px(x: float) -> float:
        return _L + (x - x0) / (x1 - x0) * (_W - _L - _R)

    def py(y: float) -> float:
        return _H - _B - (y - y0) / (y1 - y0) * (_H - _T - _B)

    parts = [
        f'<rect x="{_L}" y="{_T}" width="{_W - _L - _R}" height="{_H - _T - _B}" fill="#fff" stroke="#d9dee8"/>',
        f'<text x="{_W / 2}" y="14" font-size="12" text-anchor="middle">{html.escape(title)}</text>',
        f'<text x="{_W / 2}" y="{_H - 4}" font-size="10" text-anchor="middle">bit rate (kbit/s, log scale)</text>',
        f'<text x="12" y="{_H / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 12 {_H / 2})">{html.escape(y_label)}</text>',
    ]
    for t in _ticks(y0, y1):
        parts.append(f'<text x="{_L - 4}" y="{py(t) + 3:.1f}" font-size="9" text-anchor="end">{t:.1f}</text>')
    for k in range(math.ceil(x0), math.floor(x1) + 1):
        parts.append(
            f'<line x1="{px(k):.1f}" x2="{px(k):.1f}" y1="{_T}" y2="{_H - _B}" stroke="#eef0f5"/>'
            f'<text x="{px(k):.1f}" y="{_H - _B + 12}" font-size="9" text-anchor="middle">{2.0 ** k / 1000:g}</text>'
        )
    for (lab, r, v), x in zip(pts, xs):
        parts.append(
            f'<g class="rd-point"><circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="4" fill="#0b6e8a">'
            f"<title>{html.escape(lab)}: {r / 1000:g} kbit/s, {v:.3f}</title></circle>"
            f'<text x="{px(x) + 6:.1f}" y="{py(v) - 5:.1f}" font-size="9">{html.escape(lab)}</text></g>'
        )
    return (
        f'<svg class="rd" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{html.escape(title)}">{"".join(parts)}</svg>'
    )
