"""The notifier's scheduled messages: daily school and weekly zone digests, late registers.

Digests go by EVENT time: the digest of day D counts the flags raised with as_of D, and is
due once the read model's latest school day is past D (the stream has moved on), so a replay
or a late-running notifier sends the same digest, once (ledger key: period + recipient).
Only periods within `lookback_days` of that latest day are considered, so a new notifier
on an old read model does not mail its whole history. Late registers are about the wall
clock: on a school day, after the cut-off local time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select

from flagstream.alerts import Message
from flagstream.domain.rules import DEFAULT_RULES
from flagstream.term_calendar import TermCalendar
from readmodel.queries import register_not_received
from readmodel.tables import flag_changes, school_days, schools

from . import rules


@dataclass(frozen=True, slots=True)
class Schedule:
    """When digests and the late-register notice are due, and where it goes."""

    timezone: str = "Europe/London"
    cutoff: str = "10:00"
    operations_email: str = ""
    lookback_days: int = 7

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))


def _titles() -> dict[str, str]:
    return {name: rule.display_name for name, rule in DEFAULT_RULES.items()}


def _raised(conn: Connection, starts: date, ends: date) -> dict[str, dict[str, int]]:
    """urn -> flag -> flags raised with as_of in [starts, ends] (never a sensitive flag:
    those are only in the restricted tables)."""
    t = flag_changes
    rows = conn.execute(
        select(t.c.urn, t.c.flag, func.count())
        .where(and_(t.c.change == "RAISED", t.c.as_of >= starts, t.c.as_of <= ends))
        .group_by(t.c.urn, t.c.flag)
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for urn, flag, n in rows:
        out[urn][flag] = int(n)
    return out


def due_messages(
    conn: Connection,
    now: datetime,
    schedule: Schedule,
    calendar: TermCalendar,
    to: rules.Recipients,
    dashboard_url: str,
) -> list[Message]:
    """Every scheduled message due now (the ledger drops those already recorded)."""
    out: list[Message] = []
    latest = conn.scalar(select(func.max(school_days.c.day)))
    places = {r.urn: (r.name, r.zone) for r in conn.execute(select(schools))}
    titles = _titles()
    if latest is not None:
        first = latest - timedelta(days=schedule.lookback_days)
        for day in _days(first, latest - timedelta(days=1)):
            for urn, counts in _raised(conn, day, day).items():
                name = places.get(urn, (urn, ""))[0]
                out += rules.daily_school(urn, name, day, counts, titles, to, dashboard_url)
        monday = latest - timedelta(days=latest.weekday())
        for week in (monday - timedelta(days=7), monday - timedelta(days=14)):
            if week < first - timedelta(days=7):
                continue
            by_zone: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for urn, counts in _raised(conn, week, week + timedelta(days=6)).items():
                zone = places.get(urn, ("", ""))[1]
                for flag, n in counts.items():
                    by_zone[zone][flag] += n
            for zone, counts in by_zone.items():
                path = f"/zones/{quote(zone)}"
                out += rules.weekly_zone(zone, week, counts, titles, to, dashboard_url, path)
    out += late_register_notice(conn, now, schedule, calendar, dashboard_url)
    return out


def late_register_notice(
    conn: Connection,
    now: datetime,
    schedule: Schedule,
    calendar: TermCalendar,
    dashboard_url: str,
) -> list[Message]:
    """After the cut-off on a school day: the schools whose register has not arrived."""
    local = schedule.local(now)
    hour, minute = (int(p) for p in schedule.cutoff.split(":"))
    if not schedule.operations_email or local.time() < time(hour, minute):
        return []
    if not calendar.is_school_day(local.date()):
        return []
    late = [(r.urn, r.name) for r in register_not_received(conn, local.date())]
    return rules.late_registers(
        local.date(), schedule.cutoff, late, schedule.operations_email, dashboard_url
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


Clock = Callable[[], datetime]
