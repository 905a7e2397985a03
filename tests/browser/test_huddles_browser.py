"""The grouped huddle list in a real browser over the real pipeline: the DSL opens it, sees a
section per group and downloads the CSV with the group as its first column; records a huddle
from the list (through ingest and the projector), and the next list counts changes from the
day it met: a flag raised after it is under 'Newly flagged'."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dashboard import huddle_groups as hg
from ingest.pseudonymise import Pseudonymiser
from readmodel.tables import child_flags, children
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


def _wait_for(page: Any, path: str, text: str, timeout: float = 20.0) -> str:
    """Reload `path` until its page holds `text` (projection takes a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(path)
        content: str = page.locator("main").inner_text()
        if text in content:
            return content
        assert time.monotonic() < deadline, f"{text!r} not on {path} within {timeout:.0f}s"
        time.sleep(0.5)


def _group(page: Any, name: str) -> str:
    section = page.locator("section.huddle-group").filter(
        has=page.get_by_role("heading", level=2, name=re.compile(f"^{re.escape(name)}"))
    )
    text: str = section.inner_text()
    return text


def test_a_huddle_is_recorded_and_the_next_list_shows_what_changed_since(
    browser: Any, dashboard: Dashboard
) -> None:
    urn = dashboard.county.schools[0].urn
    keyed = Pseudonymiser(dashboard.stack.pseudonym_key.encode())
    with dashboard.ctx.read_model.connect() as conn:
        on_roll = dict(conn.execute(select(children.c.child_key, children.c.as_of).where(
            children.c.urn == urn)).all())  # fmt: skip
        flagged = {(r.child_key, r.flag) for r in conn.execute(select(child_flags))}
    held_on = max(on_roll.values())  # the huddle meets on the last school day with data
    page = sign_in(browser, dashboard, "dsl")
    page.goto(f"/schools/{urn}/huddle")
    form = page.locator("form[action$='/huddle']")
    listed = form.locator("input[name=reviewed]")
    assert listed.count() > 0
    reviewed = [listed.nth(i).get_attribute("value") for i in range(min(2, listed.count()))]
    page.get_by_label("Day the huddle met").fill(held_on.isoformat())
    for role in ("DSL", "SENCo", "Zone lead"):
        form.get_by_label(role, exact=True).check()
    for i, key in enumerate(reviewed):
        listed.nth(i).check()
        form.locator(f"select[name='response-{key}']").select_option("Team around the family")
        form.locator(f"select[name='status-{key}']").select_option("Some progress")
    shot(page, "huddle-record")
    form.get_by_role("button", name="Record huddle").click()
    page.wait_for_load_state()
    assert "sent to ingest" in page.locator("main").inner_text()

    path = f"/schools/{urn}/huddle"
    shown = _wait_for(page, path, f"since the last huddle on {held_on:%d %b %Y}")
    assert "2 children reviewed" in shown and "DSL, SENCo, Zone lead" in shown
    assert _group(page, hg.NEWLY_FLAGGED).startswith(f"{hg.NEWLY_FLAGGED} (0)")
    # Each child reviewed shows what the huddle agreed (a child in two groups, twice).
    assert shown.count("Team around the family / Some progress") >= len(reviewed)

    # After the huddle: a family-support case opens for a child of the school not flagged FAMILY.
    pupil = next(
        p for p in dashboard.county.pupils
        if p.urn == urn and keyed(p.upn) in on_roll and (keyed(p.upn), "FAMILY") not in flagged
    )  # fmt: skip
    record = {"upn": pupil.upn, "case_id": "SF-HUDDLE-1",
              "opened_on": (held_on + timedelta(days=1)).isoformat()}  # fmt: skip
    with httpx.Client(base_url=dashboard.stack.ingest_url, timeout=30) as client:
        reply = client.post("/v1/family-cases", json={"records": [record]})
    assert reply.status_code == 202 and reply.json()["accepted"] == 1, reply.text
    deadline = time.monotonic() + 20
    while keyed(pupil.upn) not in _family_flagged(dashboard):
        assert time.monotonic() < deadline, "FAMILY not projected within 20 s"
        time.sleep(0.3)
    page.goto(path)
    newly = _group(page, hg.NEWLY_FLAGGED)
    assert newly.startswith(f"{hg.NEWLY_FLAGGED} (1)") and "Family" in newly
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [r["Flags in group"] for r in rows if r["Group"] == hg.NEWLY_FLAGGED] == ["Family"]
    shot(page, "huddle-after")


def _family_flagged(dashboard: Dashboard) -> set[str]:
    with dashboard.ctx.read_model.connect() as conn:
        return set(conn.scalars(select(child_flags.c.child_key).where(
            child_flags.c.flag == "FAMILY")))  # fmt: skip
