"""Recording a huddle from its list: the day it met, the attendees' roles and, for each child
the meeting reviewed, the response agreed and the status. Like an outcome, it is an event
sent through ingest (HuddleRecorded, by UPN, which ingest turns into child keys); the
projector writes it, and the next huddle list shows what changed after that day.

Who may record: the school's own staff and DSL, and the users of the school's zone
(Principal.can_record_huddle). Each reviewed child must be on this school's list as the
viewer sees it; any other key gets the same refusal whether or not the child exists."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from readmodel.tables import children

from . import people
from .authz import Principal
from .context import Context, forbid
from .outcomes import RESPONSES, STATUSES, HuddleForm, SendError
from .page_deps import Ctx, Who, _school_or_403
from .security import csrf_ok

router = APIRouter()

# Who comes to a school's huddle (roles only: the record never names people).
ROLES: Final = (
    "DSL",
    "Head teacher",
    "SENCo",
    "Class or form teacher",
    "Attendance officer",
    "Zone lead",
    "Family support worker",
    "Education welfare officer",
    "School nurse",
)
OUTSIDE_TERM: Final = "Outside term time"


def form_fields(ctx: Context, who: Principal, urn: str, zone: str) -> dict[str, Any]:
    """What the huddle page needs to offer the form (nothing when the viewer may not)."""
    if not who.can_record_huddle(urn, zone):
        return {"can_record": False}
    return {
        "can_record": True,
        "form_event_id": str(uuid.uuid4()),
        "today": ctx.clock().date().isoformat(),
        "roles": ROLES,
        "responses": RESPONSES,
        "statuses": STATUSES,
    }


def _reviewed(form: Any, keys: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for key in keys:
        response, status = form.get(f"response-{key}", ""), form.get(f"status-{key}", "")
        if response not in RESPONSES or status not in STATUSES:
            raise HTTPException(422, "Choose a response and a status for each child reviewed.")
        out.append((key, str(response), str(status)))
    return out


def _on_list(ctx: Context, who: Principal, urn: str, keys: list[str]) -> bool:
    """Every key is a child of this school the viewer may see (row-level security too)."""
    c = children.c
    with ctx.read_as(who) as conn:
        found = set(conn.scalars(select(c.child_key).where(c.urn == urn, c.child_key.in_(keys))))
    return found == set(keys)


@router.post("/schools/{urn}/huddle")
async def record_huddle(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    if not csrf_ok(request.session, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "The form expired. Reload the page and submit it again.")
    found = _school_or_403(ctx, who, urn)
    forbid(who.can_record_huddle(urn, found.zone))
    try:
        held_on = date.fromisoformat(str(form.get("held_on", "")))
        token = uuid.UUID(str(form.get("event_id", "")))
    except ValueError:
        raise HTTPException(422, "Give the day the huddle met.") from None
    if held_on > ctx.clock().date():
        raise HTTPException(422, "The huddle's day cannot be in the future.")
    attendees = [str(r) for r in form.getlist("attendees") if r in ROLES]
    if not attendees:
        raise HTTPException(422, "Tick the roles of those who attended.")
    keys = list(dict.fromkeys(str(k) for k in form.getlist("reviewed")))
    reviews = _reviewed(form, keys)
    if keys and not _on_list(ctx, who, urn, keys):
        raise HTTPException(422, "A child reviewed is not on this school's list.")
    upns = {key: people.upn_for_sending(ctx, key) for key in keys}
    if any(upn is None for upn in upns.values()):
        raise HTTPException(
            409, "A child reviewed is not in the identity store yet, so ingest cannot key it."
        )
    half = ctx.term_calendar.half_term_of(held_on)
    huddle = HuddleForm(
        event_id=str(token),
        urn=urn,
        half_term=half.name if half is not None else OUTSIDE_TERM,
        held_on=held_on,
        attendees=tuple(attendees),
        recorded_by=who.username,
        reviews=tuple((upns[k] or "", response, status) for k, response, status in reviews),
    )
    what = f"form {token}: held on {held_on}, {len(reviews)} children reviewed"
    ctx.record(who, request, "record_huddle", urn=urn, rows=len(reviews), detail=what)
    try:
        ctx.sender.send_huddle(huddle)
    except SendError as exc:
        raise HTTPException(502, f"The huddle was not recorded: {exc}") from exc
    return RedirectResponse(f"/schools/{urn}/huddle?sent=1", status_code=303)
