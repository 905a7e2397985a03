"""Council sign-in: OpenID Connect (authorization code + PKCE) beside the local users file.

`/login/oidc` starts a sign-in at the council's identity provider (Entra ID); the provider
sends the browser back to `/auth/callback`, which checks the state, exchanges the code,
verifies the ID token (oidc_client.py), maps its groups or app roles to a Flagstream role
and scope (oidc_mapping.py) and starts a session that carries them (sessions.py). Every
outcome is audited: `sign_in` (detail "oidc"), `sign_in_refused` for an identity with no
(or ambiguous) access, `sign_in_failed` for a callback that did not verify.

The sign-in's state, nonce and PKCE verifier travel in a cookie of their own, signed with
the dashboard secret and `SameSite=Lax`: the provider's redirect back is a cross-site
navigation, on which the `SameSite=Strict` session cookie is not sent. For the same reason
the callback answers with a page that moves on to the home page itself, so that request is
same-site and carries the new session cookie.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from flagstream.settings import DashboardSettings

from .authz import Principal
from .context import Context
from .oidc_client import OidcClient, OidcConfig, OidcError, Pending
from .oidc_mapping import Grant, MappingFileError, Refused, load_mapping
from .users import MAX_USERNAME, User

log = logging.getLogger("flagstream.dashboard")
PENDING_COOKIE = "flagstream_oidc"
PENDING_SECONDS = 600  # a sign-in left at the provider longer than this starts again


@dataclass
class OidcSignIn:
    """The configured council sign-in: the client, the mapping file (read at every sign-in,
    so a change applies without a restart), the claim names and the button's words."""

    client: OidcClient
    mapping_file: Path
    secret: str = field(repr=False)
    label: str = "council"
    groups_claim: str = "groups"
    roles_claim: str = "roles"
    username_claim: str = "preferred_username"
    secure_cookies: bool = True

    def signer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="flagstream-oidc-pending")

    def username(self, claims: dict[str, object]) -> str:
        """The name audit rows and the page header show, as a local user's name would be:
        the configured claim (the work account's sign-in name), else a digest of the
        subject. Never the person's display name."""
        name = claims.get(self.username_claim)
        if isinstance(name, str) and 0 < len(name) <= MAX_USERNAME:
            return name
        subject = f"{claims.get('iss')}|{claims.get('sub')}".encode()
        return "oidc-" + hashlib.sha256(subject).hexdigest()[:16]


def configured(settings: DashboardSettings, secret: str) -> OidcSignIn | None:
    """The council sign-in the settings describe, or None when no issuer is set; raises
    SystemExit saying which setting is missing or wrong (the secret is never printed)."""
    if not settings.dashboard_oidc_issuer:
        return None
    missing = [
        f"FLAGSTREAM_{name.upper()}"
        for name in ("dashboard_oidc_client_id", "dashboard_oidc_redirect_url")
        if not getattr(settings, name)
    ]
    client_secret = settings.dashboard_oidc_client_secret
    value = client_secret.get_secret_value() if client_secret else ""
    if settings.dashboard_oidc_client_secret_file is not None:
        try:
            value = settings.dashboard_oidc_client_secret_file.read_text().strip()
        except OSError as exc:
            raise SystemExit(f"cannot read the OpenID client secret file: {exc.strerror}") from None
    if not value:
        missing.append("FLAGSTREAM_DASHBOARD_OIDC_CLIENT_SECRET (or _FILE)")
    if missing:
        raise SystemExit(
            f"council sign-in is on (an issuer is set) but {', '.join(missing)} is not"
        )
    try:
        load_mapping(settings.dashboard_oidc_mapping_file)  # refuse to start on a bad file
    except MappingFileError as exc:
        raise SystemExit(str(exc)) from None
    config = OidcConfig(
        issuer=settings.dashboard_oidc_issuer,
        client_id=settings.dashboard_oidc_client_id,
        client_secret=value,
        redirect_url=settings.dashboard_oidc_redirect_url,
        scopes=settings.dashboard_oidc_scopes,
    )
    return OidcSignIn(
        OidcClient(config),
        settings.dashboard_oidc_mapping_file,
        secret,
        label=settings.dashboard_oidc_label,
        groups_claim=settings.dashboard_oidc_groups_claim,
        roles_claim=settings.dashboard_oidc_roles_claim,
        username_claim=settings.dashboard_oidc_username_claim,
        secure_cookies=settings.dashboard_secure_cookies,
    )


router = APIRouter()


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(_ctx)]


def _sign_in(ctx: Context) -> OidcSignIn:
    assert ctx.oidc is not None  # the router is included only when configured
    return ctx.oidc


def _refusal(ctx: Context, request: Request, status: int, message: str) -> Response:
    response: Response = ctx.render(request, "oidc_refused.html", None, status, message=message)
    response.delete_cookie(PENDING_COOKIE, path="/auth/callback")
    return response


@router.get("/login/oidc")
def start(request: Request, ctx: Ctx) -> Response:
    oidc = _sign_in(ctx)
    pending = Pending.new()
    try:
        url = oidc.client.authorize_url(pending)
    except OidcError as exc:
        log.warning("council sign-in unavailable: %s", exc.reason)
        return _refusal(ctx, request, 503, f"{exc} Try again later, or sign in with a password.")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        oidc.signer().dumps([pending.state, pending.nonce, pending.verifier]),
        max_age=PENDING_SECONDS,
        path="/auth/callback",
        httponly=True,
        secure=oidc.secure_cookies,
        samesite="lax",
    )
    return response


def _pending(oidc: OidcSignIn, request: Request, state: str | None) -> Pending:
    raw = request.cookies.get(PENDING_COOKIE)
    try:
        kept = oidc.signer().loads(raw or "", max_age=PENDING_SECONDS)
        pending = Pending(*(str(v) for v in kept))
    except (BadSignature, TypeError, ValueError):
        raise OidcError("state", "This sign-in expired or did not start here.") from None
    if not state or state != pending.state:
        raise OidcError("state", "This sign-in expired or did not start here.")
    return pending


@router.get("/auth/callback")
def callback(
    request: Request,
    ctx: Ctx,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    oidc = _sign_in(ctx)
    client = request.client.host if request.client else "unknown"
    try:
        pending = _pending(oidc, request, state)
        if error is not None or not code:
            raise OidcError("provider_error", "The identity provider did not sign you in.")
        claims = oidc.client.verify(oidc.client.exchange(code, pending), pending.nonce, ctx.clock())
    except OidcError as exc:
        ctx.record(None, request, "sign_in_failed", detail=f"oidc {exc.reason}; client {client}")
        return _refusal(ctx, request, 400, f"{exc} Start again from the sign-in page.")
    name = oidc.username(claims)
    try:
        grant: Grant | Refused = load_mapping(oidc.mapping_file).grant_for(
            claims, oidc.groups_claim, oidc.roles_claim
        )
    except MappingFileError as exc:
        log.error("council sign-in refused: %s", exc)
        grant = Refused(
            "mapping_file", "Flagstream's sign-in is misconfigured. Tell its administrator."
        )
    if isinstance(grant, Refused):
        ctx.record(None, request, "sign_in_refused", username=name, detail=f"oidc {grant.reason}")
        return _refusal(ctx, request, 403, grant.message)
    user = User(name, grant.role, grant.scope, "")
    now, old = ctx.clock(), request.session.get("sid")
    if isinstance(old, str):
        ctx.session_store.end(old, now, "replaced")
    request.session.clear()  # A fresh session (and CSRF token) at every sign-in.
    request.session["sid"] = ctx.session_store.start(user, now, federated=True)
    who = Principal.of(user)
    ctx.record(who, request, "sign_in", detail=f"oidc; client {client}")
    page: Response = ctx.render(request, "oidc_signed_in.html", None, home=who.home())
    page.delete_cookie(PENDING_COOKIE, path="/auth/callback")
    return page
