"""The dashboard web app: sessions, login, security headers, error pages, routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from . import exports, pages
from .authz import Principal
from .context import HERE, Context, NotSignedIn
from .security import csrf_ok
from .users import verify_password

SESSION_MAX_AGE_S = 8 * 3600  # One working day.


def create_app(ctx: Context, secret: str, secure_cookies: bool = True) -> FastAPI:
    """Build the app around its collaborators; nothing connects at import time."""
    app = FastAPI(title="Flagstream dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx

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

    # Added after the header middleware so it runs first (outermost) and sessions exist.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="flagstream_session",
        max_age=SESSION_MAX_AGE_S,
        same_site="strict",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(NotSignedIn)
    async def to_login(request: Request, _exc: NotSignedIn) -> Response:
        if request.method == "GET" and not request.url.path.endswith((".csv", "/table")):
            return RedirectResponse("/login", status_code=303)
        return Response("Sign in first.", status_code=401)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        try:
            who: Principal | None = ctx.principal(request)
        except NotSignedIn:
            who = None
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
        keys = (f"user:{username.lower()}", f"ip:{client}")
        wait = ctx.limiter.retry_after(*keys)
        if wait:
            raise HTTPException(
                429,
                f"Too many failed sign-ins. Try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        user = ctx.users.get(username)
        if not verify_password(user, password) or user is None:
            ctx.limiter.failed(*keys)
            page = ctx.render(
                request, "login.html", None, 401, error="User name or password is wrong."
            )
            return page  # type: ignore[no-any-return]
        ctx.limiter.succeeded(keys[0])
        request.session.clear()  # A fresh session (and CSRF token) at every sign-in.
        request.session["user"] = user.username
        return RedirectResponse(Principal.of(user).home(), status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(request.session, csrf_token):
            raise HTTPException(403, "The form expired. Reload the page and try again.")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(pages.router)
    app.include_router(exports.router)
    return app
