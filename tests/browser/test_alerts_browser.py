"""Alerts in a real browser over the real pipeline: a domestic-abuse notification sent to
ingest reaches the DSL's mailbox (a real SMTP server) within 10 s of the 202, through the
notifier started as `flagstream notifier`; the link in the mail opens the child for the DSL,
and gives another school's staff the same refusal as a child that does not exist. The DSL's
inbox holds the message; screenshots of the inbox and the preferences page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dashboard.users import DemoUser, User, hash_password
from flagstream.alerts_database import prepare
from flagstream.engine import make_engine
from ingest.pseudonymise import Pseudonymiser
from readmodel.tables import children, restricted_flags
from tests.browser.conftest import Dashboard, shot
from tests.browser.test_dashboard_browser import sign_in
from tests.integration.notifier_harness import Mailbox, smtp_server

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SUBJECT = "A new safeguarding notification needs your attention"
REFERENCE = "OE/2025/77123"
CIRCUMSTANCES = "Officers attended after a neighbour heard shouting"
OTHER = DemoUser("school", "other.staff", "another-long-password", None)


@pytest.fixture(scope="module")
def mailbox(dashboard: Dashboard) -> Iterator[Mailbox]:
    """The notifier process on the dashboard's stack, mailing a real SMTP server; the
    dashboard reads the same alerts database; a login for another school's staff."""
    stack = dashboard.stack
    alerts_db = make_engine(stack.env()["FLAGSTREAM_ALERTS_DATABASE_URL"])
    prepare(alerts_db)
    dashboard.ctx.alerts_db = alerts_db
    other_school = dashboard.county.schools[1].urn
    users = dashboard.ctx.users
    assert isinstance(users, dict)
    users[OTHER.username] = User(
        OTHER.username, "school", other_school, hash_password(OTHER.password)
    )
    dashboard.logins["other"] = DemoUser("school", OTHER.username, OTHER.password, other_school)
    with smtp_server() as (box, port):
        smtp = {"FLAGSTREAM_SMTP_HOST": "127.0.0.1", "FLAGSTREAM_SMTP_PORT": str(port),
                "FLAGSTREAM_SMTP_SECURITY": "none"}  # fmt: skip
        notifier = stack.start_notifier(stack.workdir / "users.json", dashboard.url, smtp)
        try:
            yield box
        finally:
            notifier.stop()
            del stack.services["notifier"]
            alerts_db.dispose()


def a_child_without_a_notification(dashboard: Dashboard) -> tuple[str, str, Any]:
    """(upn, child_key, as_of) of a pupil at the DSL's school with no safeguarding flag."""
    urn = dashboard.county.schools[0].urn
    with dashboard.ctx.read_model.connect() as conn:
        on_roll = dict(conn.execute(select(children.c.child_key, children.c.as_of).where(
            children.c.urn == urn)).all())  # fmt: skip
        flagged = set(conn.scalars(select(restricted_flags.c.child_key)))
    keyed = Pseudonymiser(dashboard.stack.pseudonym_key.encode())
    for pupil in dashboard.county.pupils:
        key = keyed(pupil.upn)
        if pupil.urn == urn and key in on_roll and key not in flagged:
            return pupil.upn, key, on_roll[key]
    raise AssertionError("no pupil without a notification at the first school")


def test_a_notification_reaches_the_dsl_and_the_link_opens_the_child_for_the_dsl_only(
    browser: Any, dashboard: Dashboard, mailbox: Mailbox
) -> None:
    urn = dashboard.county.schools[0].urn
    upn, child_key, as_of = a_child_without_a_notification(dashboard)
    dsl = sign_in(browser, dashboard, "dsl")
    dsl.goto("/inbox")
    assert SUBJECT not in dsl.content()

    record = {"upn": upn, "urn": urn, "incident_on": as_of.isoformat(), "child_present": True,
              "police_reference": REFERENCE, "circumstances": CIRCUMSTANCES}  # fmt: skip
    with httpx.Client(base_url=dashboard.stack.ingest_url, timeout=30) as client:
        reply = client.post("/v1/domestic-abuse-notifications", json={"records": [record]})
    accepted = time.monotonic()
    assert reply.status_code == 202 and reply.json()["accepted"] == 1, reply.text
    arrived, mail = mailbox.wait_for(lambda m: child_key in m.get_content(), timeout=15)
    assert arrived - accepted < 10, f"{arrived - accepted:.1f}s from the 202 to the mailbox"
    print(f"mailbox reached {arrived - accepted:.2f}s after the 202")
    assert mail["To"] == dashboard.logins["dsl"].email and mail["Subject"] == SUBJECT
    body = mail.get_content()
    for detail in (upn, REFERENCE, CIRCUMSTANCES, "police", "domestic", "abuse"):
        assert detail.lower() not in body.lower(), detail
    [link] = re.findall(r"https?://\S+", body)
    assert link == f"{dashboard.url}/children/{child_key}"

    opened = dsl.goto(link)
    assert opened is not None and opened.status == 200
    section = dsl.get_by_role("heading", name=re.compile("Safeguarding"))
    assert section.is_visible()
    assert REFERENCE in dsl.content()  # the detail is on the dashboard, for the DSL

    dsl.goto("/inbox")
    dsl.get_by_role("link", name=SUBJECT).first.wait_for()
    shot(dsl, "inbox", full_page=False)
    dsl.goto("/preferences")
    shot(dsl, "preferences", full_page=False)

    other = sign_in(browser, dashboard, "other")
    refused = other.goto(link)
    refused_text = other.locator("main").inner_text()
    missing = other.goto(f"{dashboard.url}/children/{'f' * 32}")
    assert refused is not None and missing is not None
    assert (refused.status, missing.status) == (403, 403)
    assert refused_text == other.locator("main").inner_text()
    assert REFERENCE not in other.content()
