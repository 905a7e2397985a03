"""Children who left their school: on its lists for a window of school days, then not at all.

A leaver is a child whose latest spell at their school (`rolls`, from EnrolmentRecorded) has a
`left_on`. While fewer than the window's school days (`school_days`) have passed since, they
stay on the school's lists, labelled with the leaving date, showing only the flags raised on
or before that date: the flagger may keep evaluating a leaver, but the school no longer holds
them, so a flag raised afterwards is not theirs to act on. Once the window has passed, the
child is on no list and their page answers like a child that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from readmodel.flags import open_flags
from readmodel.tables import rolls, school_days

from .people import Shown

Row = dict[str, Any]


def flag_columns() -> tuple[str, ...]:
    """The open flags of the catalogue in lower case (a row's flag keys)."""
    return tuple(f.lower() for f in open_flags())


def annotate(conn: Connection, rows: Sequence[Row], urn: str) -> None:
    """Set each row's `left_on`: the end of the child's latest spell at `urn`, None on roll."""
    if not rows:
        return
    stmt = select(rolls.c.child_key, rolls.c.joined_on, rolls.c.left_on).where(rolls.c.urn == urn)
    if len(rows) == 1:
        stmt = stmt.where(rolls.c.child_key == rows[0]["child_key"])
    latest: dict[str, tuple[date, date | None]] = {}
    for key, joined, left in conn.execute(stmt):
        held = latest.get(key)
        if held is None or joined > held[0]:
            latest[key] = (joined, left)
    for row in rows:
        row["left_on"] = latest[row["child_key"]][1] if row["child_key"] in latest else None


def cutoff(conn: Connection, window: int) -> date | None:
    """Leavers who left before this day are shown nowhere: the school day `window` school
    days before the latest (None while fewer school days than that are known)."""
    day: date | None = conn.scalar(
        select(school_days.c.day).order_by(school_days.c.day.desc()).offset(window).limit(1)
    )
    return day


def still_shown(row: Row, cut: date | None) -> bool:
    left = row.get("left_on")
    return left is None or cut is None or left >= cut


def as_of_leaving(row: Row) -> Row:
    """The row without the flags raised after its leaving date (unchanged while on roll)."""
    left = row.get("left_on")
    if left is None:
        return row
    later = [
        f
        for f in flag_columns()
        if row.get(f) and row.get(f"{f}_since") and row[f"{f}_since"] > left
    ]
    if not later:
        return row
    out = dict(row)
    for f in later:
        out.update({f: False, f"{f}_reason": None, f"{f}_tier": None, f"{f}_since": None})
    out["indicators"] = max(int(row["indicators"]) - len(later), 0)
    kept = (f for f in (row.get("flags") or "").split(",") if f.lower() not in later)
    out["flags"] = ",".join(kept)
    return out


def list_as_shown(
    conn: Connection,
    rows: list[Row],
    urn: str,
    window: int,
    flag: str | None = None,
    flagged_only: bool = False,
    sort: str = "indicators",
    desc: bool = True,
) -> list[Row]:
    """A school list's rows as shown: leavers past the window gone, the others as of leaving,
    then filtered and ordered again where hiding a flag changed what the query matched."""
    annotate(conn, rows, urn)
    if all(r["left_on"] is None for r in rows):
        return rows
    cut = cutoff(conn, window)
    kept = [as_of_leaving(r) for r in rows if still_shown(r, cut)]
    flags = flag_columns()
    if flag in flags:
        kept = [r for r in kept if r[flag]]
    if flagged_only:
        kept = [r for r in kept if r["indicators"] > 0]
    if sort in ("indicators", *flags):  # a stable sort keeps the query's tie order
        kept.sort(key=lambda r: r[sort], reverse=desc)
    return kept


def child_as_shown(conn: Connection, row: Row, window: int) -> Row | None:
    """One child's row as shown (as of leaving), or None once they left past the window."""
    annotate(conn, [row], row["urn"])
    if row["left_on"] is None:
        return row
    return as_of_leaving(row) if still_shown(row, cutoff(conn, window)) else None


def history_as_shown(history: list[Row], row: Row) -> list[Row]:
    """A leaver's flag history without the intervals raised after the leaving date."""
    left = row.get("left_on")
    return history if left is None else [h for h in history if h["raised_on"] <= left]


def label(shown: Mapping[str, Shown], rows: Sequence[Row]) -> dict[str, Shown]:
    """Labels with the leaving date added for leavers, e.g. 'Ben Barrow (left 28 Sep 2026)'."""
    out = dict(shown)
    for r in rows:
        left = r.get("left_on")
        if left is not None and r["child_key"] in out:
            s = out[r["child_key"]]
            out[r["child_key"]] = Shown(f"{s.label} (left {left:%d %b %Y})", s.upn)
    return out
