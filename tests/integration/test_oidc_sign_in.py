"""Council sign-in against a real OpenID provider (npm oidc-provider, tests/oidc): the whole
code flow through the dashboard, the group mapping's outcomes, and each ID token check on
real tokens the provider signed."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.context import Context
from dashboard.oidc import OidcSignIn
from dashboard.oidc_client import OidcClient, OidcConfig, OidcError, Pending
from tests.oidc import harness
from tests.unit.test_dashboard import audit_rows, csrf_of, seeded_context

pytestmark = pytest.mark.integration
BASE = "https://testserver"
CALLBACK = f"{BASE}/auth/callback"
APP_SECRET = "a" * 40
MAPPING = """
contact = "the Testshire Flagstream desk (flagstream@testshire.example)"
[[map]]
group = "11111111-dsl-100001"
role = "dsl"
scope = "100001"
[[map]]
group = "22222222-north"
role = "zone"
scope = "North Zone"
[[map]]
app_role = "Flagstream.Manager"
role = "manager"
"""
ACCOUNTS: dict[str, dict[str, Any]] = {
    "dsl.north@testshire.example": {
        "groups": ["11111111-dsl-100001", "99999999-unrelated"],
        "name": "Priya Okonkwo-Smith",
        "email": "priya.private@testshire.example",
    },
    "lead@testshire.example": {"groups": ["22222222-north"]},
    "chief@testshire.example": {"roles": ["Flagstream.Manager"]},
    "nobody@testshire.example": {"groups": ["99999999-unrelated"]},
    "twohats@testshire.example": {"groups": ["11111111-dsl-100001", "22222222-north"]},
}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("oidc")
    clients = [harness.client("flagstream", CALLBACK), harness.client("other-app", CALLBACK)]
    with harness.provider(work, clients, ACCOUNTS) as p:
        yield p.issuer


def config(issuer: str, client_id: str = "flagstream") -> OidcConfig:
    return OidcConfig(issuer, client_id, harness.SECRET, CALLBACK)


@pytest.fixture(scope="module")
def ctx(issuer: str, tmp_path_factory: pytest.TempPathFactory) -> Context:
    tmp = tmp_path_factory.mktemp("oidc-dash")
    (tmp / "mapping.toml").write_text(MAPPING)
    sign_in = OidcSignIn(OidcClient(config(issuer)), tmp / "mapping.toml", APP_SECRET, "Testshire")
    return seeded_context(tmp, oidc=sign_in)


def start_and_return(ctx: Context, login: str) -> tuple[TestClient, str]:
    """Click the button, sign in at the provider; the client and the callback URL."""
    client = TestClient(create_app(ctx, APP_SECRET), base_url=BASE)
    start = client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 303, start.text
    assert start.headers["location"].startswith(ctx.oidc.client.config.issuer)  # type: ignore[union-attr]
    back = harness.sign_in_at_provider(start.headers["location"], login, CALLBACK)
    return client, back.removeprefix(BASE)


def oidc_sign_in(ctx: Context, login: str) -> tuple[TestClient, httpx.Response]:
    client, back = start_and_return(ctx, login)
    return client, client.get(back, follow_redirects=False)


def rows_for(ctx: Context, action: str) -> list[dict[str, object]]:
    return [r for r in audit_rows(ctx.audit_db) if r["action"] == action]


def test_the_login_page_offers_the_council_button_only_when_configured(ctx: Context) -> None:
    page = TestClient(create_app(ctx, APP_SECRET), base_url=BASE).get("/login")
    assert 'href="/login/oidc"' in page.text and "Sign in with Testshire account" in page.text
    plain = TestClient(create_app(replace(ctx, oidc=None), APP_SECRET), base_url=BASE)
    assert "/login/oidc" not in plain.get("/login").text
    assert plain.get("/login/oidc", follow_redirects=False).status_code == 404


def test_a_dsl_signs_in_sees_only_their_school_and_signs_out(ctx: Context) -> None:
    client, reply = oidc_sign_in(ctx, "dsl.north@testshire.example")
    assert reply.status_code == 200, reply.text
    assert 'content="0;url=/schools/100001"' in reply.text  # moves on same-site by itself
    assert "flagstream_oidc" in reply.headers["set-cookie"]  # the pending cookie is cleared
    home = client.get("/schools/100001")
    assert home.status_code == 200
    assert "dsl.north@testshire.example" in home.text and "(dsl: 100001)" in home.text
    # Name and email from the claims are not shown (a local user shows only their name).
    assert "Priya" not in home.text and "priya.private" not in home.text
    assert client.get("/schools/200001").status_code == 403  # another school
    assert client.get("/schools/100002").status_code == 403
    signed_in = rows_for(ctx, "sign_in")[-1]
    assert signed_in["username"] == "dsl.north@testshire.example"
    assert signed_in["role"] == "dsl" and str(signed_in["detail"]).startswith("oidc")
    client.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert rows_for(ctx, "sign_out")[-1]["username"] == "dsl.north@testshire.example"
    gone = client.get("/schools/100001", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/login"


@pytest.mark.parametrize(
    ("login", "home", "role"),
    [
        ("lead@testshire.example", "/zones/North%20Zone", "zone"),
        ("chief@testshire.example", "/", "manager"),  # from an app role, not a group
    ],
)
def test_each_mapping_lands_on_its_roles_home(
    ctx: Context, login: str, home: str, role: str
) -> None:
    client, reply = oidc_sign_in(ctx, login)
    assert f'content="0;url={home}"' in reply.text
    assert client.get(home).status_code == 200
    assert f"({role}" in client.get(home).text
    if role == "zone":
        assert client.get("/zones/South%20Zone").status_code == 403


@pytest.mark.parametrize(
    ("login", "reason", "words"),
    [
        ("nobody@testshire.example", "no_mapping", "has not been given access"),
        ("twohats@testshire.example", "ambiguous", "different Flagstream access"),
    ],
)
def test_an_identity_without_one_clear_mapping_is_refused(
    ctx: Context, login: str, reason: str, words: str
) -> None:
    client, reply = oidc_sign_in(ctx, login)
    assert reply.status_code == 403
    assert words in reply.text and "flagstream@testshire.example" in reply.text  # whom to ask
    assert "99999999" not in reply.text and "11111111" not in reply.text  # no group ids shown
    refused = rows_for(ctx, "sign_in_refused")[-1]
    assert refused["username"] == login and refused["detail"] == f"oidc {reason}"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_callback_refuses_a_wrong_state_or_a_sign_in_started_elsewhere(ctx: Context) -> None:
    client, back = start_and_return(ctx, "dsl.north@testshire.example")
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    reply = client.get(forged, follow_redirects=False)
    assert reply.status_code == 400 and "did not start here" in reply.text
    assert str(rows_for(ctx, "sign_in_failed")[-1]["detail"]).startswith("oidc state")
    # The real callback URL in another browser (no pending cookie): refused too.
    other = TestClient(create_app(ctx, APP_SECRET), base_url=BASE)
    assert other.get(back, follow_redirects=False).status_code == 400
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_callback_refuses_an_expired_id_token(ctx: Context) -> None:
    later = replace(ctx, clock=lambda: datetime.now(UTC) + timedelta(hours=2))  # ttl is 1 h
    client, reply = oidc_sign_in(later, "dsl.north@testshire.example")
    assert reply.status_code == 400 and "expired" in reply.text
    assert str(rows_for(ctx, "sign_in_failed")[-1]["detail"]).startswith("oidc expired")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def real_id_token(issuer: str, client_id: str, nonce: str) -> str:
    """A token the provider really issued to `client_id` for a sign-in with `nonce`."""
    rp = OidcClient(config(issuer, client_id))
    pending = replace(Pending.new(), nonce=nonce)
    back = harness.sign_in_at_provider(
        rp.authorize_url(pending), "lead@testshire.example", CALLBACK
    )
    query = harness.query_of(back)
    assert query["state"] == pending.state
    return rp.exchange(query["code"], pending)


def reason(rp: OidcClient, token: str, nonce: str, now: datetime) -> str:
    with pytest.raises(OidcError) as refused:
        rp.verify(token, nonce, now)
    return refused.value.reason


def test_each_id_token_check_on_real_tokens(issuer: str) -> None:
    ours, now = OidcClient(config(issuer)), datetime.now(UTC)
    token = real_id_token(issuer, "flagstream", "n-1")
    claims = ours.verify(token, "n-1", now)
    assert claims["groups"] == ["22222222-north"] and claims["aud"] == "flagstream"
    assert reason(ours, token, "n-2", now) == "nonce"
    assert reason(ours, token, "n-1", now + timedelta(hours=2)) == "expired"
    assert reason(ours, token, "n-1", now - timedelta(hours=1)) == "issued_at"
    theirs = real_id_token(issuer, "other-app", "n-3")
    assert reason(ours, theirs, "n-3", now) == "audience"
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["groups"] = ["22222222-north", "11111111-dsl-100001"]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert reason(ours, f"{head}.{forged}.{sig}", "n-1", now) == "signature"
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    assert reason(ours, f"{unsigned}.{body}.", "n-1", now) == "signature"


def test_a_code_is_only_good_for_the_client_and_verifier_it_was_issued_to(issuer: str) -> None:
    rp = OidcClient(config(issuer))
    pending = Pending.new()
    back = harness.sign_in_at_provider(
        rp.authorize_url(pending), "lead@testshire.example", CALLBACK
    )
    code = harness.query_of(back)["code"]
    with pytest.raises(OidcError) as refused:  # PKCE: another verifier
        rp.exchange(code, replace(pending, verifier=Pending.new().verifier))
    assert refused.value.reason == "token_refused"


def test_discovery_must_name_the_configured_issuer(issuer: str) -> None:
    with pytest.raises(OidcError) as refused:
        OidcClient(config(issuer + "/")).discovery()
    assert refused.value.reason == "discovery"
