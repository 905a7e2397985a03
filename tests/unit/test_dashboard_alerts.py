"""The dashboard's side of alerts: the inbox (the user's own messages only), the email
preferences a role may choose (CSRF-checked), and the "new since your last visit" marker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from dashboard.context import Context
from flagstream import alerts
from flagstream.alerts_database import prepare
from flagstream.engine import make_engine
from readmodel.tables import flag_changes
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, csrf_of, seeded_context

A1 = seed.CHILDREN[0][0]
SUBJECT = "A new safeguarding notification needs your attention"


class Clock:
    def __init__(self) -> None:
        self.now = seed.NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(tmp_path: Path, clock: Clock) -> Iterator[Context]:
    built = seeded_context(tmp_path, clock=clock)
    built.alerts_db = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    prepare(built.alerts_db)
    with built.alerts_db.begin() as conn:
        message = alerts.Message(
            "e-1", "dsl", "safeguarding", SUBJECT, "body", f"/children/{A1}", None
        )
        alerts.record(conn, [message], seed.NOW)
    yield built
    built.alerts_db.dispose()


def test_the_inbox_shows_the_users_own_messages_and_is_audited(ctx: Context) -> None:
    dsl = client_for(ctx, "dsl")
    page = dsl.get("/inbox")
    assert page.status_code == 200 and SUBJECT in page.text and f"/children/{A1}" in page.text
    assert [r["action"] for r in audit_rows(ctx.audit_db)][-1] == "view_inbox"
    staff = client_for(ctx, "staff")
    assert SUBJECT not in staff.get("/inbox").text and "No messages." in staff.get("/inbox").text


def test_only_the_owner_can_mark_a_message_read(ctx: Context) -> None:
    staff, dsl = client_for(ctx, "staff"), client_for(ctx, "dsl")
    token = csrf_of(staff.get("/inbox").text)
    assert staff.post("/inbox/e-1/read", data={"csrf_token": token}).status_code == 404
    assert dsl.post("/inbox/e-1/read", data={}).status_code == 403  # no CSRF token
    token = csrf_of(dsl.get("/inbox").text)
    reply = dsl.post("/inbox/e-1/read", data={"csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303
    assert "Mark read" not in dsl.get("/inbox").text


def test_each_role_chooses_only_its_own_emails(ctx: Context) -> None:
    page = client_for(ctx, "dsl").get("/preferences").text
    assert 'name="safeguarding_email"' in page and 'name="daily_school"' in page
    assert 'name="weekly_zone"' not in page
    assert 'name="weekly_zone"' in client_for(ctx, "north").get("/preferences").text
    assert "no emails to choose" in client_for(ctx, "boss").get("/preferences").text

    staff = client_for(ctx, "staff")
    token = csrf_of(staff.get("/preferences").text)
    form = {"csrf_token": token, "daily_school": "1", "weekly_zone": "1", "safeguarding_email": ""}
    assert staff.post("/preferences", data=form, follow_redirects=False).status_code == 303
    assert staff.post("/preferences", data={"daily_school": "1"}).status_code == 403
    assert ctx.alerts_db is not None
    with ctx.alerts_db.connect() as conn:
        # weekly_zone is not a school user's to choose; the safeguarding email stays default.
        assert alerts.prefs_of(conn, "staff") == alerts.Prefs(True, True, False)


def test_a_flag_raised_after_the_last_visit_is_marked_new(ctx: Context, clock: Clock) -> None:
    staff, boss = client_for(ctx, "staff"), client_for(ctx, "boss")
    north = client_for(ctx, "north")
    assert "since your last visit" not in staff.get("/schools/100001").text  # first visit
    assert "since your last visit" not in boss.get("/").text
    assert "since your last visit" not in north.get("/zones/North Zone").text
    raised_at = clock.now + timedelta(minutes=1)
    with ctx.read_model.begin() as conn:
        conn.execute(
            insert(flag_changes),
            {"event_id": "f" * 36, "child_key": A1, "urn": "100001", "flag": "ATTAIN",
             "change": "RAISED", "reason": "r", "rule_version": "v", "as_of": raised_at.date(),
             "recorded_at": raised_at, "kafka_partition": 0, "kafka_offset": 99},
        )  # fmt: skip
    clock.now += timedelta(minutes=15)  # a later sitting (the session is still alive)
    page = staff.get("/schools/100001").text
    row = next(line for line in page.splitlines() if f'data-child="{A1}"' in line)
    assert page.count("since your last visit") == 1, "only the child raised since"
    following = page[page.index(row) :].split("</tr>")[0]
    assert "New" in following
    assert "since your last visit" in staff.get("/schools/100001").text  # same sitting: kept
    assert "since your last visit" in staff.get("/schools/100001/table").text  # live refresh
    assert "since your last visit" in boss.get("/").text  # the county marks the zone
    zone = north.get("/zones/North Zone").text  # the zone marks the school, not the others
    school_rows = [line for line in zone.splitlines() if "<tr data-school=" in line]
    marked = [line for line in school_rows if "since your last visit" in line]
    assert len(marked) == 1 and 'data-school="100001"' in marked[0] and len(school_rows) > 1


def test_the_huddle_list_marks_new_children_too(ctx: Context, clock: Clock) -> None:
    staff = client_for(ctx, "staff")
    assert "since your last visit" not in staff.get("/schools/100001/huddle").text
    raised_at = clock.now + timedelta(minutes=1)
    with ctx.read_model.begin() as conn:
        conn.execute(
            insert(flag_changes),
            {"event_id": "e" * 36, "child_key": A1, "urn": "100001", "flag": "ATTAIN",
             "change": "RAISED", "reason": "r", "rule_version": "v", "as_of": raised_at.date(),
             "recorded_at": raised_at, "kafka_partition": 0, "kafka_offset": 98},
        )  # fmt: skip
    clock.now += timedelta(minutes=15)
    # Once in each group that lists the child: flagged now, and newly flagged since.
    assert staff.get("/schools/100001/huddle").text.count("since your last visit") == 2
