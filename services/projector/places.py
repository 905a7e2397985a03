"""Where a child is seen outside school (docs/families.md): a record of a stream whose
catalogue entry names `place` fields (the early-years setting and zone) gives its child a
`child_places` row, the latest such record winning, so children not yet in school are listed
by zone and setting."""

from __future__ import annotations

from typing import Any

from flagstream import catalogue

from .rows import Record, day


def place_row(kind: type[Any], r: Record) -> Record | None:
    """The child_places row a plain record gives, None if its kind places no child."""
    entry = catalogue.of(kind)
    if entry is None or entry.place is None or entry.freshness is None:
        return None
    setting, zone = entry.place
    on = next(r[name] for name in entry.freshness.days if r.get(name) is not None)
    return {
        "child_key": r["child_key"],
        "source": entry.label,
        "setting": r[setting],
        "zone": r[zone],
        "checked_on": day(on),
    }
