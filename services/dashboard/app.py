"""The dashboard web app: sessions, login, security headers, error pages, routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from . import (
    absence_lists,
    casework_pages,
    early_years,
    evidence,
    exports,
    huddle_record,
    inbox,
    live_routes,
    oidc,
    pages,
)
from .authz import Principal
from .context import HERE, Context, NotSignedIn
from .live_hub import LiveHub
from .security import csrf_ok
from .users import MAX_USERNAME, verify_password

log = logging.getLogger("flagstream.dashboard")


def _asked(request: Request) -> dict[str, Any]:
    """The school and child a refused request named, for its audit row (if they fit)."""
    params = request.path_params
    urn, child_key = params.get("urn"), params.get("child_key")
    return {
        "urn": urn if isinstance(urn, str) and len(urn) <= 6 else None,
        "child_key": child_key if isinstance(child_key, str) and len(child_key) <= 64 else None,
    }


def create_app(ctx: Context, secret: str, secure_cookies: bool = True) -> FastAPI:
    """Build the app around its collaborators; nothing connects at import time."""
    app = FastAPI(title="Flagstream dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.live = LiveHub(ctx, ctx.live_poll_ms / 1000)  # one watcher for every open page

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # Pupil data stays off disk caches.
        return response

    # Added after the header middleware so it runs first (outermost) and sessions exist. The
    # signed cookie carries the CSRF token and the session id; the store decides if it holds.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="flagstream_session",
        max_age=int(ctx.session_store.lifetime.total_seconds()),
        same_site="strict",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(NotSignedIn)
    async def to_login(request: Request, _exc: NotSignedIn) -> Response:
        path = request.url.path
        if request.method == "GET" and not (
            path.endswith((".csv", "/table")) or path.startswith("/live/")
        ):
            return RedirectResponse("/login", status_code=303)
        return Response("Sign in first.", status_code=401)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        try:
            who: Principal | None = ctx.principal(request, active=False)
        except NotSignedIn:
            who = None
        if exc.status_code == 403 and who is not None:
            # Out of scope and absent answer alike, so both leave the same denial row.
            ctx.record(who, request, "denied", detail=str(exc.detail)[:200], **_asked(request))
        headers = dict(exc.headers or {})
        page = ctx.render(
            request, "error.html", who, exc.status_code, message=exc.detail, code=exc.status_code
        )
        page.headers.update(headers)
        return page  # type: ignore[no-any-return]

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return ctx.render(request, "login.html", None)  # type: ignore[no-any-return]

    @app.post("/login")
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        if not csrf_ok(request.session, csrf_token):
            raise HTTPException(403, "The form expired. Reload the page and sign in again.")
        client = request.client.host if request.client else "unknown"
        name = username[:MAX_USERNAME]  # A longer name is never looked up, nor kept whole.
        keys = (f"user:{name.lower()}", f"ip:{client}")
        wait = ctx.limiter.retry_after(*keys)
        if wait:
            log.warning("sign-in refused (rate limit) for %r from %s", name, client)
            raise HTTPException(
                429,
                f"Too many failed sign-ins. Try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        user = ctx.users.get(username) if len(username) <= MAX_USERNAME else None
        if not verify_password(user, password) or user is None:
            ctx.limiter.failed(*keys)
            ctx.record(None, request, "sign_in_failed", username=name, detail=f"client {client}")
            page = ctx.render(
                request, "login.html", None, 401, error="User name or password is wrong."
            )
            return page  # type: ignore[no-any-return]
        ctx.limiter.succeeded(keys[0])
        now, old = ctx.clock(), request.session.get("sid")
        if isinstance(old, str):
            ctx.session_store.end(old, now, "replaced")
        request.session.clear()  # A fresh session (and CSRF token) at every sign-in.
        request.session["sid"] = ctx.session_store.start(user, now)
        who = Principal.of(user)
        ctx.record(who, request, "sign_in", detail=f"client {client}")
        return RedirectResponse(who.home(), status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(request.session, csrf_token):
            raise HTTPException(403, "The form expired. Reload the page and try again.")
        token = request.session.get("sid")
        if isinstance(token, str):
            # An already-ended session (idle, expired, user changed) has nothing to record.
            with suppress(NotSignedIn):
                ctx.record(ctx.principal(request, active=False), request, "sign_out")
            ctx.session_store.end(token, ctx.clock(), "sign_out")  # Copies of the cookie too.
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(pages.router)
    app.include_router(live_routes.router)
    app.include_router(exports.router)
    app.include_router(huddle_record.router)
    if ctx.oidc is not None:  # council sign-in configured
        app.include_router(oidc.router)
    app.include_router(inbox.router)
    app.include_router(casework_pages.router)
    app.include_router(evidence.router)
    app.include_router(early_years.router)
    app.include_router(absence_lists.router)
    return app
