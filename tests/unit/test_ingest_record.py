"""The durable record in ingest's database: rows stay after publishing (marked sent), a new
log marks them all unsent again in order, retention prunes only what was sent, parked rows
are set aside, and one drainer at a time holds the lease."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from ingest.db import make_engine
from ingest.ledger import ingest_ledger
from ingest.routing import Message
from ingest.store import Store

DAY = datetime(2026, 9, 7, tzinfo=UTC).date()


def _store(tmp: Path, n: int = 5) -> Store:
    store = Store(make_engine(f"sqlite:///{tmp / 'ingest.db'}"))
    with store.begin() as tx:
        tx.publish(
            [Message("t", i % 2, b"k", f"v{i}".encode(), records=2) for i in range(n)],
            "mis",
            DAY,
            "attendance_mark",
        )
    return store


def test_sent_rows_stay_and_a_new_log_resends_them_all_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = store.next_batch(10)
    assert [r.value for r in rows] == [f"v{i}".encode() for i in range(5)]
    store.published(rows[:3])
    assert store.pending() == 2
    assert [r.value for r in store.next_batch(10)] == [b"v3", b"v4"]
    assert store.new_log("ingest", {"t": "id-2"}) == 5  # everything kept, to publish again
    assert [r.value for r in store.next_batch(10)] == [f"v{i}".encode() for i in range(5)]
    assert store.log_topics("ingest") == {"t": "id-2"}
    store.published(store.next_batch(10))
    assert store.pending() == 0
    # Published counts each record once, however often it went out.
    (line,) = ingest_ledger(store.engine)
    assert line.published == 10


def test_retention_prunes_only_sent_rows_and_parked_rows_wait(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = store.next_batch(10)
    store.park(rows[4], "message_too_large")
    store.published(rows[:2])
    assert store.parked() == 1 and store.pending() == 2
    assert store.prune(datetime.now(UTC) - timedelta(days=1)) == 0  # sent just now: kept
    assert store.prune(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert [r.value for r in store.next_batch(10)] == [b"v2", b"v3"]
    assert store.new_log("ingest", {}) == 2  # a parked row is not resent on its own


def test_one_drainer_holds_the_lease_until_it_lapses_or_is_released(tmp_path: Path) -> None:
    store = _store(tmp_path, 0)
    assert store.hold_lease("ingest", "a", 60)
    assert not store.hold_lease("ingest", "b", 60)
    assert store.hold_lease("ingest", "a", 60)  # renewed by its holder
    store.release_lease("ingest", "a")
    assert store.hold_lease("ingest", "b", 0.001)
    time.sleep(0.01)  # b's lease lapses
    assert store.hold_lease("ingest", "a", 60)
    assert not store.hold_lease("ingest", "b", 60)


def test_an_outbox_made_before_the_durable_record_gains_its_columns(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE ingest_outbox (id INTEGER PRIMARY KEY, topic VARCHAR(255) NOT NULL,"
                " partition INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
                " records INTEGER NOT NULL, source VARCHAR(200) NOT NULL, day DATE NOT NULL,"
                " kind VARCHAR(64) NOT NULL, dead BOOLEAN NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ingest_outbox (topic, partition, key, value, records, source, day,"
                " kind, dead) VALUES ('t', 0, x'6b', x'7630', 1, 'mis', '2026-09-07', 'k', 0)"
            )
        )
    store = Store(engine)
    assert [r.value for r in store.next_batch(10)] == [b"v0"]  # unsent, as it was queued
    store.published(store.next_batch(10))
    assert store.pending() == 0
