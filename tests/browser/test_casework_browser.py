"""Case work in a real browser over the real pipeline: the DSL records a lead practitioner,
an action and a review date already past; the zone lead of that zone finds the overdue review
on the zone's reviews page and opens the child; another school's staff and a manager are
answered as for a missing child; every view leaves an audit row. Screenshots of both screens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.audit import audit_log
from dashboard.users import User, hash_password
from tests.browser.conftest import Dashboard, shot
from tests.browser.test_dashboard_browser import children_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]
OTHER = ("other.casework", "another-long-password-too")
ABSENT = "ff" * 32


def refusal(page: Any, path: str) -> tuple[int, str]:
    reply = page.goto(path)
    return reply.status, page.locator("main").inner_text()


def test_case_work_journey(browser: Any, dashboard: Dashboard) -> None:
    school = dashboard.county.schools[0]
    child = children_of(dashboard, school.urn)[0]
    today = dashboard.ctx.clock().date()
    due = (today - timedelta(days=5)).isoformat()

    dsl = sign_in(browser, dashboard, "dsl")
    dsl.goto(f"/children/{child}")
    dsl.get_by_text("Lead practitioner, next review and notes").click()
    dsl.get_by_label("Lead practitioner's name").fill("Pat Lee")
    dsl.get_by_label("Role", exact=True).fill("Family support worker")
    dsl.get_by_label("Next review due").first.fill(due)
    dsl.get_by_label("Notes (at most 1,000 characters)").fill("Weekly check-in agreed.")
    dsl.get_by_role("button", name="Save case work").click()
    dsl.get_by_text("Add an action").click()
    dsl.get_by_label("Action", exact=True).fill("Home visit with family support")
    dsl.get_by_label("Owner").fill("Sam Owen")
    dsl.get_by_label("Due", exact=True).fill(due)
    dsl.get_by_role("button", name="Add action").click()
    section = dsl.locator("section.casework")
    assert "Pat Lee" in section.inner_text() and "5 days overdue" in section.inner_text()
    section.scroll_into_view_if_needed()
    shot(dsl, "casework-section")

    zone = sign_in(browser, dashboard, "zone")
    zone.get_by_role("link", name="Overdue case work reviews").click()
    table = zone.locator("table").inner_text()
    assert "Pat Lee" in table and "Sam Owen" in table and "\t5\t" in table
    shot(zone, "casework-reviews")
    zone.locator(f'a[href="/children/{child}"]').click()
    assert "Pat Lee" in zone.locator("section.casework").inner_text()

    other_urn = next(s.urn for s in dashboard.county.schools if s.urn != school.urn)
    users = dashboard.ctx.users
    assert isinstance(users, dict)
    users[OTHER[0]] = User(OTHER[0], "school", other_urn, hash_password(OTHER[1]))
    other = browser.new_context(base_url=dashboard.url).new_page()
    other.goto("/login")
    other.get_by_label("User name").fill(OTHER[0])
    other.get_by_label("Password").fill(OTHER[1])
    other.get_by_role("button", name="Sign in").click()
    assert refusal(other, f"/children/{child}") == refusal(other, f"/children/{ABSENT}")
    assert refusal(other, f"/children/{child}")[0] == 403

    manager = sign_in(browser, dashboard, "manager")
    reviews = f"/zones/{school.zone}/reviews"
    assert refusal(manager, reviews) == refusal(manager, "/zones/Nowhere/reviews")
    assert refusal(manager, reviews)[0] == 403
    manager.goto(f"/zones/{school.zone}")
    assert "case work" not in manager.content().lower()
    manager.goto(f"/children/{child}")
    assert "case work" not in manager.content().lower()

    with dashboard.ctx.audit_db.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.username, audit_log.c.action, audit_log.c.child_key).where(
                audit_log.c.action.in_(("view_casework", "view_casework_reviews"))
            )
        ).all()
    names = {r: dashboard.logins[r].username for r in ("dsl", "zone", "manager")}
    views = {(r.username, r.action, r.child_key) for r in rows}
    assert (names["dsl"], "view_casework", child) in views
    assert (names["zone"], "view_casework", child) in views
    assert (names["zone"], "view_casework_reviews", None) in views
    assert not any(r.username in (names["manager"], OTHER[0]) for r in rows)
