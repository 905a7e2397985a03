"""Trend charts as inline SVG built on the server (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 260, 70, 4


@dataclass(frozen=True, slots=True)
class Trend:
    """One flag's series, ready for the template: SVG points plus words for screen readers."""

    flag: str
    points: str
    summary: str
    rows: list[tuple[date, int, int]]
    latest: int | None


def trend(flag: str, series: list[tuple[date, int, int]]) -> Trend:
    """Scale (day, flagged, on roll) to the chart box; the y axis starts at zero."""
    if not series:
        return Trend(flag, "", f"{flag}: no school days recorded yet", [], None)
    top = max(max(n for _, n, _ in series), 1)
    step = (WIDTH - 2 * PAD) / max(len(series) - 1, 1)
    coords = [
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * n / top:.1f}"
        for i, (_, n, _) in enumerate(series)
    ]
    (first_day, first, _), (last_day, last, roll) = series[0], series[-1]
    change = "up" if last > first else "down" if last < first else "unchanged"
    summary = (
        f"{flag}: {first} flagged on {first_day}, {last} on {last_day} ({change}); "
        f"{last} of {roll} on roll"
    )
    return Trend(flag, " ".join(coords), summary, series, last)


def trends(series: dict[str, list[tuple[date, int, int]]]) -> list[Trend]:
    return [trend(flag, rows) for flag, rows in series.items()]
