"""The alerts store on SQLite and PostgreSQL: a message is recorded once per recipient and
channel however often it is decided (replay, restart), only new rows are returned to send,
a failed send stays pending until its attempts run out, and the inbox is the user's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from flagstream import alerts
from flagstream.alerts_database import DATABASE, prepare
from flagstream.databases import upgrade
from flagstream.engine import make_engine

NOW = datetime(2025, 9, 9, 8, tzinfo=UTC)


def message(
    recipient: str = "dsl1", address: str | None = "dsl1@s.example.invalid"
) -> alerts.Message:
    return alerts.Message(
        "e-1", recipient, "safeguarding", "A new safeguarding notification", "body", "/children/c",
        address,
    )  # fmt: skip


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = make_engine(database_url)
    prepare(engine)
    return engine


def test_a_message_is_recorded_and_returned_to_send_once(db: Engine) -> None:
    with db.begin() as conn:
        assert alerts.record(conn, [message(), message("dsl2", None)], NOW) == [message()]
    with db.begin() as conn:  # the replay
        assert alerts.record(conn, [message(), message("dsl2", None)], NOW) == []
    with db.connect() as conn:
        [due] = alerts.pending(conn)
        assert [r.message_id for r in alerts.inbox_of(conn, "dsl1")] == ["e-1"]
        assert [r.message_id for r in alerts.inbox_of(conn, "dsl2")] == ["e-1"]
    with db.begin() as conn:
        alerts.mark_sent(conn, due, NOW)
    with db.connect() as conn:
        assert alerts.pending(conn) == []


def test_a_failed_send_is_retried_then_left_failed(db: Engine) -> None:
    with db.begin() as conn:
        alerts.record(conn, [message()], NOW)
    with db.begin() as conn:
        [due] = alerts.pending(conn)
        alerts.mark_failed(conn, due, "SMTPServerDisconnected", give_up=False)
    with db.begin() as conn:
        [again] = alerts.pending(conn)
        assert again.attempts == 1
        alerts.mark_failed(conn, again, "SMTPServerDisconnected", give_up=True)
    with db.connect() as conn:
        assert alerts.pending(conn) == []


def test_inbox_read_marks_only_the_users_own(db: Engine) -> None:
    with db.begin() as conn:
        alerts.record(conn, [message()], NOW)
        assert not alerts.mark_read(conn, "someone-else", "e-1", NOW)
        assert alerts.mark_read(conn, "dsl1", "e-1", NOW)
    with db.connect() as conn:
        [row] = alerts.inbox_of(conn, "dsl1")
    assert row.read_at is not None


def test_preferences_and_visits(db: Engine) -> None:
    with db.begin() as conn:
        assert alerts.prefs_of(conn, "u") == alerts.Prefs()
        alerts.set_prefs(conn, "u", alerts.Prefs(False, True, False), NOW)
        assert alerts.prefs_of(conn, "u") == alerts.Prefs(False, True, False)
        assert alerts.visit(conn, "u", "/schools/100001", NOW) is None
        later = NOW + timedelta(hours=2)
        assert alerts.visit(conn, "u", "/schools/100001", later) == NOW
        assert alerts.previous_visit(conn, "u", "/schools/100001") == NOW
        assert alerts.previous_visit(conn, "u", "/zones/North") is None


@pytest.mark.postgres
def test_the_migration_builds_the_metadata(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(DATABASE, engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": DATABASE.version_table})
        assert list(compare_metadata(context, DATABASE.metadata())) == []


def test_flagstream_migrate_brings_the_alerts_database_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import inspect

    from flagstream_tools.cli import main

    for name in ("DATABASE", "INGEST_DATABASE", "IDENTITY_DATABASE", "DASHBOARD_AUDIT_DATABASE"):
        monkeypatch.setenv(f"FLAGSTREAM_{name}_URL", f"sqlite:///{tmp_path / name.lower()}.db")
    monkeypatch.setenv("FLAGSTREAM_ALERTS_DATABASE_URL", f"sqlite:///{tmp_path / 'alerts.db'}")
    assert main(["migrate"]) == 0
    tables = set(inspect(make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")).get_table_names())
    assert {"alert_ledger", "alert_inbox", "alert_preferences", "alert_visits"} <= tables
