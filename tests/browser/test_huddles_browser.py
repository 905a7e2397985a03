"""The grouped huddle list in a real browser over the real pipeline: the DSL opens it, sees a
section per group and downloads the CSV with the group as its first column."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from dashboard import huddle_groups as hg
from tests.browser.conftest import Dashboard, shot
from tests.browser.test_dashboard_browser import children_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_dsl_opens_the_grouped_huddle_list_and_downloads_it(
    browser: Any, dashboard: Dashboard
) -> None:
    urn = dashboard.county.schools[0].urn
    page = sign_in(browser, dashboard, "dsl")
    page.goto(f"/schools/{urn}")
    page.get_by_role("link", name="Huddle list (printable)").click()
    page.wait_for_load_state()
    for name in hg.GROUPS:
        assert page.get_by_role("heading", level=2, name=name).is_visible()
    assert "No huddle recorded yet" in page.locator("#last-huddle").inner_text()
    shot(page, "huddle-groups")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["Group"] for r in rows} <= set(hg.GROUPS)
    flagged_now = [r for r in rows if r["Group"] == hg.FLAGGED_NOW]
    assert 0 < len(flagged_now) <= len(children_of(dashboard, urn))
    assert "SAFEGUARD" not in text  # never on a list printed for the whole huddle
