"""County -> zone -> school -> child screens; every query is scoped by the viewer's role.

What the routes take (context, viewer, a school or child they may see) is page_deps.py; the
school's child table, shared with the live views, is school_table.py."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from readmodel import changes

from . import absence_bands, casework_view, charts, leavers, people, queries, siblings
from .context import forbid
from .live_etag import matches, table_etag
from .outcomes import RESPONSES, STATUSES, OutcomeForm, SendError
from .page_deps import Ctx, Polled, Who, _child_or_403, _school_or_403
from .school_table import _table_data
from .security import csrf_ok

router = APIRouter()


@router.get("/")
def county(request: Request, ctx: Ctx, who: Who) -> Response:
    if not who.can_see_county():
        return RedirectResponse(who.home(), status_code=303)
    with ctx.read_as(who) as conn:
        zones = queries.zone_counts(conn)
        series = queries.trends(conn)
        today = queries.latest_register_day(conn)
        late = queries.late_schools(conn, today)
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "county.html",
        who,
        zones=zones,
        flags=queries.flag_columns(),
        trends=charts.trends(series),
        today=today,
        late=late,
    )


@router.get("/zones/{zone}")
def zone(zone: str, request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.can_see_zone(zone))
    with ctx.read_as(who) as conn:
        live_seq = changes.version(conn).seq  # before the counts: a change between is resent
        schools = queries.school_counts(conn, zone)
        if not schools:
            raise HTTPException(404, f"No zone called {zone!r}.")
        series = queries.trends(conn, zone)
        today = queries.latest_register_day(conn)
        late = queries.late_schools(conn, today, zone)
    pyramids: dict[str, list[queries.Counts]] = {}
    for row in schools:
        pyramids.setdefault(row.extra, []).append(row)
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "zone.html",
        who,
        zone=zone,
        pyramids=pyramids,
        flags=queries.flag_columns(),
        trends=charts.trends(series),
        today=today,
        late=late,
        live_seq=live_seq,
    )


SortParam = Annotated[str, Query(pattern="^[a-z_]+$")]


@router.get("/schools/{urn}")
def school(
    urn: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    sort: SortParam = "indicators",
    dir: str = "desc",
    flag: str = "",
    year: Annotated[int | None, Query()] = None,
) -> Response:
    found = _school_or_403(ctx, who, urn)
    with ctx.read() as conn:
        live_seq = changes.version(conn).seq  # before the rows: a change between is resent
    table = _table_data(ctx, who, urn, sort, dir != "asc", flag, year)
    with ctx.read_as(who) as conn:
        fresh = queries.freshness_of(conn, urn)
    ctx.record(who, request, "view_school_list", urn=urn, rows=len(table["rows"]))
    return ctx.render(  # type: ignore[no-any-return]
        request, "school.html", who, school=found, fresh=fresh, live_seq=live_seq, **table
    )


@router.get("/schools/{urn}/table")
def school_table(
    urn: str,
    request: Request,
    ctx: Ctx,
    who: Polled,
    sort: SortParam = "indicators",
    dir: str = "desc",
    flag: str = "",
    year: Annotated[int | None, Query()] = None,
) -> Response:
    """The child table alone, for pages without live streams (and plain polling clients):
    answered 304 while the read model has not changed since the tag the client holds."""
    _school_or_403(ctx, who, urn)
    tag = table_etag(ctx, who, request)
    if matches(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    table = _table_data(ctx, who, urn, sort, dir != "asc", flag, year)
    ctx.record(who, request, "live_school_list", urn=urn, rows=len(table["rows"]))
    page = ctx.render(request, "_children_table.html", who, fragment=True, **table)
    page.headers["ETag"] = tag
    return page  # type: ignore[no-any-return]


@router.get("/children/{child_key}")
def child(child_key: str, request: Request, ctx: Ctx, who: Who, sent: str = "") -> Response:
    row, found = _child_or_403(ctx, who, child_key)
    ctx.record(who, request, "view_child", child_key=child_key, urn=found.urn)
    with ctx.read_as(who) as conn:
        history = leavers.history_as_shown(queries.flag_history(conn, child_key), row)
        timeline = queries.outcome_timeline(conn, child_key)
    sensitive_now: list[dict[str, Any]] = []
    sensitive_changes: list[dict[str, Any]] = []
    notifications: list[Any] = []
    if who.sees_sensitive_at(found.urn) and row.get("left_on") is None:
        # The DSL of the child's current school: the SAFEGUARD flag and what the police
        # said, with its own audit row written before the page is shown.
        with ctx.read_as(who) as conn:
            sensitive_now, sensitive_changes = queries.restricted_of_child(
                conn, child_key, found.urn
            )
        notifications = people.notifications(ctx, child_key)
        if sensitive_now or notifications:
            ctx.record(
                who,
                request,
                "view_safeguarding",
                child_key=child_key,
                urn=found.urn,
                rows=len(notifications),
            )
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "child.html",
        who,
        child=row,
        school=found,
        shown=leavers.label(people.labels(ctx, who, [child_key]), [row])[child_key],
        flags=queries.flag_columns(),
        history=history,
        sensitive_now=sensitive_now,
        sensitive_changes=sensitive_changes,
        notifications=notifications,
        timeline=timeline,
        responses=RESPONSES,
        statuses=STATUSES,
        event_id=str(uuid.uuid4()),
        today=ctx.clock().date(),
        sent=sent == "1",
        casework=casework_view.section(ctx, request, who, row, found),
        siblings=siblings.section(ctx, who, child_key),
        absence=absence_bands.child_band(row, ctx.attend),
        term=absence_bands.term_to_date(row, ctx.term_calendar),
    )


@router.get("/children/{child_key}/outcomes")
def child_outcomes(child_key: str, request: Request, ctx: Ctx, who: Polled) -> Response:
    """The outcomes timeline alone, polled by live.js until a new outcome is projected."""
    _row, found = _child_or_403(ctx, who, child_key)
    ctx.record(who, request, "live_outcomes", child_key=child_key, urn=found.urn)
    with ctx.read_as(who) as conn:
        timeline = queries.outcome_timeline(conn, child_key)
    return ctx.render(request, "_outcomes.html", who, timeline=timeline)  # type: ignore[no-any-return]


@router.post("/children/{child_key}/outcomes")
def record_outcome(
    child_key: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    response: Annotated[str, Form()],
    status: Annotated[str, Form()],
    recorded_on: Annotated[date, Form()],
    event_id: Annotated[uuid.UUID, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request.session, csrf_token):
        raise HTTPException(403, "The form expired. Reload the page and submit it again.")
    _row, found = _child_or_403(ctx, who, child_key)
    forbid(who.can_record_outcome())
    if response not in RESPONSES or status not in STATUSES:
        raise HTTPException(422, "Choose a response and a status from the lists.")
    upn = people.upn_for_sending(ctx, child_key)
    if upn is None:
        raise HTTPException(
            409, "This child is not in the identity store yet, so ingest cannot key the outcome."
        )
    what = f"event {event_id}: {response} / {status} on {recorded_on}"
    ctx.record(who, request, "record_outcome", child_key=child_key, urn=found.urn, detail=what)
    try:
        ctx.sender.send(
            OutcomeForm(str(event_id), upn, found.urn, response, status, who.username, recorded_on)
        )
    except SendError as exc:
        raise HTTPException(502, f"The outcome was not recorded: {exc}") from exc
    return RedirectResponse(f"/children/{child_key}?sent=1", status_code=303)
