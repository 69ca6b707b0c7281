"""The report's pictures of the sitting, as SVG text drawn by our own code (as charts.py): a coverage timeline per
source file and the 2-D map of real frames and fakes. Every mark carries its numbers as data- attributes, so a
reader (or a test) can take them back out of the HTML."""

from __future__ import annotations

from html import escape

from evaluation.charts import nice_ticks
from training.footage.timecode import format_clock

TIMELINE_W, TIMELINE_H = 640, 96
LEFT, RIGHT, TOP, BOTTOM = 20, 20, 26, 30
MAP_SIZE = 480
MAP_PAD = 16
TIME_COLOURS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))  # viridis stops
COVERED, UNCOVERED, UNJUDGED = (46, 139, 87), (192, 57, 43), (200, 200, 200)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def _mix(a: tuple, b: tuple, t: float) -> tuple:
    return tuple(x + (y - x) * t for x, y in zip(a, b))


def time_colour(t: float) -> str:
    """Early (dark violet) to late (yellow) for t in [0, 1]."""
    t = min(max(t, 0.0), 1.0) * (len(TIME_COLOURS) - 1)
    i = min(int(t), len(TIME_COLOURS) - 2)
    return _hex(_mix(TIME_COLOURS[i], TIME_COLOURS[i + 1], t - i))


def _time_label(value: float, unit: str) -> str:
    return format_clock(value)[:-4] if unit == "s" else f"frame {value:g}"


def smoothed(bins: list[float | None]) -> list[float | None]:
    """Bins without a judged frame (frames are not evenly spaced in time, so some bins hold none) take the share of
    the nearest bin that has one; a source without any stays empty (grey)."""
    known = [i for i, share in enumerate(bins) if share is not None]
    if not known:
        return list(bins)
    return [share if share is not None else bins[min(known, key=lambda k: (abs(k - i), k))]
            for i, share in enumerate(bins)]


def coverage_timeline(source: dict, unit: str) -> str:
    """One source's strip: time on x, each bin coloured from red (no frame covered) to green (all covered)."""
    start, end, bins = source["start"], source["end"], source["bins"]
    plot_w = TIMELINE_W - LEFT - RIGHT
    plot_h = TIMELINE_H - TOP - BOTTOM
    width = plot_w / len(bins)
    span = (end - start) or 1.0
    title = f"{source['name']}: covered share along its time"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="coverage-timeline" data-source="{escape(source["name"])}" '
           f'data-start="{start}" data-end="{end}" width="{TIMELINE_W}" height="{TIMELINE_H}" '
           f'viewBox="0 0 {TIMELINE_W} {TIMELINE_H}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{TIMELINE_W}" height="{TIMELINE_H}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="16">{escape(title)}</text>']
    shown = smoothed(bins)
    for b, share in enumerate(bins):
        colour = _hex(UNJUDGED) if shown[b] is None else _hex(_mix(UNCOVERED, COVERED, shown[b]))
        b0, b1 = start + span * b / len(bins), start + span * (b + 1) / len(bins)
        out.append(f'<rect class="bin" data-from="{round(b0, 3)}" data-to="{round(b1, 3)}" '
                   f'data-covered="{"" if share is None else share}" x="{round(LEFT + b * width, 2)}" y="{TOP}" '
                   f'width="{round(width + 0.3, 2)}" height="{plot_h}" fill="{colour}"/>')
    for t in nice_ticks(start, end, 6):
        if start - 1e-9 <= t <= end + 1e-9:
            x = round(LEFT + (t - start) / span * plot_w, 2)
            out.append(f'<line x1="{x}" y1="{TOP + plot_h}" x2="{x}" y2="{TOP + plot_h + 4}" stroke="#555555"/>')
            out.append(f'<text x="{x}" y="{TOP + plot_h + 17}" text-anchor="middle">{_time_label(t, unit)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#555555"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def sitting_map(real: list[list[float]], fake: list[list[float]], method: str) -> str:
    """Real frames as dots coloured by their place in the sitting (source, then time), fakes as black crosses."""
    order = sorted(range(len(real)), key=lambda i: (real[i][2], real[i][3]))
    place = {i: rank / max(len(real) - 1, 1) for rank, i in enumerate(order)}
    plot = MAP_SIZE - 2 * MAP_PAD

    def px(v: float) -> float:
        return round(MAP_PAD + v * plot, 2)

    def py(v: float) -> float:
        return round(MAP_PAD + (1 - v) * plot, 2)

    title = f"The sitting in 2-D ({'t-SNE' if method == 'tsne' else 'PCA'}): real frames early to late, fakes as x"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sitting-map" data-method="{method}" width="{MAP_SIZE}" '
           f'height="{MAP_SIZE + 24}" viewBox="0 0 {MAP_SIZE} {MAP_SIZE + 24}" font-family="sans-serif" '
           'font-size="12">', f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{MAP_SIZE}" height="{MAP_SIZE + 24}" fill="#ffffff"/>']
    for i, (x, y, source, t) in enumerate(real):
        out.append(f'<circle class="real" data-x="{x}" data-y="{y}" data-source="{source}" data-time="{t}" '
                   f'cx="{px(x)}" cy="{py(y)}" r="2.6" fill="{time_colour(place[i])}"/>')
    for x, y in fake:
        cx, cy = px(x), py(y)
        out.append(f'<path class="fake" data-x="{x}" data-y="{y}" d="M{cx - 3} {cy - 3}L{cx + 3} {cy + 3}'
                   f'M{cx - 3} {cy + 3}L{cx + 3} {cy - 3}" stroke="#000000" stroke-width="1.2"/>')
    for k in range(11):
        out.append(f'<rect x="{MAP_PAD + 60 + 12 * k}" y="{MAP_SIZE + 6}" width="12" height="10" '
                   f'fill="{time_colour(k / 10)}"/>')
    out.append(f'<text x="{MAP_PAD}" y="{MAP_SIZE + 15}">early</text>')
    out.append(f'<text x="{MAP_PAD + 60 + 12 * 11 + 6}" y="{MAP_SIZE + 15}">late; x = fake</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
