"""Evidence of outcomes in chromium over the real pipeline: a manager sees the county by
zone with the national reference line and its source, a zone user only their zone, and a
school user is refused the county view (403, as for anything out of scope)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Dashboard, shot
from tests.browser.test_dashboard_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_manager_sees_the_rereferral_screen_with_the_national_line(
    browser: Any, dashboard: Dashboard
) -> None:
    page = sign_in(browser, dashboard, "manager")
    page.get_by_role("link", name="Evidence", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Evidence of outcomes: County"
    assert page.get_by_role("heading", name="Re-referrals").is_visible()
    line = page.locator("svg.chart line.reference")
    assert line.count() == 1 and line.get_attribute("stroke-dasharray") == "6 4"
    label = page.locator("svg.chart text.reference-label").text_content() or ""
    assert "Persistent absence" in label and "19.1" in label  # the autumn-term figure
    source = page.locator("#reference-source").inner_text()
    assert "Pupil absence in schools in England" in source and "published" in source
    fsm_row = page.locator("#group-rates tbody tr").filter(has_text="FSM eligible")
    assert "England 31.7" in fsm_row.inner_text()  # persistent absence of FSM pupils
    zones = set(page.locator("#term-trends tbody th[scope=row]").all_inner_texts())
    assert zones and zones <= set(dashboard.county.zones())
    shot(page, "evidence-county")


def test_zone_user_sees_only_their_zone(browser: Any, dashboard: Dashboard) -> None:
    page = sign_in(browser, dashboard, "zone")
    zone = dashboard.logins["zone"].scope
    page.get_by_role("link", name="Evidence", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Evidence of outcomes: {zone}"
    mine = {s.name for s in dashboard.county.schools if s.zone == zone}
    shown = set(page.locator("#term-trends tbody th[scope=row]").all_inner_texts())
    shown |= set(page.locator("#flow-table tbody th[scope=row]").all_inner_texts())
    assert shown and shown <= mine
    shot(page, "evidence-zone")
    other = next(z for z in dashboard.county.zones() if z != zone)
    for path in ("/evidence", f"/evidence/zones/{other}"):
        reply = page.goto(path)
        assert reply is not None and reply.status == 403


def test_school_user_sees_their_school_and_is_refused_the_county(
    browser: Any, dashboard: Dashboard
) -> None:
    page = sign_in(browser, dashboard, "school")
    urn = dashboard.logins["school"].scope
    reply = page.goto(f"/evidence/schools/{urn}")
    assert reply is not None and reply.status == 200
    shot(page, "evidence-school")
    reply = page.goto("/evidence")
    assert reply is not None and reply.status == 403
    assert "do not have access" in page.get_by_role("heading", level=1).inner_text()
