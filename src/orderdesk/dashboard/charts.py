"""A bar chart drawn on the server as SVG geometry, so no chart library ships to the browser."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 220
PLOT_TOP = 24
PLOT_BOTTOM = 180
LEFT = 8
GAP = 12


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    danger: bool


def bar_chart(buckets, *, danger_labels: frozenset[str] = frozenset({"Expired"})) -> dict:
    """Place one bar per bucket; heights scale to the largest count."""
    items = list(buckets)
    tallest = max((bucket.count for bucket in items), default=0) or 1
    slot = (WIDTH - 2 * LEFT) / max(len(items), 1)
    bar_width = slot - GAP
    plot_height = PLOT_BOTTOM - PLOT_TOP
    bars = []
    for index, bucket in enumerate(items):
        height = plot_height * bucket.count / tallest
        x = LEFT + index * slot + GAP / 2
        bars.append(
            Bar(
                label=bucket.label,
                count=bucket.count,
                x=round(x, 1),
                y=round(PLOT_BOTTOM - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                label_x=round(x + bar_width / 2, 1),
                danger=bucket.label in danger_labels,
            )
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": PLOT_BOTTOM,
        "total": sum(bucket.count for bucket in items),
        "description": bars_description(bars),
        "markup": bars_markup(bars),
    }


# The bars as SVG, written here rather than by a template loop: the loop rendered about 80
# values through the template's localization (a float's `number_format` per coordinate) for
# eight bars. The markup and its white space are the template's, as it wrote them.


def bars_description(bars: list[Bar]) -> SafeString:
    """The chart's text for screen readers: 'Expired: 1,668. < 1 day: 0. …'."""
    return mark_safe("".join(f"{escape(bar.label)}: {bar.count:,}. " for bar in bars))  # noqa: S308 (escaped)


def bars_markup(bars: list[Bar]) -> SafeString:
    """One <g> a bar: the rectangle, its count above it and its label under the axis."""
    parts = []
    for bar in bars:
        danger = " chart-bar-danger" if bar.danger else ""
        label = escape(bar.label)
        parts.append(
            f'\n        <g class="chart-bar{danger}">\n'
            f'          <rect x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}"'
            ' rx="3"/>\n'
            f'          <text x="{bar.label_x}" y="{int(bar.y) - 6}" class="chart-count"'
            f' text-anchor="middle">{bar.count:,}</text>\n'
            f'          <text x="{bar.label_x}" y="{PLOT_BOTTOM + 20}" class="chart-label"'
            f' text-anchor="middle">{label}</text>\n'
            "        </g>\n        "
        )
    return mark_safe("".join(parts))  # noqa: S308 (numbers, and labels escaped)
