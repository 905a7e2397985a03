"""The notifier's scheduled messages over a real (SQLite) read model: digests by event time
(due once the stream's latest school day is past the period), late registers after the
cut-off on a school day, and the same ids every time (so the ledger sends each once)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert

from flagstream.alerts import Prefs
from flagstream.term_calendar import england
from flagstream.users_file import User
from notifier import rules
from notifier.schedule import Schedule, due_messages
from readmodel.db import create_schema, make_engine
from readmodel.tables import flag_changes, freshness, school_days, schools

TUE, WED = date(2025, 9, 9), date(2025, 9, 10)
USERS = {
    u.username: u
    for u in (
        User("staff", "school", "100001", "h", "staff@s.invalid"),
        User("dsl", "dsl", "100001", "h", "dsl@s.invalid"),
        User("zone", "zone", "North", "h", "zone@c.invalid"),
    )
}
TO = rules.Recipients(USERS, {"staff": Prefs(daily_school=True), "zone": Prefs(weekly_zone=True)})
NOW = datetime(2025, 9, 10, 9, 0, tzinfo=UTC)  # 10:00 in London


@pytest.fixture
def conn(tmp_path: Path) -> Connection:
    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    create_schema(engine)
    connection = engine.connect()
    at = datetime(2025, 9, 9, 12, tzinfo=UTC)
    connection.execute(insert(schools), [
        {"urn": "100001", "name": "Hill", "phase": "PRIMARY", "pyramid": "P", "zone": "North",
         "updated_at": at},
        {"urn": "100002", "name": "Vale", "phase": "PRIMARY", "pyramid": "P", "zone": "North",
         "updated_at": at},
    ])  # fmt: skip
    connection.execute(insert(school_days), [{"day": TUE}, {"day": WED}])
    connection.execute(insert(flag_changes), [
        {"event_id": f"e{n}", "child_key": f"c{n}", "urn": "100001", "flag": flag,
         "change": "RAISED", "reason": "r", "rule_version": "v", "as_of": day,
         "recorded_at": at, "kafka_partition": 0, "kafka_offset": n}
        for n, (flag, day) in enumerate([("ATTEND", TUE), ("ATTEND", TUE), ("FSM", WED)])
    ])  # fmt: skip
    connection.execute(insert(freshness), [
        {"urn": "100001", "source": "register", "last_received_at": at, "data_as_of": WED},
        {"urn": "100002", "source": "register", "last_received_at": at, "data_as_of": TUE},
    ])  # fmt: skip
    return connection


def test_the_daily_digest_of_a_finished_day_only(conn: Connection) -> None:
    due = due_messages(conn, NOW, Schedule(), england(), TO, "https://d.invalid")
    daily = [m for m in due if m.kind == "daily_school"]
    assert [(m.recipient, m.message_id) for m in daily] == [("staff", "daily:100001:2025-09-09")]
    assert "Attend: 2" in daily[0].body and "FSM" not in daily[0].body  # Wednesday is not over
    assert due == due_messages(conn, NOW, Schedule(), england(), TO, "https://d.invalid")


def test_late_registers_after_the_cutoff_on_a_school_day(conn: Connection) -> None:
    plan = Schedule(operations_email="ops@c.invalid")
    [late] = [
        m for m in due_messages(conn, NOW, plan, england(), TO, "u") if m.kind == "late_registers"
    ]
    assert (late.message_id, late.address) == ("late:2025-09-10", "ops@c.invalid")
    assert "100002 Vale" in late.body and "100001" not in late.body
    before = datetime(2025, 9, 10, 8, 59, tzinfo=UTC)  # 09:59 in London
    assert not [
        m
        for m in due_messages(conn, before, plan, england(), TO, "u")
        if m.kind == "late_registers"
    ]
    saturday = datetime(2025, 9, 13, 12, tzinfo=UTC)
    assert not [
        m
        for m in due_messages(conn, saturday, plan, england(), TO, "u")
        if m.kind == "late_registers"
    ]


def test_the_weekly_zone_digest_once_the_week_is_over(conn: Connection) -> None:
    conn.execute(insert(school_days), [{"day": date(2025, 9, 15)}])
    due = due_messages(conn, NOW, Schedule(), england(), TO, "https://d.invalid")
    [weekly] = [m for m in due if m.kind == "weekly_zone"]
    assert (weekly.recipient, weekly.message_id) == ("zone", "weekly:North:2025-09-08")
    assert "Attend: 2" in weekly.body and "FSM: 1" in weekly.body
    assert weekly.link == "/zones/North"
