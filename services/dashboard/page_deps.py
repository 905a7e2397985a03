"""What every screen's route takes as a FastAPI dependency: the context, the viewer (`Who`,
or `Polled` for fragments fetched by live.js) and a school or a child the viewer may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from . import leavers, queries
from .authz import Principal
from .context import Context, forbid


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(ctx_of)]


def viewer(request: Request) -> Principal:
    return ctx_of(request).principal(request)


Who = Annotated[Principal, Depends(viewer)]


def poller(request: Request) -> Principal:
    return ctx_of(request).principal(request, active=False)


# For the fragments live.js fetches by itself: they do not keep an idle session alive.
Polled = Annotated[Principal, Depends(poller)]


def _school_or_403(ctx: Context, who: Principal, urn: str) -> queries.School:
    with ctx.read_as(who) as conn:
        found = queries.school(conn, urn)
    forbid(found is not None and who.can_see_school(urn, found.zone))
    assert found is not None
    return found


def _child_or_403(ctx: Context, who: Principal, child_key: str) -> tuple[dict[str, Any], Any]:
    with ctx.read_as(who) as conn:
        row = queries.child(conn, child_key)
        row = leavers.child_as_shown(conn, row, ctx.leaver_school_days) if row else None
        found = queries.school(conn, row["urn"]) if row else None
    forbid(found is not None and who.can_see_school(found.urn, found.zone))
    assert row is not None
    return row, found
