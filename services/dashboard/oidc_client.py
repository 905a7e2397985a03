"""The relying party's side of OpenID Connect: discovery, the authorization request, the
code exchange and the ID token's checks.

Everything the provider says is taken from its discovery document (whose `issuer` must be
the configured one) and its JWKS. An ID token counts only if its signature verifies with a
key from that JWKS under an asymmetric algorithm the provider announces (never `none`, never
a shared-secret HMAC), its `iss` is the issuer, its `aud` holds our client id (and `azp` is
us when there are several audiences), it has not expired, and its `nonce` is the one this
browser's sign-in started with. PKCE (S256) binds the code to the browser that asked for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 60  # clock skew tolerated on exp/iat, as most relying parties allow
DISCOVERY_TTL_SECONDS = 3600.0


class OidcError(Exception):
    """A sign-in that must not count; `reason` is a short code for the audit row, the
    message is safe to show (no token, secret or claim value in it)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """The relying party's registration at the council's provider."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str
    scopes: str = "openid profile email"
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class Pending:
    """What a browser's sign-in started with, kept (signed) in its cookie until the callback."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Pending:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class OidcClient:
    """Discovery and keys fetched when first needed and cached; the JWKS again on an
    unknown key id (the provider rolled its keys)."""

    config: OidcConfig
    http: Callable[[], httpx.Client] = field(default=lambda: httpx.Client(timeout=10.0))
    _discovery: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _fetched_at: float = field(default=0.0, init=False, repr=False)
    _keys: KeySet | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def discovery(self) -> dict[str, Any]:
        with self._lock:
            if (
                self._discovery is None
                or time.monotonic() - self._fetched_at > DISCOVERY_TTL_SECONDS
            ):
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                doc = self._get_json(url)
                if doc.get("issuer") != self.config.issuer:
                    raise OidcError(
                        "discovery",
                        "The identity provider's discovery document names another issuer; "
                        "check FLAGSTREAM_DASHBOARD_OIDC_ISSUER.",
                    )
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(doc.get(key), str):
                        raise OidcError("discovery", f"The provider's discovery has no {key}.")
                self._discovery, self._fetched_at, self._keys = doc, time.monotonic(), None
            return self._discovery

    def authorize_url(self, pending: Pending) -> str:
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url,
            "scope": self.config.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(params)}"

    def exchange(self, code: str, pending: Pending) -> str:
        """The ID token the token endpoint returns for this code (client_secret_basic)."""
        endpoint = self.discovery()["token_endpoint"]
        try:
            with self.http() as client:
                response = client.post(
                    endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.config.redirect_url,
                        "code_verifier": pending.verifier,
                    },
                    auth=(self.config.client_id, self.config.client_secret),
                )
        except httpx.HTTPError:
            raise OidcError(
                "provider_unreachable", "The identity provider did not answer."
            ) from None
        if response.status_code != 200:
            raise OidcError("token_refused", "The identity provider refused the sign-in code.")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("no_id_token", "The identity provider sent no ID token.")
        return id_token

    def verify(self, id_token: str, nonce: str, now: datetime) -> dict[str, Any]:
        """The ID token's claims once every check passes; raises OidcError naming the check."""
        doc = self.discovery()
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC]
        try:
            token = jwt.decode(id_token, self._key_set(id_token), algorithms=algorithms)
        except JoseError:
            raise OidcError("signature", "The ID token's signature does not verify.") from None
        claims = dict(token.claims)
        at = now.timestamp()
        if claims.get("iss") != self.config.issuer:
            raise OidcError("issuer", "The ID token was issued by another provider.")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.config.client_id not in audiences:
            raise OidcError("audience", "The ID token was issued for another application.")
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcError("audience", "The ID token was issued for another application.")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or at > exp + LEEWAY_SECONDS:
            raise OidcError("expired", "The ID token has expired.")
        if not isinstance(iat, int | float) or iat > at + LEEWAY_SECONDS:
            raise OidcError("issued_at", "The ID token was issued in the future.")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
            claims["nonce"], nonce
        ):
            raise OidcError("nonce", "The ID token belongs to another sign-in.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OidcError("subject", "The ID token names nobody.")
        return claims

    def _key_set(self, id_token: str) -> KeySet:
        kid = _header(id_token).get("kid")
        with self._lock:
            if self._keys is None or (kid and not _has_kid(self._keys, kid)):
                assert self._discovery is not None
                self._keys = KeySet.import_key_set(self._get_json(self._discovery["jwks_uri"]))  # type: ignore[arg-type]
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with self.http() as client:
                response = client.get(url)
                response.raise_for_status()
                doc = response.json()
        except (httpx.HTTPError, ValueError):
            raise OidcError(
                "provider_unreachable", "The identity provider could not be reached."
            ) from None
        if not isinstance(doc, dict):
            raise OidcError("provider_unreachable", "The identity provider sent no document.")
        return doc


def _header(id_token: str) -> Mapping[str, Any]:
    try:
        head = id_token.split(".", 1)[0]
        return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))  # type: ignore[no-any-return]
    except (ValueError, IndexError):
        raise OidcError("signature", "The ID token is not a signed token.") from None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)
