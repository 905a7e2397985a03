"""Daily counts per school and flag, recomputed from flag_history and rolls.

A count for a day depends only on the intervals and spells that cover it, so recomputing
the days from the earliest one a batch touched gives the same rows in any arrival order.
The counting is a sweep in Python over the intervals that reach those days: a SQL range
join of every school day against every interval took 0.6 s for one new day across a
Dorset-size county, and 35 s for a whole term.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select

from readmodel.flags import open_flags
from readmodel.tables import daily_counts, flag_history, rolls, school_days

from . import bulk

ANY = "ANY"
Span = tuple[date, date | None]  # from (inclusive), to (exclusive; None while open)


def known_urns(conn: Connection) -> set[str]:
    """Schools whose daily counts have been computed: on a roll, in the flag history, or
    already counted (the projector keeps this set up to date as it writes)."""
    urns = set(conn.scalars(select(rolls.c.urn).distinct()))
    urns |= set(conn.scalars(select(flag_history.c.urn).distinct()))
    return urns | set(conn.scalars(select(daily_counts.c.urn).distinct()))


def _merged(spans: list[Span]) -> list[Span]:
    """One member's spans with overlaps joined, so each day counts the member once."""
    out: list[Span] = []
    for start, end in sorted(spans, key=lambda s: s[0]):
        if out and (out[-1][1] is None or out[-1][1] >= start):
            last_end = out[-1][1]
            out[-1] = (out[-1][0], None if end is None or last_end is None else max(end, last_end))
        else:
            out.append((start, end))
    return out


def covering(days: list[date], spans: Iterable[tuple[Hashable, Span]]) -> list[int]:
    """For each day (sorted), how many distinct members have a span covering it."""
    by_member: dict[Hashable, Any] = {}  # a member's one span, or a list of its spans
    for member, span in spans:
        held = by_member.get(member)
        if held is None:
            by_member[member] = span
        elif type(held) is list:
            held.append(span)
        else:
            by_member[member] = [held, span]
    diff = [0] * (len(days) + 1)
    for held in by_member.values():
        for start, end in _merged(held) if type(held) is list else (held,):
            lo = bisect_left(days, start)
            hi = len(days) if end is None else bisect_left(days, end)
            if lo < hi:
                diff[lo] += 1
                diff[hi] -= 1
    counts, running = [], 0
    for step in diff[:-1]:
        running += step
        counts.append(running)
    return counts


def _recompute(conn: Connection, urns: list[str], since: date) -> None:
    days = sorted(conn.scalars(select(school_days.c.day).where(school_days.c.day >= since)))
    conn.execute(
        delete(daily_counts).where(daily_counts.c.urn.in_(urns), daily_counts.c.day >= since)
    )
    if not days:
        return
    h, r = flag_history.c, rolls.c
    history = conn.execute(
        select(h.urn, h.flag, h.child_key, h.raised_on, h.cleared_on).where(
            h.urn.in_(urns), or_(h.cleared_on.is_(None), h.cleared_on > since)
        )
    ).all()
    spells = conn.execute(
        select(r.urn, r.child_key, r.joined_on, r.left_on).where(
            r.urn.in_(urns), or_(r.left_on.is_(None), r.left_on > since)
        )
    ).all()
    per_flag: dict[tuple[str, str], list[tuple[Hashable, Span]]] = defaultdict(list)
    any_flag: dict[str, list[tuple[Hashable, Span]]] = defaultdict(list)
    for urn, flag, child, raised_on, cleared_on in history:
        per_flag[(urn, flag)].append((child, (raised_on, cleared_on)))
        any_flag[urn].append((child, (raised_on, cleared_on)))
    on_roll: dict[str, list[tuple[Hashable, Span]]] = defaultdict(list)
    for urn, child, joined_on, left_on in spells:
        on_roll[urn].append((child, (joined_on, left_on)))
    # Every flag in the catalogue gets a row (zeros included); another flag only where raised,
    # so the rows do not depend on which batch first saw it.
    listed = {*open_flags(), ANY}
    flags_of = {urn: set(listed) for urn in urns}
    for urn, flag in per_flag:
        flags_of[urn].add(flag)
    zeros = [0] * len(days)
    rows: list[dict[str, Any]] = []
    for urn in urns:
        roll = covering(days, on_roll[urn]) if urn in on_roll else zeros
        counted = {ANY: covering(days, any_flag[urn]) if urn in any_flag else zeros}
        for flag in flags_of[urn] - {ANY}:
            spans = per_flag.get((urn, flag))
            counted[flag] = covering(days, spans) if spans else zeros
        for flag in sorted(flags_of[urn]):
            flagged = counted[flag]
            for i, day in enumerate(days):
                if flag in listed or flagged[i]:
                    rows.append(
                        {
                            "day": day,
                            "urn": urn,
                            "flag": flag,
                            "on_roll": roll[i],
                            "flagged": flagged[i],
                        }
                    )
    rows.sort(key=lambda row: (row["day"], row["urn"], row["flag"]))
    if rows:
        conn.execute(daily_counts.insert(), rows)


def _affected(conn: Connection, urns: list[str], after: date, on: date) -> set[tuple[str, str]]:
    """(school, child) pairs with a flag interval or a roll spell starting or ending in
    (after, on]: the only ones whose coverage can differ between those two days."""
    h, r = flag_history.c, rolls.c

    def between(column: Any) -> Any:
        return and_(column > after, column <= on)

    flagged = select(h.urn, h.child_key).where(
        h.urn.in_(urns), or_(between(h.raised_on), between(h.cleared_on))
    )
    spells = select(r.urn, r.child_key).where(
        r.urn.in_(urns), or_(between(r.joined_on), between(r.left_on))
    )
    return {(urn, child) for urn, child in conn.execute(flagged.union(spells))}


def _covers(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or day < end)


def _step(conn: Connection, urns: list[str], previous: date, day: date) -> set[str]:
    """A new school day's counts from the previous school day's: each count moves only by
    the children whose intervals or spells start or end between the two. Returns the
    schools with no counts on the previous day (to recompute instead)."""
    d, h, r = daily_counts.c, flag_history.c, rolls.c
    on_roll: dict[str, int] = {}
    flagged: dict[tuple[str, str], int] = {}
    held = select(d.urn, d.flag, d.on_roll, d.flagged).where(d.day == previous, d.urn.in_(urns))
    for urn, flag, roll, n in conn.execute(held):
        on_roll[urn] = roll
        flagged[(urn, flag)] = n
    pairs = _affected(conn, urns, previous, day)
    children = sorted({child for _, child in pairs})
    if children:
        # Each affected child's flags covering either day, and whether on roll on each.
        flags: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        history = select(h.urn, h.child_key, h.flag, h.raised_on, h.cleared_on).where(
            bulk.one_of(conn, h.child_key, children), h.urn.in_(urns)
        )
        for urn, child, flag, raised_on, cleared_on in conn.execute(history):
            if (urn, child) in pairs:
                before, after = flags.setdefault((urn, child), (set(), set()))
                if _covers(raised_on, cleared_on, previous):
                    before.add(flag)
                if _covers(raised_on, cleared_on, day):
                    after.add(flag)
        for (urn, _child), (before, after) in flags.items():
            for flag in before ^ after:
                flagged[(urn, flag)] = flagged.get((urn, flag), 0) + (1 if flag in after else -1)
            if bool(before) != bool(after):
                flagged[(urn, ANY)] = flagged.get((urn, ANY), 0) + (1 if after else -1)
        roll_of: dict[tuple[str, str], tuple[bool, bool]] = {}
        spells = select(r.urn, r.child_key, r.joined_on, r.left_on).where(
            bulk.one_of(conn, r.child_key, children), r.urn.in_(urns)
        )
        for urn, child, joined_on, left_on in conn.execute(spells):
            if (urn, child) in pairs:
                was, now = roll_of.get((urn, child), (False, False))
                roll_of[(urn, child)] = (
                    was or _covers(joined_on, left_on, previous),
                    now or _covers(joined_on, left_on, day),
                )
        for (urn, _child), (was, now) in roll_of.items():
            if urn in on_roll:
                on_roll[urn] += int(now) - int(was)
    missing = set(urns) - on_roll.keys()
    # As _recompute: every listed flag and ANY gets a row; another flag only where raised.
    listed = {*open_flags(), ANY}
    rows = [
        {"day": day, "urn": urn, "flag": flag, "on_roll": on_roll[urn], "flagged": n}
        for (urn, flag), n in sorted(flagged.items())
        if urn not in missing and (n > 0 or flag in listed)
    ]
    if rows:
        conn.execute(daily_counts.insert(), rows)
    return missing


def extend(conn: Connection, urns: set[str], new_days: set[date]) -> None:
    """Counts for school days just added, for schools whose counts are otherwise complete.
    A day's counts are the previous school day's moved by the children whose flag intervals
    or roll spells start or end between the two (the rest cover both days alike), so only
    those children are read; a school with no day before is recomputed. Live, this is every
    school's first register of a day (a full recompute of the day took ~0.6 s at Dorset
    size); in a replay, every school day: recomputing the schools that changed (most of
    them) was ~22% of the projector's time on a Dorset rebuild."""
    if not urns or not new_days:
        return
    days = sorted(conn.scalars(select(school_days.c.day).where(school_days.c.day <= max(new_days))))
    recompute: dict[str, date] = {}
    for day in sorted(new_days):
        i = days.index(day)
        left = sorted(urns - recompute.keys())
        if i == 0:  # nothing before it to copy from
            recompute.update(dict.fromkeys(left, day))
            continue
        if left:
            recompute.update(dict.fromkeys(_step(conn, left, days[i - 1], day), day))
    refresh(conn, recompute)


def refresh(conn: Connection, dirty: Mapping[str, date]) -> None:
    """Recompute each school's counts from its dirty date on (grouped by date: few queries)."""
    by_since: dict[date, list[str]] = defaultdict(list)
    for urn, since in dirty.items():
        by_since[since].append(urn)
    for since, urns in sorted(by_since.items()):
        _recompute(conn, sorted(urns), since)
