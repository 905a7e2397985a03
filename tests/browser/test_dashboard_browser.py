"""The dashboard in a real browser (Debian's chromium, headless) over the real pipeline."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard.audit import audit_log
from readmodel.tables import children
from tests.browser.conftest import Dashboard, shot

pytestmark = [pytest.mark.browser, pytest.mark.integration]
TIMEOUT_MS = 30_000


def sign_in(browser: Any, dash: Dashboard, role: str) -> Any:
    page = browser.new_context(
        base_url=dash.url, viewport={"width": 1440, "height": 1000}
    ).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/login")
    login = dash.logins[role]
    page.get_by_label("User name").fill(login.username)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def children_of(dash: Dashboard, urn: str) -> list[str]:
    with dash.ctx.read() as conn:
        return list(
            conn.scalars(
                select(children.c.child_key)
                .where(children.c.urn == urn)
                .order_by(children.c.indicators.desc(), children.c.child_key)
            )
        )


def audit_count(dash: Dashboard) -> int:
    with dash.ctx.audit_db.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(audit_log)) or 0)


def test_drill_down_record_an_outcome_and_see_it_live(browser: Any, dashboard: Dashboard) -> None:
    school = dashboard.county.schools[0]
    # A school user watches their school's page; it must update without a reload.
    watcher = sign_in(browser, dashboard, "school")
    assert watcher.url.endswith(f"/schools/{school.urn}")

    page = sign_in(browser, dashboard, "manager")
    assert page.get_by_role("heading", level=1).inner_text() == "County overview"
    shot(page, "county")
    page.get_by_role("link", name=school.zone, exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == school.zone
    shot(page, "zone")
    page.get_by_role("link", name=school.name, exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(school.name)
    key = children_of(dashboard, school.urn)[0]
    page.locator(f'tr[data-child="{key}"] th a').click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Child {key[:8]}"
    assert "Ashdown" not in page.content()  # managers never see names

    page.get_by_label("Response", exact=True).select_option("Referral")
    page.get_by_label("Status", exact=True).select_option("Further risk")
    page.get_by_role("button", name="Record outcome").click()
    assert "Sent to ingest" in page.locator("main").inner_text()
    # Projected by the real pipeline, then shown by the page's live refresh.
    page.locator("#outcomes").get_by_text("Referral").wait_for()
    shot(page, "child")
    row = watcher.locator(f'tr[data-child="{key}"]')
    row.get_by_text("Referral").wait_for()
    assert "Further risk" in row.inner_text()
    shot(watcher, "school", full_page=False)
    watcher.get_by_role("link", name="Huddle list (printable)").click()
    shot(watcher, "huddle", full_page=False)


def test_school_user_gets_403_for_another_schools_child(browser: Any, dashboard: Dashboard) -> None:
    page = sign_in(browser, dashboard, "school")
    other = next(s for s in dashboard.county.schools[1:] if children_of(dashboard, s.urn))
    reply = page.goto(f"/children/{children_of(dashboard, other.urn)[0]}")
    assert reply is not None and reply.status == 403
    assert "do not have access" in page.get_by_role("heading", level=1).inner_text()
    own = page.goto(f"/children/{children_of(dashboard, dashboard.county.schools[0].urn)[0]}")
    assert own is not None and own.status == 200


def test_zone_user_sees_only_their_zone(browser: Any, dashboard: Dashboard) -> None:
    page = sign_in(browser, dashboard, "zone")
    zone = dashboard.logins["zone"].scope
    assert page.get_by_role("heading", level=1).inner_text() == zone
    shown = set(page.locator("main table th[scope=row] a").all_inner_texts())
    assert shown == {s.name for s in dashboard.county.schools if s.zone == zone}
    other = next(z for z in dashboard.county.zones() if z != zone)
    reply = page.goto(f"/zones/{other}")
    assert reply is not None and reply.status == 403
    assert page.goto("/").url.endswith(page.url.split("/", 3)[3])  # county: back to own zone
    elsewhere = next(s for s in dashboard.county.schools if s.zone != zone)
    reply = page.goto(f"/schools/{elsewhere.urn}")
    assert reply is not None and reply.status == 403


def test_each_child_view_leaves_an_audit_row(browser: Any, dashboard: Dashboard) -> None:
    page = sign_in(browser, dashboard, "dsl")
    keys = children_of(dashboard, dashboard.county.schools[0].urn)[:2]
    before = audit_count(dashboard)
    for key in keys:
        assert page.goto(f"/children/{key}").status == 200
    user = dashboard.logins["dsl"].username
    with dashboard.ctx.audit_db.connect() as conn:  # pages of earlier tests still poll
        rows = conn.execute(
            select(audit_log.c.username, audit_log.c.action, audit_log.c.child_key)
            .where(audit_log.c.id > before, audit_log.c.username == user)
            # Only views: a page's own refreshes and streams (live_outcomes, the school
            # page's live stream opened after sign-in) leave rows of other actions.
            .where(audit_log.c.action.in_(("view_child", "view_casework")))
            .order_by(audit_log.c.id)
        ).all()
    # The DSL of the child's school also sees its case work: its own audit row per view.
    viewed = [(user, a, k) for k in keys for a in ("view_child", "view_casework")]
    assert [tuple(r) for r in rows] == viewed
    admin = sign_in(browser, dashboard, "admin")
    admin.goto("/audit")
    assert admin.get_by_role("heading", level=1).inner_text() == "Audit log"
    shot(admin, "audit")
