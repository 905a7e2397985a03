"""The signed-in user's alerts: the inbox the notifier fills, and what they choose to be
emailed. Both read and write the alerts store (flagstream/alerts.py), never the read model.

An inbox row names a child only by the link to their page, and the child page does its own
check: the safeguarding detail is for the DSL of the child's current school alone, and
anyone else gets the same refusal as for a child that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from flagstream import alerts

from .authz import Principal
from .page_deps import Ctx, Who
from .security import csrf_ok

router = APIRouter()
# Which emails a role may choose: safeguarding emails reach DSLs only, the daily digest is
# a school's, the weekly digest a zone's.
CHOICES: dict[str, tuple[str, ...]] = {
    "dsl": ("safeguarding_email", "daily_school"),
    "school": ("daily_school",),
    "zone": ("weekly_zone",),
}
LABELS = {
    "safeguarding_email": "Email me at once when a new safeguarding notification arrives "
    "(the email carries only a link)",
    "daily_school": "Daily digest of newly raised flags at my school",
    "weekly_zone": "Weekly digest of newly raised flags in my zone",
}


def choices_of(who: Principal) -> tuple[str, ...]:
    return CHOICES.get(who.role, ())


@router.get("/inbox")
def inbox(request: Request, ctx: Ctx, who: Who) -> Response:
    rows: list[alerts.InboxRow] = []
    if ctx.alerts_db is not None:
        with ctx.alerts_db.connect() as conn:
            rows = alerts.inbox_of(conn, who.username)
    ctx.record(who, request, "view_inbox", rows=len(rows))
    return ctx.render(request, "inbox.html", who, messages=rows)  # type: ignore[no-any-return]


@router.post("/inbox/{message_id}/read")
def mark_read(
    message_id: str, request: Request, ctx: Ctx, who: Who, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if not csrf_ok(request.session, csrf_token):
        raise HTTPException(403, "The form expired. Reload the page and try again.")
    if ctx.alerts_db is None or len(message_id) > 80:
        raise HTTPException(404, "No such message.")
    with ctx.alerts_db.begin() as conn:
        if not alerts.mark_read(conn, who.username, message_id, ctx.clock()):
            raise HTTPException(404, "No such message.")  # another user's reads as absent
    return RedirectResponse("/inbox", status_code=303)


@router.get("/preferences")
def preferences(request: Request, ctx: Ctx, who: Who, saved: str = "") -> Response:
    prefs = alerts.Prefs()
    if ctx.alerts_db is not None:
        with ctx.alerts_db.connect() as conn:
            prefs = alerts.prefs_of(conn, who.username)
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "preferences.html",
        who,
        choices=[(c, LABELS[c], getattr(prefs, c)) for c in choices_of(who)],
        saved=saved == "1",
    )


@router.post("/preferences")
def save_preferences(
    request: Request,
    ctx: Ctx,
    who: Who,
    csrf_token: Annotated[str, Form()] = "",
    safeguarding_email: Annotated[str, Form()] = "",
    daily_school: Annotated[str, Form()] = "",
    weekly_zone: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request.session, csrf_token):
        raise HTTPException(403, "The form expired. Reload the page and save again.")
    if ctx.alerts_db is None:
        raise HTTPException(503, "Alerts are not configured on this dashboard.")
    allowed = choices_of(who)
    # A choice the role may not make stays at its default (off; the safeguarding email on,
    # and only a DSL is ever sent one).
    chosen = alerts.Prefs(
        safeguarding_email=bool(safeguarding_email) if "safeguarding_email" in allowed else True,
        daily_school="daily_school" in allowed and bool(daily_school),
        weekly_zone="weekly_zone" in allowed and bool(weekly_zone),
    )
    with ctx.alerts_db.begin() as conn:
        alerts.set_prefs(conn, who.username, chosen, ctx.clock())
    return RedirectResponse("/preferences?saved=1", status_code=303)
