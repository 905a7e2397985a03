"""Council sign-in in a real browser: a DSL clicks "Sign in with ... account", signs in at
a real OpenID provider (npm oidc-provider, tests/oidc), lands on their school, sees only
that school, and signs out. The dashboard is a second app over the `dashboard` fixture's
stack and databases, with council sign-in configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.audit import audit_log
from dashboard.oidc import OidcSignIn
from dashboard.oidc_client import OidcClient, OidcConfig
from flagstream_tools.broker import free_port, wait_for_port
from tests.browser.conftest import Dashboard, shot
from tests.oidc import harness

pytestmark = [pytest.mark.browser, pytest.mark.integration]
TIMEOUT_MS = 30_000
LOGIN = "dsl.oidc@testshire.example"
UNMAPPED = "new.starter@testshire.example"
GROUP = "5b0c1d2e-0000-4000-8000-00000000d51a"


@dataclass
class CouncilDashboard:
    url: str
    urn: str  # the school the DSL's group maps to
    other_urn: str
    base: Dashboard


@pytest.fixture(scope="module")
def council(
    dashboard: Dashboard, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CouncilDashboard]:
    harness.require_provider()
    work = tmp_path_factory.mktemp("oidc-browser")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    urn = dashboard.logins["dsl"].scope
    assert urn is not None
    other = next(s.urn for s in dashboard.county.schools if s.urn != urn)
    (work / "mapping.toml").write_text(
        'contact = "the Testshire Flagstream desk"\n'
        f'[[map]]\ngroup = "{GROUP}"\nrole = "dsl"\nscope = "{urn}"\n'
    )
    accounts = {
        LOGIN: {"groups": [GROUP], "name": "Sam Example", "email": "sam@x.example"},
        UNMAPPED: {"groups": ["not-a-flagstream-group"]},
    }
    clients = [harness.client("flagstream", f"{url}/auth/callback")]
    with harness.provider(work, clients, accounts) as provider:
        config = OidcConfig(provider.issuer, "flagstream", harness.SECRET, f"{url}/auth/callback")
        sign_in = OidcSignIn(
            OidcClient(config), work / "mapping.toml", "k" * 40, "Testshire", secure_cookies=False
        )
        app = create_app(replace(dashboard.ctx, oidc=sign_in), "k" * 40, secure_cookies=False)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            wait_for_port("127.0.0.1", port, 20, "council dashboard")
            yield CouncilDashboard(url, urn, other, dashboard)
        finally:
            server.should_exit = True
            thread.join(10)


def at_provider(browser: Any, council: CouncilDashboard, login: str, screenshot: str = "") -> Any:
    """Open the login page, click the council button and sign in at the provider."""
    page = browser.new_context(
        base_url=council.url, viewport={"width": 1200, "height": 800}
    ).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/login")
    if screenshot:
        shot(page, screenshot, full_page=False)
    page.get_by_role("link", name="Sign in with Testshire account").click()
    # The provider's own sign-in form (oidc-provider's development interaction).
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    return page


def test_a_dsl_signs_in_with_the_council_account_and_out(
    browser: Any, council: CouncilDashboard
) -> None:
    page = at_provider(browser, council, LOGIN, "login-council")
    page.wait_for_url(f"**/schools/{council.urn}")
    account = page.get_by_role("navigation", name="Account")
    assert f"{LOGIN} (dsl: {council.urn})" in account.inner_text()
    assert "Sam Example" not in page.content()  # the claims' name is not shown
    assert page.locator("#children-table tbody tr").count() > 0  # their pupils
    reply = page.goto(f"/schools/{council.other_urn}")
    assert reply is not None and reply.status == 403  # only their school
    with council.base.ctx.audit_db.connect() as conn:
        sign_ins = conn.execute(
            select(audit_log.c.detail).where(
                audit_log.c.username == LOGIN, audit_log.c.action == "sign_in"
            )
        ).all()
    assert [d for (d,) in sign_ins if d.startswith("oidc")]
    page.goto(f"/schools/{council.urn}")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(f"/schools/{council.urn}")
    assert page.url.endswith("/login")  # the session is over


def test_an_account_in_no_mapped_group_is_told_whom_to_ask(
    browser: Any, council: CouncilDashboard
) -> None:
    page = at_provider(browser, council, UNMAPPED)
    page.get_by_role("heading", name="Not signed in").wait_for()
    assert "the Testshire Flagstream desk" in page.get_by_role("alert").inner_text()
    shot(page, "oidc-refused", full_page=False)
    page.goto("/")
    assert page.url.endswith("/login")
