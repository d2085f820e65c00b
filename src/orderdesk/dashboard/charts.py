"""A bar chart drawn on the server as SVG geometry, so no chart library ships to the browser."""

from __future__ import annotations

from dataclasses import dataclass

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
    }
