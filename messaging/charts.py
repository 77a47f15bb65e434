"""Charts drawn on the server as inline SVG: no script, nothing fetched, readable when printed.

Pure functions from values to markup. Every text is escaped. Each chart is an image with a
``<title>``, a ``<desc>`` and an ``aria-label``; the table next to it is its text alternative.
A bar whose value may not be shown (``suppressed``) is drawn as an outline at a fixed height,
the top of the "< 5" band, so its size gives nothing away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#1f5f8b"
SUPPRESSED_HEIGHT = 5  # drawn at the top of the band "< 5"
LINE_COLOURS = ("#1f5f8b", "#b35900", "#2e7d32", "#6a1b9a")
FONT = 'font-size="11"'


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (ignored when suppressed) and the text shown on it."""

    label: str
    value: float
    text: str
    suppressed: bool = False


@dataclass(frozen=True)
class Series:
    """One line of a line chart; None leaves a gap (a value that may not be shown)."""

    name: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:g}"


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}" aria-describedby="{escape(chart_id)}-desc" '
        f'id="{escape(chart_id)}">',
        f"<title>{escape(title)}</title>",
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _scale_top(bars: Sequence[Bar]) -> float:
    shown = [bar.value for bar in bars if not bar.suppressed]
    if any(bar.suppressed for bar in bars):
        shown.append(SUPPRESSED_HEIGHT)
    return nice_ceiling(max(shown, default=1))


def _bar_shape(bar: Bar, x: float, y: float, width: float, height: float) -> str:
    if bar.suppressed:
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="#ffffff" stroke="{BAR}" stroke-dasharray="3 2"/>'
        )
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{BAR}"/>'


def column_chart(
    chart_id: str, title: str, description: str, bars: Sequence[Bar], *, unit: str = ""
) -> Markup:
    """Vertical bars, one per label (months), with the shown value above each bar."""
    width, height, left, bottom, top = 640, 220, 40, 30, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    ceiling = _scale_top(bars)
    parts = _open(chart_id, title, description, width, height)
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c8d0d8"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(_number(ceiling * fraction))}{escape(unit)}</text>"
        )
    slot = plot_w / max(len(bars), 1)
    for index, bar in enumerate(bars):
        value = SUPPRESSED_HEIGHT if bar.suppressed else bar.value
        bar_h = plot_h * min(value, ceiling) / ceiling
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        parts.append(_bar_shape(bar, x, y, slot * 0.7, bar_h))
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" {FONT}>'
            f"{escape(bar.text)}</text>"
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 12}" text-anchor="middle" {FONT}>'
            f"{escape(bar.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every value above is escaped


def row_chart(
    chart_id: str, title: str, description: str, bars: Sequence[Bar], *, unit: str = ""
) -> Markup:
    """Horizontal bars, one per label (country pairs, countries), value after each bar."""
    row_h, left, right, top = 24, 110, 60, 8
    width = 640
    height = top * 2 + row_h * max(len(bars), 1)
    plot_w = width - left - right
    ceiling = _scale_top(bars)
    parts = _open(chart_id, title, description, width, height)
    for index, bar in enumerate(bars):
        value = SUPPRESSED_HEIGHT if bar.suppressed else bar.value
        bar_w = plot_w * min(value, ceiling) / ceiling
        y = top + index * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + row_h * 0.65:.1f}" text-anchor="end" {FONT}>'
            f"{escape(bar.label)}</text>"
        )
        parts.append(_bar_shape(bar, left, y + 4, bar_w, row_h - 8))
        parts.append(
            f'<text x="{left + bar_w + 4:.1f}" y="{y + row_h * 0.65:.1f}" {FONT}>'
            f"{escape(bar.text)}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every value above is escaped


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
) -> Markup:
    """One line per series over the labels (months); a None value breaks the line."""
    width, height, left, bottom, top = 640, 240, 44, 46, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    values = [v for s in series for v in s.values if v is not None]
    ceiling = nice_ceiling(max(values, default=1))
    parts = _open(chart_id, title, description, width, height)
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c8d0d8"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(_number(ceiling * fraction))}{escape(unit)}</text>"
        )
    step = plot_w / max(len(labels), 1)
    for index, label in enumerate(labels):
        parts.append(
            f'<text x="{left + step * (index + 0.5):.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle" {FONT}>{escape(label)}</text>'
        )
    for number, line in enumerate(series):
        colour = LINE_COLOURS[number % len(LINE_COLOURS)]
        segment: list[str] = []
        for index, value in enumerate(line.values):
            if value is None:
                parts.append(_polyline(segment, colour))
                segment = []
                continue
            x = left + step * (index + 0.5)
            y = top + plot_h * (1 - min(value, ceiling) / ceiling)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        parts.append(_polyline(segment, colour))
        legend_y = height - 10
        legend_x = left + number * 150
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{legend_y + 1}" {FONT}>{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every value above is escaped


def _polyline(points: list[str], colour: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>'
