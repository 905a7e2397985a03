"""The council's screens as SQL over the read model; docs/read-model.md shows the same text.

Plain SQL that runs unchanged on SQLite and PostgreSQL, so a BI tool can paste it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, Integer, Row, TextualSelect, bindparam, text

from .flags import display_name, open_flags


def county_totals_by_zone_sql(flags: Sequence[str]) -> str:
    """COUNTY_TOTALS_BY_ZONE for these flags: a column per flag (lower case)."""
    totals = "".join(f"       SUM(COALESCE(f.{f.lower()}, 0)) AS {f.lower()},\n" for f in flags)
    pivot = ",\n".join(
        f"                  SUM(CASE WHEN flag = '{f}' THEN flagged ELSE 0 END) AS {f.lower()}"
        for f in flags
    )
    return f"""
SELECT s.zone,
       SUM(t.children) AS children,
{totals}       SUM(t.any_flagged) AS any_flag
FROM school_summary t
JOIN schools s ON s.urn = t.urn
LEFT JOIN (SELECT urn,
{pivot}
           FROM school_flag_counts
           GROUP BY urn) f ON f.urn = t.urn
GROUP BY s.zone
ORDER BY s.zone
"""


ZONE_TREND = """
SELECT day, zone, on_roll, flagged
FROM zone_daily_counts
WHERE flag = :flag
ORDER BY day, zone
"""

COUNTY_TREND = """
SELECT day, flagged
FROM county_daily_counts
WHERE flag = 'ANY'
ORDER BY day
"""

_BEFORE_FLAGS = ("Year Group", "Last Assessment", "Gender", "Indicators")
_AFTER_FLAGS = ("Response", "Status", "Current Progress", "Overall Progress")


def school_children_columns(flags: Sequence[str]) -> tuple[str, ...]:
    """The council's original columns, in order, for these flags (SCHOOL_CHILDREN puts
    child_key first)."""
    return (*_BEFORE_FLAGS, *(display_name(f) for f in flags), *_AFTER_FLAGS)


def school_children_sql(flags: Sequence[str]) -> str:
    """SCHOOL_CHILDREN for these flags: a column per flag, its tier or Y when raised."""
    cells = "".join(
        f"       COALESCE(MAX(CASE WHEN f.flag = '{f}' THEN COALESCE(NULLIF(f.tier, ''), 'Y') END),"
        f" '') AS \"{display_name(f)}\",\n"
        for f in flags
    )
    return f"""
SELECT c.child_key,
       c.nc_year AS "Year Group",
       c.last_assessment_on AS "Last Assessment",
       c.sex AS "Gender",
       c.indicators AS "Indicators",
{cells}       c.response AS "Response",
       c.status AS "Status",
       c.current_progress AS "Current Progress",
       c.overall_progress AS "Overall Progress"
FROM children c
LEFT JOIN child_flags f ON f.child_key = c.child_key
WHERE c.urn = :urn AND c.indicators > 0
GROUP BY c.child_key, c.nc_year, c.last_assessment_on, c.sex, c.indicators,
         c.response, c.status, c.current_progress, c.overall_progress
ORDER BY c.indicators DESC, c.nc_year, c.child_key
"""


# The screens as the catalogue's flags make them when this module is imported (the docs show
# these); the functions below build them from the catalogue at each call.
COUNTY_TOTALS_BY_ZONE = county_totals_by_zone_sql(open_flags())
SCHOOL_CHILDREN = school_children_sql(open_flags())
SCHOOL_CHILDREN_COLUMNS = school_children_columns(open_flags())

HUDDLE_LIST = """
SELECT c.child_key,
       c.nc_year AS year_group,
       c.sex,
       c.indicators,
       c.flags,
       SUM(CASE WHEN h.raised_on >= :since THEN 1 ELSE 0 END) AS raised_since,
       SUM(CASE WHEN h.cleared_on >= :since THEN 1 ELSE 0 END) AS cleared_since,
       SUM(CASE WHEN h.raised_on >= :since AND h.reflagged_within_12m THEN 1 ELSE 0 END)
         AS reflagged_since,
       c.response,
       c.status,
       c.current_progress,
       c.outcome_on
FROM children c
LEFT JOIN flag_history h ON h.child_key = c.child_key
WHERE c.urn = :urn
GROUP BY c.child_key, c.nc_year, c.sex, c.indicators, c.flags,
         c.response, c.status, c.current_progress, c.outcome_on
HAVING c.indicators > 0 OR SUM(CASE WHEN h.cleared_on >= :since THEN 1 ELSE 0 END) > 0
ORDER BY c.indicators DESC, c.nc_year, c.child_key
"""

REGISTER_NOT_RECEIVED = """
SELECT s.urn, s.name, s.zone, f.last_received_at, f.data_as_of
FROM schools s
LEFT JOIN freshness f ON f.urn = s.urn AND f.source = 'register'
WHERE f.data_as_of IS NULL OR f.data_as_of < :day
ORDER BY s.zone, s.urn
"""

REFLAGGED_BY_ZONE = """
SELECT s.zone, h.flag,
       COUNT(*) AS raised,
       SUM(CASE WHEN h.reflagged_within_12m THEN 1 ELSE 0 END) AS reflagged_within_12m
FROM flag_history h
JOIN schools s ON s.urn = h.urn
WHERE h.raised_on >= :since
GROUP BY s.zone, h.flag
ORDER BY s.zone, h.flag
"""

SCREENS: dict[str, str] = {
    "county totals by zone": COUNTY_TOTALS_BY_ZONE,
    "zone trend for a flag": ZONE_TREND,
    "county trend": COUNTY_TREND,
    "a school's flagged children": SCHOOL_CHILDREN,
    "half-termly huddle list": HUDDLE_LIST,
    "schools without today's register": REGISTER_NOT_RECEIVED,
    "re-referrals by zone": REFLAGGED_BY_ZONE,
}


def _q(sql: str, dates: Sequence[str] = (), types: dict[str, Any] | None = None) -> TextualSelect:
    # Typed binds and result columns (matched by name): SQLite hands dates back as text.
    clause = text(sql).bindparams(*(bindparam(d, type_=Date) for d in dates))
    return clause.columns(**(types or {}))


def county_totals_by_zone(conn: Connection) -> list[Row[Any]]:
    """Current children and flagged children per flag, per zone."""
    return list(conn.execute(text(county_totals_by_zone_sql(open_flags()))))


def zone_trend(conn: Connection, flag: str) -> list[Row[Any]]:
    """(day, zone, on_roll, flagged) for one flag ('ANY' for any flag), every school day."""
    q = _q(ZONE_TREND, types={"day": Date, "on_roll": Integer, "flagged": Integer})
    return list(conn.execute(q, {"flag": flag}))


def county_trend(conn: Connection) -> list[tuple[date, int]]:
    """(day, children with any flag) for every school day, oldest first."""
    rows = conn.execute(_q(COUNTY_TREND, types={"day": Date, "flagged": Integer}))
    return [(day, int(n)) for day, n in rows]


def school_children(conn: Connection, urn: str) -> list[Row[Any]]:
    """A school's flagged children: child_key, then the council's original columns."""
    q = _q(school_children_sql(open_flags()), types={"Last Assessment": Date})
    return list(conn.execute(q, {"urn": urn}))


def huddle_list(conn: Connection, urn: str, since: date) -> list[Row[Any]]:
    """Children to discuss at a school's half-termly huddle (half term starting `since`)."""
    q = _q(HUDDLE_LIST, ["since"], {"outcome_on": Date})
    return list(conn.execute(q, {"urn": urn, "since": since}))


def register_not_received(conn: Connection, day: date) -> list[Row[Any]]:
    """Schools whose latest register is for a day before `day` (or never sent)."""
    q = _q(REGISTER_NOT_RECEIVED, ["day"], {"data_as_of": Date})
    return list(conn.execute(q, {"day": day}))


def reflagged_by_zone(conn: Connection, since: date) -> list[Row[Any]]:
    """Flags raised since a date per zone, and how many were re-referrals within 12 months."""
    return list(conn.execute(_q(REFLAGGED_BY_ZONE, ["since"]), {"since": since}))
