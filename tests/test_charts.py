"""The report's SVG charts: round ticks that cover the data, and points where the axes say they are."""

import re

import pytest

from evaluation.charts import HEIGHT, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, WIDTH, Series, \
    line_chart, nice_ticks


@pytest.mark.parametrize("low, high, expected", [
    (331.9, 362.8, [330, 340, 350, 360, 370]),
    (0.032, 0.064, [0.03, 0.04, 0.05, 0.06, 0.07]),
    (1, 3, [1, 1.5, 2, 2.5, 3]),
    (7.0, 7.0, [6.0, 6.5, 7.0, 7.5, 8.0]),  # one point: a band of +-10% around it
])
def test_ticks_are_round_and_cover_the_range(low, high, expected):
    ticks = nice_ticks(low, high)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= low and ticks[-1] >= high


def test_points_sit_where_the_axes_say():
    svg = line_chart([Series("FID", [1.0, 2.0, 3.0], [335.3, 331.9, 362.8])], title="FID <over> kimg",
                     x_label="kimg", y_label="FID")
    circles = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    plot_w, plot_h = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for (cx, cy), (x, y) in zip(circles, [(1.0, 335.3), (2.0, 331.9), (3.0, 362.8)]):
        assert cx == pytest.approx(MARGIN_LEFT + (x - 1) / 2 * plot_w, abs=0.01)  # x ticks 1..3
        assert cy == pytest.approx(MARGIN_TOP + plot_h - (y - 330) / 40 * plot_h, abs=0.01)  # y ticks 330..370
    assert "FID &lt;over&gt; kimg" in svg and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg == line_chart([Series("FID", [1.0, 2.0, 3.0], [335.3, 331.9, 362.8])], title="FID <over> kimg",
                             x_label="kimg", y_label="FID")  # the same numbers give the same bytes
