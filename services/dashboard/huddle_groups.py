"""The huddle list's groups: who is flagged now, who was newly flagged or cleared since the
school's last huddle (or since the half term began, before its first), and who is flagged
again within 12 months of a flag clearing - the re-referrals a huddle should look at first.

Grouping is a pure function of flag_history intervals so its edges are tested without a
database; the reads beside it go through the viewer's scoped connection. flag_history never
holds a sensitive flag (readmodel/flag_tables.py), so no group shows or counts one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from flagstream.term_calendar import HalfTerm, TermCalendar
from readmodel.tables import children, flag_history, huddle_reviews, huddles

FLAGGED_NOW = "Flagged now"
NEWLY_FLAGGED = "Newly flagged"
CLEARED = "Cleared"
REFLAGGED = "Re-flagged within 12 months"
GROUPS = (FLAGGED_NOW, NEWLY_FLAGGED, CLEARED, REFLAGGED)

# Outside every half term of the calendar (a long holiday the calendar does not cover), the
# list looks back this far when the school has recorded no huddle.
FALLBACK_LOOKBACK = timedelta(weeks=6)


@dataclass(frozen=True, slots=True)
class Window:
    """What "since" means on this list: changes on days after `after` count as new."""

    half_term: HalfTerm | None
    after: date
    last_huddle: Mapping[str, Any] | None

    @property
    def since_text(self) -> str:
        if self.last_huddle is not None:
            return f"since the last huddle on {self.last_huddle['held_on']:%d %b %Y}"
        if self.half_term is not None:
            return f"since {self.half_term.name} began on {self.half_term.starts:%d %b %Y}"
        return f"since {self.after + timedelta(days=1):%d %b %Y}"


def window(calendar: TermCalendar, today: date, last: Mapping[str, Any] | None) -> Window:
    """Changes after the last huddle's day; with none, from the half term's first day."""
    half = calendar.half_term_of(today)
    if last is not None:
        return Window(half, last["held_on"], last)
    if half is not None:
        return Window(half, half.starts - timedelta(days=1), None)
    return Window(None, today - FALLBACK_LOOKBACK, None)


@dataclass(slots=True)
class Group:
    """One section of the list: each child with the flags that put them in it."""

    name: str
    flags: dict[str, list[str]] = field(default_factory=dict)  # child_key -> flags, in order

    def add(self, child_key: str, flag: str) -> None:
        flags = self.flags.setdefault(child_key, [])
        if flag not in flags:
            flags.append(flag)


def group(
    flagged_now: Mapping[str, Iterable[str]], intervals: Iterable[Mapping[str, Any]], after: date
) -> list[Group]:
    """The four groups, in GROUPS order.

    `flagged_now`: child_key -> flags raised now (most indicators first, as listed).
    `intervals`: flag_history rows (child_key, flag, raised_on, cleared_on,
    reflagged_within_12m). Newly flagged: raised on a day after `after`. Cleared: cleared on
    a day after `after`. Re-flagged: an interval open now that was raised within 365 days of
    the same flag's previous clearing (the projector's reflagged_within_12m).
    """
    out = {name: Group(name) for name in GROUPS}
    for key, flags in flagged_now.items():
        for flag in flags:
            out[FLAGGED_NOW].add(key, flag)
    for row in sorted(intervals, key=lambda r: (r["raised_on"], r["child_key"], r["flag"])):
        key, flag = row["child_key"], row["flag"]
        if row["raised_on"] > after:
            out[NEWLY_FLAGGED].add(key, flag)
        if row["cleared_on"] is not None and row["cleared_on"] > after:
            out[CLEARED].add(key, flag)
        if row["cleared_on"] is None and row["reflagged_within_12m"]:
            out[REFLAGGED].add(key, flag)
    return [out[name] for name in GROUPS]


def last_huddle(conn: Connection, urn: str) -> dict[str, Any] | None:
    """The school's latest recorded huddle (by the day it met), or None."""
    stmt = (
        select(huddles)
        .where(huddles.c.urn == urn)
        .order_by(huddles.c.held_on.desc(), huddles.c.recorded_at.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return dict(row._mapping) if row is not None else None


def school_intervals(conn: Connection, urn: str, after: date) -> list[dict[str, Any]]:
    """flag_history intervals of the school's current children that are open now or raised
    or cleared after `after` (a child who moved in brings their history with them)."""
    h = flag_history.c
    stmt = (
        select(h.child_key, h.flag, h.raised_on, h.cleared_on, h.reflagged_within_12m)
        .join(children, children.c.child_key == h.child_key)
        .where(
            and_(
                children.c.urn == urn,
                or_(h.cleared_on.is_(None), h.cleared_on > after, h.raised_on > after),
            )
        )
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def reviews_at(conn: Connection, huddle_event_id: str) -> dict[str, dict[str, Any]]:
    """child_key -> what one huddle agreed for the child (response, status), as the viewer's
    scope lets them see it."""
    r = huddle_reviews.c
    stmt = select(r.child_key, r.response, r.status).where(r.huddle_event_id == huddle_event_id)
    return {row.child_key: dict(row._mapping) for row in conn.execute(stmt)}
