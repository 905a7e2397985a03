"""The live streams a school or zone page opens: server-sent events carrying the rows that
changed, for as long as the viewer's session holds (docs/dashboard.md, Live updates)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from .authz import Principal
from .context import Context, NotSignedIn, forbid
from .live_hub import CLOSE, LiveHub
from .live_views import SchoolView, View, ZoneView, zone_rows
from .page_deps import Polled, _school_or_403, ctx_of

router = APIRouter()

# Proxies must pass events on as they come (nginx buffers unless told not to).
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def hub_of(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live
    return hub


def _since(request: Request, since: int | None) -> int | None:
    """The version the page has: the id of the last event it got (a reconnect), else the
    one its HTML showed."""
    last = request.headers.get("last-event-id", "")
    return int(last) if last.isdigit() else since


def _session_holds(ctx: Context, token: str, who: Principal) -> bool:
    user = ctx.session_store.resume(token, ctx.users, ctx.clock(), active=False)
    return user is not None and Principal.of(user) == who


def _stream(request: Request, who: Principal, view: View, since: int | None) -> StreamingResponse:
    ctx, hub = ctx_of(request), hub_of(request)
    token = request.session.get("sid")
    if not isinstance(token, str):
        raise NotSignedIn

    async def events() -> AsyncIterator[str]:
        start = since if since is not None else await run_in_threadpool(hub.version)
        sub = hub.join(who, token, view, start)
        try:
            yield f"retry: {ctx.live_retry_ms}\n\n"
            ends = time.monotonic() + ctx.live_stream_seconds
            while (left := ends - time.monotonic()) > 0:
                try:
                    wait = min(left, ctx.live_recheck_seconds)
                    message = await asyncio.wait_for(sub.queue.get(), wait)
                except TimeoutError:
                    message = ": keep-alive\n\n"
                if message == CLOSE:
                    break
                if time.monotonic() - sub.checked >= ctx.live_recheck_seconds:
                    sub.checked = time.monotonic()
                    if not await run_in_threadpool(_session_holds, ctx, token, who):
                        yield "event: ended\ndata: {}\n\n"
                        break
                yield message
        finally:
            hub.leave(sub)

    return StreamingResponse(events(), media_type="text/event-stream", headers=STREAM_HEADERS)


Since = Annotated[int | None, Query(ge=0)]


@router.get("/live/schools/{urn}")
async def school_stream(
    urn: str,
    request: Request,
    who: Polled,
    since: Since = None,
    flag: str = "",
    year: Annotated[int | None, Query()] = None,
) -> StreamingResponse:
    """A school page's changed rows as they are projected, for as long as the session holds."""
    ctx = ctx_of(request)
    await run_in_threadpool(_school_or_403, ctx, who, urn)
    view = SchoolView.of(who, urn, flag, year)
    await run_in_threadpool(ctx.record, who, request, "live_school_stream", urn=urn, rows=0)
    return _stream(request, who, view, _since(request, since))


@router.get("/live/zones/{zone}")
async def zone_stream(
    zone: str, request: Request, who: Polled, since: Since = None
) -> StreamingResponse:
    """A zone page's school counts as they change."""
    forbid(who.can_see_zone(zone))
    view = ZoneView(zone)
    rows = await run_in_threadpool(zone_rows, ctx_of(request), who, view)
    if not rows:
        raise HTTPException(404, f"No zone called {zone!r}.")
    hub_of(request).prime(view, rows)
    return _stream(request, who, view, _since(request, since))
