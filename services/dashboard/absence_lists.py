"""A school's absence lists for its termly targeting support meetings: the pupils on roll in
the severe, persistent and at-risk bands of the school year to date, or of the term to date
with `?by=term` (docs/dashboard.md).
The bands are the rules file's Attend thresholds (attend.band): where a pupil is today, where
the ATTEND flag also says how they got there (it clears below a lower level)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from . import leavers, people, queries
from .absence_bands import BANDS, Measure, banded
from .context import forbid
from .page_deps import Ctx, Who

router = APIRouter()


def on_roll(conn: Connection, urn: str) -> list[dict[str, Any]]:
    """The school's children who have not left it."""
    rows = queries.school_children(conn, urn)
    leavers.annotate(conn, rows, urn)
    return [r for r in rows if r["left_on"] is None]


@router.get("/schools/{urn}/absence")
def absence_lists(urn: str, request: Request, ctx: Ctx, who: Who, by: str = "year") -> Response:
    """The severe, persistent and at-risk absence lists of one school, banded by the year to
    date or (by=term) the term to date; any other `by` is the year to date."""
    measure: Measure = "term" if by == "term" else "year"
    with ctx.read_as(who) as conn:
        found = queries.school(conn, urn)
        forbid(found is not None and who.can_see_school(urn, found.zone))
        bands = banded(on_roll(conn, urn), ctx.attend, measure)
    listed = [r["child_key"] for members in bands.values() for r in members]
    ctx.record(
        who, request, "view_absence_lists", urn=urn, rows=len(listed), detail=f"by {measure}"
    )
    starts = {r["term_start"] for members in bands.values() for r in members} - {None}
    terms = sorted(t.name for d in starts if (t := ctx.term_calendar.term_of(d)) is not None)
    shown = people.labels(ctx, who, listed)
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "absence_lists.html",
        who,
        school=found,
        bands=[(name, title, bands[name]) for name, title in BANDS],
        shown=shown,
        s=ctx.attend,
        by=measure,
        terms=terms,
    )
