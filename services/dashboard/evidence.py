"""Evidence of outcomes screens: re-referrals, flag -> response -> progress, term-on-term
trends and rates by pupil group, with national reference lines.

Who sees what (docs/dashboard.md "Evidence of outcomes"): managers and admins the county by
zone, zone users their own zone by school, school staff and DSLs their own school. Anything
else is 403, the same answer as for a zone or school that does not exist. The figures are
aggregates with the sensitive flags left out (readmodel/evidence.py); every view is still
audited, since small counts about one school are about children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import Connection

from readmodel import changes, evidence
from readmodel.national import ReferenceData, load_reference

from . import evidence_charts as charts
from . import queries
from .authz import Principal
from .context import Context, forbid
from .page_deps import Ctx, Who

router = APIRouter()
PA_FLAG = "ATTEND"  # the flag drawn against the national persistent-absence figure


@lru_cache(maxsize=1)
def reference_data() -> ReferenceData:
    """The packaged national figures, read once (a broken file fails the first page)."""
    return load_reference()


@dataclass(frozen=True, slots=True)
class Area:
    """What the screen is about: the county, a zone or a school, and its words."""

    level: str  # county, zone or school
    title: str
    zone: str | None = None
    urn: str | None = None
    group_word: str = "Zone"


@router.get("/evidence")
def county_evidence(request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.can_see_county())
    return _page(request, ctx, who, Area("county", "County"))


@router.get("/evidence/zones/{zone}")
def zone_evidence(zone: str, request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.can_see_zone(zone))
    with ctx.read_as(who) as conn:
        if not queries.school_counts(conn, zone):
            raise HTTPException(404, f"No zone called {zone!r}.")
    return _page(request, ctx, who, Area("zone", zone, zone=zone, group_word="School"))


@router.get("/evidence/schools/{urn}")
def school_evidence(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    with ctx.read_as(who) as conn:
        found = queries.school(conn, urn)
    forbid(found is not None and who.can_see_school(urn, found.zone))
    assert found is not None
    area = Area("school", found.name, zone=found.zone, urn=urn, group_word="School")
    return _page(request, ctx, who, area)


def _page(request: Request, ctx: Context, who: Principal, area: Area) -> Response:
    calendar = ctx.term_calendar
    with ctx.read_as(who) as conn:
        today = queries.latest_register_day(conn) or ctx.clock().date()
        key = (area.level, area.zone, area.urn, who.role, who.scope, today)
        entry = ctx.evidence_cache.get(
            key, changes.version(conn).seq, lambda: _figures(conn, ctx, area, today), ctx.clock
        )
    data = dict(entry.figures)
    data["computed_at"] = entry.computed_at
    data["cache_max_age_s"] = ctx.evidence_cache.max_age_s
    shown = len(data["referrals"]) + len(data["flow"]) + len(data["trends"])
    ctx.record(who, request, "view_evidence", urn=area.urn, rows=shown, detail=area.level)
    ref = reference_data()
    term = data["term"]
    pa = ref.for_flag(PA_FLAG, term.label if term else "")
    data["charts"] = _charts(area, data, pa)
    data["pa_figure"] = pa
    page = ctx.render(
        request,
        "evidence.html",
        who,
        area=area,
        today=today,
        reference=ref,
        calendar_terms=[t.name for t in calendar.terms()],
        **data,
    )
    return page  # type: ignore[no-any-return]


def _figures(conn: Connection, ctx: Context, area: Area, today: date) -> dict[str, Any]:
    calendar = ctx.term_calendar
    zone = area.zone if area.level == "zone" else None
    term, trends = evidence.term_trends(conn, calendar, today, zone, area.urn)
    starts = term.starts if term else today
    referrals = evidence.rereferrals(conn, calendar, zone, area.urn, ctx.reflag_after_days)
    shown_terms = sorted({r.term for r in referrals}, key=_term_order(ctx))[-3:]
    return {
        "term": term,
        "referrals": [r for r in referrals if r.term in shown_terms],
        "referral_terms": shown_terms,
        "flow": evidence.response_flow(conn, _year_start(ctx, starts), today, zone, area.urn),
        "trends": evidence.by_zone(trends) if area.level == "county" else trends,
        "groups": evidence.group_rates(conn, queries.flag_columns(), zone, area.urn),
        "flags": queries.flag_columns(),
    }


def _term_order(ctx: Context) -> Any:
    order = {t.name: i for i, t in enumerate(ctx.term_calendar.terms())}
    return lambda name: order.get(name, -1)


def _year_start(ctx: Context, day: date) -> date:
    """The first day of the school year containing `day` (for the flow's period)."""
    term = ctx.term_calendar.term_of(day)
    if term is None:
        return day
    firsts = [t.starts for t in ctx.term_calendar.terms() if t.school_year == term.school_year]
    return min(firsts)


def _charts(area: Area, data: dict[str, Any], pa: Any) -> list[charts.BarChart]:
    out = []
    terms: list[str] = data["referral_terms"]
    groups = sorted({(r.group, r.group_name) for r in data["referrals"]}, key=lambda g: g[1])
    if groups:
        by = {(r.group, r.term): r.rate for r in data["referrals"]}
        out.append(
            charts.bar_chart(
                "Re-referrals within 12 months, per 100 flagged children",
                [name for _, name in groups],
                {t: [by.get((g, t)) for g, _ in groups] for t in terms},
                "Re-referred per 100 flagged",
                area.group_word,
            )
        )
    pa_rows = [t for t in data["trends"] if t.flag.upper() == PA_FLAG]
    if pa_rows and data["term"] is not None:
        series: dict[str, list[float | None]] = {}
        for label, field in (
            ("This term", "this"),
            ("Previous term", "previous"),
            ("Same term last year", "last_year"),
        ):
            figures: list[evidence.TermFigure | None] = [getattr(t, field) for t in pa_rows]
            values = [f.rate if f else None for f in figures]
            if any(v is not None for v in values):
                series[label] = values
        refs = [charts.Reference(pa.percent, pa.label)] if pa else []
        out.append(
            charts.bar_chart(
                f"Attendance flag: children flagged per 100 on roll, {data['term'].name}",
                [t.name for t in pa_rows],
                series,
                "Flagged per 100 pupils",
                area.group_word,
                refs,
            )
        )
    return out
