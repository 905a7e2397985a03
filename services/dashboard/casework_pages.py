"""Case work routes: the child's case work forms and the overdue reviews of a zone or school.

Every answer for someone not allowed is the 403 a missing child or school gets (`forbid`),
every view and change is audited, and every form carries the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, select

from readmodel.tables import children, schools

from . import casework, casework_view, people
from .authz import Principal
from .context import Context, forbid
from .page_deps import Ctx, Who, _child_or_403, _school_or_403
from .security import csrf_ok

router = APIRouter()

OptionalDate = Annotated[str, Form()]


def _date(value: str, what: str) -> date | None:
    """An optional date field: empty is None, anything else must be YYYY-MM-DD."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise casework.CaseworkError(f"The {what} must be a date (YYYY-MM-DD).") from None


def _change(
    ctx: Context,
    request: Request,
    who: Principal,
    child_key: str,
    csrf_token: str,
    what: str,
    write: Callable[[Connection], None],
) -> Response:
    """Check the form and the viewer, write the change and its audit row in one transaction
    (a refused change leaves neither), back to the child page. All input is checked inside
    `write`, after the scope check: a refused viewer learns nothing from a validation
    message."""
    if not csrf_ok(request.session, csrf_token):
        raise HTTPException(403, "The form expired. Reload the page and submit it again.")
    row, found = _child_or_403(ctx, who, child_key)
    forbid(casework_view.allowed(who, row, found))
    try:
        with ctx.audit_db.begin() as conn:
            write(conn)
            ctx.record(
                who, request, "change_casework", conn=conn, child_key=child_key,
                urn=found.urn, detail=what,
            )  # fmt: skip
    except casework.CaseworkError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse(f"/children/{child_key}#casework-h", status_code=303)


@router.post("/children/{child_key}/casework/lead")
def save_lead(
    child_key: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    lead_name: Annotated[str, Form()] = "",
    lead_role: Annotated[str, Form()] = "",
    next_review_on: OptionalDate = "",
    notes: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    def write(conn: Connection) -> None:
        due = _date(next_review_on, "next review date")
        casework.save_lead(
            conn,
            child_key,
            lead_name=lead_name,
            lead_role=lead_role,
            next_review_on=due,
            notes=notes,
            by=who.username,
            now=ctx.clock(),
        )

    return _change(ctx, request, who, child_key, csrf_token, "lead, review date, notes", write)


@router.post("/children/{child_key}/casework/actions")
def add_action(
    child_key: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    text: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    due_on: OptionalDate = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    def write(conn: Connection) -> None:
        due = _date(due_on, "action's due date")
        casework.add_action(
            conn, child_key, text=text, owner=owner, due_on=due, by=who.username, now=ctx.clock()
        )

    return _change(ctx, request, who, child_key, csrf_token, "action added", write)


@router.post("/children/{child_key}/casework/actions/{action_id}")
def mark_action(
    child_key: str,
    action_id: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    done: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    def write(conn: Connection) -> None:
        # Parsed here, after the scope check: a malformed id answers like a missing one.
        if not action_id.isdigit():
            raise casework.CaseworkError("No such action for this child.")
        casework.set_done(conn, child_key, int(action_id), done == "1")

    what = f"action {action_id} {'done' if done == '1' else 'not done'}"
    return _change(ctx, request, who, child_key, csrf_token, what, write)


@router.post("/children/{child_key}/casework/reviews")
def record_review(
    child_key: str,
    request: Request,
    ctx: Ctx,
    who: Who,
    held_on: OptionalDate = "",
    next_review_on: OptionalDate = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    def write(conn: Connection) -> None:
        held = _date(held_on, "review date")
        if held is None:
            raise casework.CaseworkError("Enter the date the review was held.")
        due = _date(next_review_on, "next review date")
        casework.record_review(
            conn, child_key, held_on=held, next_review_on=due, by=who.username, now=ctx.clock()
        )

    return _change(ctx, request, who, child_key, csrf_token, "review held", write)


def _overdue_page(
    ctx: Context,
    request: Request,
    who: Principal,
    title: str,
    zone: str | None = None,
    urn: str | None = None,
) -> Response:
    """Overdue reviews of children now at a school of `zone` (or at `urn`): case work from
    the audit database, joined in Python by child_key with the read model's current school."""
    today = ctx.clock().date()
    with ctx.audit_db.connect() as conn:
        overdue = casework.overdue_reviews(conn, today)
    where: dict[str, dict[str, Any]] = {}
    if overdue:
        stmt = (
            select(children.c.child_key, schools.c.urn, schools.c.name, schools.c.zone)
            .join(schools, schools.c.urn == children.c.urn)
            .where(children.c.child_key.in_([o.child_key for o in overdue]))
        )
        stmt = stmt.where(schools.c.zone == zone) if zone else stmt.where(schools.c.urn == urn)
        with ctx.read_as(who) as conn:
            where = {r.child_key: dict(r._mapping) for r in conn.execute(stmt)}
    rows = [o for o in overdue if o.child_key in where]
    ctx.record(who, request, "view_casework_reviews", urn=urn, rows=len(rows), detail=zone)
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "casework_reviews.html",
        who,
        title=title,
        zone=zone,
        rows=rows,
        where=where,
        shown=people.labels(ctx, who, [o.child_key for o in rows]),
        today=today,
    )


@router.get("/zones/{zone}/reviews")
def zone_reviews(zone: str, request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.sees_zone_casework(zone))
    return _overdue_page(ctx, request, who, f"Overdue case work reviews: {zone}", zone=zone)


@router.get("/schools/{urn}/reviews")
def school_reviews(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    found = _school_or_403(ctx, who, urn)
    forbid(who.can_see_casework(found.urn, found.zone))
    return _overdue_page(ctx, request, who, f"Overdue case work reviews: {found.name}", urn=urn)
