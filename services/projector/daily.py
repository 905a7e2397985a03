"""Daily counts per school and flag, recomputed from flag_history and rolls.

A count for a day depends only on the intervals and spells that cover it, so recomputing
the days from the earliest one a batch touched gives the same rows in any arrival order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select

from .tables import FLAGS, daily_counts, flag_history, rolls, school_days

ANY = "ANY"


def known_urns(conn: Connection) -> set[str]:
    """Schools that have children on a roll or in the flag history."""
    urns = set(conn.scalars(select(rolls.c.urn).distinct()))
    return urns | set(conn.scalars(select(flag_history.c.urn).distinct()))


def _covering(col_from: Any, col_to: Any, day: Any) -> Any:
    return and_(col_from <= day, or_(col_to.is_(None), col_to > day))


def _recompute(conn: Connection, urns: list[str], since: date) -> None:
    days = list(conn.scalars(select(school_days.c.day).where(school_days.c.day >= since)))
    conn.execute(
        delete(daily_counts).where(daily_counts.c.urn.in_(urns), daily_counts.c.day >= since)
    )
    if not days:
        return
    d = school_days.c.day
    h = flag_history.c
    base = select(d, h.urn).join(flag_history, _covering(h.raised_on, h.cleared_on, d))
    base = base.where(d >= since, h.urn.in_(urns))
    flagged: dict[tuple[date, str, str], int] = defaultdict(int)
    per_flag = base.add_columns(h.flag, func.count(func.distinct(h.child_key)))
    for day, urn, flag, n in conn.execute(per_flag.group_by(d, h.urn, h.flag)):
        flagged[(day, urn, flag)] = int(n)
    any_flag = base.add_columns(func.count(func.distinct(h.child_key))).group_by(d, h.urn)
    for day, urn, n in conn.execute(any_flag):
        flagged[(day, urn, ANY)] = int(n)
    r = rolls.c
    roll_q = (
        select(d, r.urn, func.count(func.distinct(r.child_key)))
        .join(rolls, _covering(r.joined_on, r.left_on, d))
        .where(d >= since, r.urn.in_(urns))
        .group_by(d, r.urn)
    )
    on_roll = {(day, urn): int(n) for day, urn, n in conn.execute(roll_q)}
    # Every listed flag gets a row (zeros included); a flag not yet listed only where raised,
    # so the rows do not depend on which batch first saw it.
    cells = {(day, urn, flag) for day in days for urn in urns for flag in (*FLAGS, ANY)}
    cells |= set(flagged)
    rows = [
        {
            "day": day,
            "urn": urn,
            "flag": flag,
            "on_roll": on_roll.get((day, urn), 0),
            "flagged": flagged.get((day, urn, flag), 0),
        }
        for day, urn, flag in sorted(cells)
    ]
    conn.execute(daily_counts.insert(), rows)


def refresh(conn: Connection, dirty: Mapping[str, date]) -> None:
    """Recompute each school's counts from its dirty date on (grouped by date: few queries)."""
    by_since: dict[date, list[str]] = defaultdict(list)
    for urn, since in dirty.items():
        by_since[since].append(urn)
    for since, urns in sorted(by_since.items()):
        _recompute(conn, sorted(urns), since)
