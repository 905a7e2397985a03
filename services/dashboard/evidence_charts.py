"""Evidence charts: grouped bars with axes, ticks, axis labels, a legend and dashed
reference lines (published national figures), as inline SVG built on the server.

A sibling of charts.py (the small trend sparklines): drawn as escaped SVG markup here so
the template inlines it under the strict CSP (presentation attributes only, no style
attribute, no script). Each chart carries a <title> and <desc>, and every page that shows
one shows the same figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

BAR_W, BAR_H = 560, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 16, 56
_COLOURS = ("#1d70b8", "#f47738", "#00703c", "#912b88", "#505a5f")


@dataclass(frozen=True, slots=True)
class Reference:
    """A dashed horizontal line at `value` with its label (e.g. a national figure)."""

    value: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart ready to inline: the SVG markup and its words for screen readers."""

    title: str
    svg: str
    summary: str


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _ticks(top: float) -> list[float]:
    """Round tick values from 0 to at least `top` (five steps of 1, 2, 5 x 10^n)."""
    raw = max(top, 1e-9) / 5
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    while magnitude > raw:
        magnitude /= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    count = int(-(-top // step)) or 1
    return [round(i * step, 6) for i in range(count + 1)]


def bar_chart(
    title: str,
    categories: list[str],
    series: dict[str, list[float | None]],
    y_label: str,
    x_label: str,
    references: list[Reference] | None = None,
) -> BarChart:
    """Grouped bars: one group per category, one bar per series; None draws no bar."""
    references = references or []
    values = [v for vs in series.values() for v in vs if v is not None]
    top = max([*values, *(r.value for r in references), 1.0])
    ticks = _ticks(top)
    y_max = ticks[-1] or 1.0
    plot_w, plot_h = BAR_W - _LEFT - _RIGHT, BAR_H - _TOP - _BOTTOM
    legend_h = 18 * len(series) if len(series) > 1 else 0
    height = BAR_H + legend_h

    def y(v: float) -> float:
        return _TOP + plot_h - plot_h * v / y_max

    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {BAR_W} {height}" width="{BAR_W}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
    ]
    summary_bits = []
    for name, vs in series.items():
        shown = ", ".join(
            f"{c} {'no data' if v is None else v}" for c, v in zip(categories, vs, strict=True)
        )
        summary_bits.append(f"{name}: {shown}")
    for ref in references:
        summary_bits.append(f"reference line {ref.label} at {ref.value}")
    summary = f"{title}. " + "; ".join(summary_bits)
    out.append(f"<title>{_esc(title)}</title><desc>{_esc(summary)}</desc>")
    # Axes, ticks and grid.
    out.append(
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" '
        'stroke="#0b0c0c"/>'
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" '
        f'y2="{_TOP + plot_h}" stroke="#0b0c0c"/>'
    )
    for t in ticks:
        ty = y(t)
        out.append(
            f'<line x1="{_LEFT - 4}" y1="{ty:.1f}" x2="{_LEFT}" y2="{ty:.1f}" stroke="#0b0c0c"/>'
            f'<line x1="{_LEFT}" y1="{ty:.1f}" x2="{_LEFT + plot_w}" y2="{ty:.1f}" '
            'stroke="#e5e5e5"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_esc(f"{t:g}")}</text>'
        )
    out.append(
        f'<text class="axis-label" x="14" y="{_TOP + plot_h / 2:.1f}" font-size="12" '
        f'text-anchor="middle" transform="rotate(-90 14 {_TOP + plot_h / 2:.1f})">'
        f"{_esc(y_label)}</text>"
        f'<text class="axis-label" x="{_LEFT + plot_w / 2:.1f}" y="{BAR_H - 8}" font-size="12" '
        f'text-anchor="middle">{_esc(x_label)}</text>'
    )
    # Bars.
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    for s_i, (name, vs) in enumerate(series.items()):
        colour = _COLOURS[s_i % len(_COLOURS)]
        for c_i, v in enumerate(vs):
            if v is None:
                continue
            bx = _LEFT + c_i * group_w + group_w * 0.1 + s_i * bar_w
            out.append(
                f'<rect x="{bx:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                f'height="{_TOP + plot_h - y(v):.1f}" fill="{colour}">'
                f"<title>{_esc(name)}, {_esc(categories[c_i])}: {_esc(v)}</title></rect>"
            )
    for c_i, cat in enumerate(categories):
        cx = _LEFT + (c_i + 0.5) * group_w
        out.append(
            f'<text class="category" x="{cx:.1f}" y="{_TOP + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{_esc(cat[:18])}</text>'
        )
    # Reference lines: dashed, labelled at the right-hand end.
    for ref in references:
        ry = y(ref.value)
        out.append(
            f'<line class="reference" x1="{_LEFT}" y1="{ry:.1f}" x2="{_LEFT + plot_w}" '
            f'y2="{ry:.1f}" stroke="#d4351c" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text class="reference-label" x="{_LEFT + plot_w - 2}" y="{ry - 4:.1f}" '
            f'font-size="11" text-anchor="end" fill="#d4351c" '
            'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{_esc(ref.label)} ({ref.value:g})</text>"
        )
    # Legend (only when more than one series).
    if len(series) > 1:
        for s_i, name in enumerate(series):
            ly = BAR_H + 18 * s_i
            out.append(
                f'<rect x="{_LEFT}" y="{ly}" width="12" height="12" '
                f'fill="{_COLOURS[s_i % len(_COLOURS)]}"/>'
                f'<text class="legend" x="{_LEFT + 18}" y="{ly + 10}" font-size="12">'
                f"{_esc(name)}</text>"
            )
    out.append("</svg>")
    return BarChart(title, "".join(out), summary)
