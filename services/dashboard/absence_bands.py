"""Absence bands of a pupil's school year to date (severe, persistent, at risk): the rules
file's Attend thresholds (attend.band), for the absence lists and the child page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from flagstream.domain.rules.attend import AttendSettings, band

BANDS = (
    ("severe", "Severe absence"),
    ("persistent", "Persistent absence"),
    ("at_risk", "At risk of persistent absence"),
)


def banded(rows: Iterable[dict[str, Any]], s: AttendSettings) -> dict[str, list[dict[str, Any]]]:
    """Band -> the pupils in it, most absent first; pupils in no band are left out."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in BANDS}
    for r in rows:
        name = band(r["possible_sessions"], r["absent_sessions"], s)
        if name:
            pct = 100.0 * r["absent_sessions"] / r["possible_sessions"]
            flags = [f for f in (r["flags"] or "").split(",") if f]
            out[name].append({**r, "absent_pct": round(pct, 1), "flag_list": flags})
    for members in out.values():
        members.sort(key=lambda r: (-r["absent_pct"], r["child_key"]))
    return out


class Band(NamedTuple):
    """A pupil's absence band: its name (an anchor on the lists) and its title."""

    name: str
    title: str


def child_band(row: dict[str, Any], s: AttendSettings) -> Band | None:
    """The child page's band of the child's year to date; None when in none."""
    name = band(row["possible_sessions"], row["absent_sessions"], s)
    return Band(name, dict(BANDS)[name]) if name else None
