"""Line charts as SVG text, drawn by our own code: the report needs no plotting library and stays byte-identical
for the same numbers (no fonts measured, no timestamps, every coordinate rounded)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 34, 46
COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad")


@dataclass
class Series:
    label: str
    xs: list[float]
    ys: list[float]
    errors: list[float] | None = None  # +- per point, drawn as whiskers


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.6g}"


def line_chart(series: list[Series], *, title: str, x_label: str, y_label: str) -> str:
    """An SVG line chart of one or more series sharing the axes."""
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y, e in zip(s.ys, s.errors or [0.0] * len(s.ys)) for y in (y - e, y + e)]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
    y_ticks = nice_ticks(min(ys, default=0.0), max(ys, default=1.0))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(x: float) -> float:
        return round(MARGIN_LEFT + (x - x0) / ((x1 - x0) or 1) * plot_w, 2)

    def py(y: float) -> float:
        return round(MARGIN_TOP + plot_h - (y - y0) / ((y1 - y0) or 1) * plot_h, 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<title>{escape(title)}</title>',
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for t in y_ticks:
        out.append(f'<line x1="{MARGIN_LEFT}" y1="{py(t)}" x2="{WIDTH - MARGIN_RIGHT}" y2="{py(t)}" '
                   'stroke="#e3e3e3"/>')
        out.append(f'<text x="{MARGIN_LEFT - 6}" y="{py(t) + 4}" text-anchor="end">{_label(t)}</text>')
    for t in x_ticks:
        out.append(f'<line x1="{px(t)}" y1="{MARGIN_TOP + plot_h}" x2="{px(t)}" y2="{MARGIN_TOP + plot_h + 4}" '
                   'stroke="#555555"/>')
        out.append(f'<text x="{px(t)}" y="{MARGIN_TOP + plot_h + 18}" text-anchor="middle">{_label(t)}</text>')
    out.append(f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               'stroke="#555555"/>')
    out.append(f'<text x="{MARGIN_LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="16" y="{MARGIN_TOP + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {MARGIN_TOP + plot_h / 2})">{escape(y_label)}</text>')
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        points = sorted(zip(s.xs, s.ys, s.errors or [0.0] * len(s.xs)))
        if len(points) > 1:
            path = " ".join(f"{px(x)},{py(y)}" for x, y, _ in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, e in points:
            if e:
                out.append(f'<line x1="{px(x)}" y1="{py(y - e)}" x2="{px(x)}" y2="{py(y + e)}" stroke="{colour}"/>')
            out.append(f'<circle cx="{px(x)}" cy="{py(y)}" r="3.5" fill="{colour}"/>')
        if len(series) > 1:
            out.append(f'<text x="{MARGIN_LEFT + 8}" y="{MARGIN_TOP + 16 + 16 * i}" fill="{colour}">'
                       f'{escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
