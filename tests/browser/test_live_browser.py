"""An open school page in chromium patches a row pushed over its event stream, without a
reload, after a change goes through the real pipeline (ingest, flagger, projector), keeping
the viewer's own "New since your last visit" badge on the row."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from dashboard import people
from dashboard.outcomes import RESPONSES, STATUSES, OutcomeForm
from tests.browser.conftest import Dashboard, shot
from tests.browser.test_dashboard_browser import children_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_an_open_school_page_patches_the_changed_row(browser: Any, dashboard: Dashboard) -> None:
    urn = dashboard.logins["school"].scope
    assert urn is not None
    page = sign_in(browser, dashboard, "school")
    page.goto(f"/schools/{urn}")
    page.evaluate("window.__notReloaded = true")
    key = children_of(dashboard, urn)[-1]
    row = page.locator(f'tr[data-child="{key}"]')
    # As the page renders a row raised since the viewer's last visit (marker.py): the pushed
    # row is rendered for every viewer alike, so the page must keep the viewer's own badge.
    badge = '<span class="badge warn new-since">New</span>'
    row.locator("th").evaluate(f"th => th.insertAdjacentHTML('beforeend', ' {badge}')")
    response, status = RESPONSES[-1], STATUSES[-1]
    upn = people.upn_for_sending(dashboard.ctx, key)
    assert upn is not None
    form = OutcomeForm(str(uuid.uuid4()), upn, urn, response, status, "bench", date(2025, 9, 26))
    dashboard.ctx.sender.send(form)  # through ingest, like any partner's record
    row.get_by_text(status, exact=True).wait_for(timeout=20_000)
    assert page.evaluate("window.__notReloaded") is True  # patched in place, not reloaded
    assert "Updated 1 row" in page.locator("#live-status").inner_text()
    assert row.locator("th .badge.new-since").count() == 1  # kept across the patch
    shot(page, "school-live")
