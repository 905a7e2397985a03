"""The projector against the real embedded broker, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine, func, select, text

from flagstream.codec import Codec
from flagstream.domain.events import ActiveFlag, ChildFlagsSnapshot, FlagChanged, SchoolRecorded
from flagstream.lag import behind, end_offsets
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker
from projector.consumer import Projector, source_topics
from projector.writer import stored_offsets
from readmodel.db import create_schema, make_engine
from readmodel.tables import children, flag_changes, schools

CODEC = Codec()
T = datetime(2025, 10, 1, 9, tzinfo=UTC)
D = date(2025, 10, 1)


def env() -> dict[str, object]:
    return {"event_id": uuid.uuid4(), "source": "test", "occurred_at": T, "recorded_at": T}


def snapshot(child: str, urn: str, absent: int, flagged: bool) -> ChildFlagsSnapshot:
    flags = [ActiveFlag(flag="ATTEND", reason="attendance low", raised_on=D)] if flagged else []
    return ChildFlagsSnapshot(
        **env(),
        child_key=child,
        urn=urn,
        nc_year=5,
        sex="F",
        as_of=D,  # type: ignore[arg-type]
        possible_sessions=40,
        absent_sessions=absent,
        flags=flags,
        rule_version="v1",
        term_start=date(2025, 9, 3),
        term_possible_sessions=30,
        term_absent_sessions=absent // 2,
    )


def change(child: str, kind: str) -> FlagChanged:
    return FlagChanged(
        **env(),
        child_key=child,
        urn="100001",
        flag="ATTEND",
        change=kind,  # type: ignore[arg-type]
        reason="r",
        rule_version="v1",
        as_of=D,
    )


def send(producer: KafkaProducer, topic: str, key: str, value: bytes) -> None:
    producer.send(topic, key=key.encode(), value=value).get(timeout=10)


def caught_up(bootstrap: str, topics: Topics, engine: Engine) -> bool:
    with engine.connect() as conn:
        return behind(end_offsets(bootstrap, source_topics(topics)), stored_offsets(conn)) == 0


def drain(projector: Projector, bootstrap: str, topics: Topics, engine: Engine) -> None:
    deadline = time.monotonic() + 30
    while True:
        projector.poll_once(timeout_ms=200)
        if caught_up(bootstrap, topics, engine):
            return
        assert time.monotonic() < deadline, "projector did not catch up in 30 s"


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a one-partition topic."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=2000)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records = list(consumer)
    consumer.close()
    return records


def test_an_undecodable_message_stops_the_projector_before_it(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics, engine, producer = fresh(broker, database_url)
    tp = TopicPartition(topics.flag_changes, 0)
    first, later = change("c1", "RAISED"), change("c3", "RAISED")
    for value in (CODEC.encode(first), b"\xc3\x01not avro", CODEC.encode(later)):
        producer.send(tp.topic, key=b"k", value=value, partition=0).get(timeout=10)
    metrics = service_metrics("projector")
    projector = Projector(broker.bootstrap, topics, engine, CODEC, metrics)
    projector._assign()
    deadline = time.monotonic() + 30
    while projector.stopped_on is None:
        assert time.monotonic() < deadline, "the projector never met the poison message"
        projector.poll_once(timeout_ms=200)
    assert projector.stopped_on == f"{topics.flag_changes}[0]@1"
    with engine.connect() as conn:
        assert stored_offsets(conn)[(tp.topic, 0)] == 1  # before the poison, never past it
        assert [r.child_key for r in conn.execute(select(flag_changes))] == ["c1"]
    assert projector.health.stopped.labels("undecodable")._value.get() == 1
    assert read_all(broker.bootstrap, topics.quarantine) == []


def fresh(broker: EmbeddedBroker, database_url: str) -> tuple[Topics, Engine, KafkaProducer]:
    """New topics, a read model with its schema, and a producer."""
    topics = Topics(f"proj{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=3)
    engine = make_engine(database_url)
    create_schema(engine)
    return topics, engine, KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")


def test_projects_rows_and_offsets_in_one_transaction_and_resumes(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics, engine, producer = fresh(broker, database_url)
    for urn, name in (("100001", "Hartcombe Primary"), ("100002", "Lyne Academy")):
        school = SchoolRecorded(
            **env(),
            urn=urn,
            name=name,
            phase="PRIMARY",
            pyramid="Lyne",  # type: ignore[arg-type]
            zone="Northvale",
        )
        send(producer, topics.schools, urn, CODEC.encode(school))
    for child, urn, absent, flagged in [
        ("c1", "100001", 8, True),
        ("c2", "100001", 1, False),
        ("c3", "100002", 6, True),
        ("c1", "100001", 2, False),
    ]:
        send(
            producer, topics.child_flags, child, CODEC.encode(snapshot(child, urn, absent, flagged))
        )
    raised = change("c1", "RAISED")
    for event in (raised, change("c1", "CLEARED"), change("c3", "RAISED"), raised):  # a repeat
        send(producer, topics.flag_changes, event.child_key, CODEC.encode(event))
    send(producer, topics.flag_changes, "junk", b"\xc3\x01not avro")

    metrics = service_metrics("projector")
    projector = Projector(
        broker.bootstrap, topics, engine, CODEC, metrics, batch_size=3,
        on_undecodable="quarantine",
    )  # fmt: skip
    projector._assign()
    drain(projector, broker.bootstrap, topics, engine)
    quarantined = read_all(broker.bootstrap, topics.quarantine)
    assert [r.value for r in quarantined] == [b"\xc3\x01not avro"]
    assert dict(quarantined[0].headers)["source_topic"] == topics.flag_changes.encode()

    with engine.connect() as conn:
        # The council's per-flag columns, from the views over the flag rows.
        rows = {r.child_key: r for r in conn.execute(text("SELECT * FROM child_flag_columns"))}
        assert {k: (r.urn, r.attend, r.absent_sessions) for k, r in rows.items()} == {
            "c1": ("100001", False, 2),
            "c2": ("100001", False, 1),
            "c3": ("100002", True, 6),
        }
        assert rows["c3"].attendance_pct == 85.0 and rows["c3"].indicators == 1
        c = children.c
        term = select(c.child_key, c.term_start, c.term_possible_sessions, c.term_absent_sessions)
        assert sorted(conn.execute(term).all()) == [
            ("c1", date(2025, 9, 3), 30, 1),  # the later snapshot's figures
            ("c2", date(2025, 9, 3), 30, 0),
            ("c3", date(2025, 9, 3), 30, 3),
        ]
        assert conn.scalar(select(func.count()).select_from(flag_changes)) == 3
        summary = {
            r.urn: (r.children, r.attend_flagged, r.any_flagged)
            for r in conn.execute(text("SELECT * FROM school_flag_columns"))
        }
        assert summary == {"100001": (2, 0, 0), "100002": (1, 1, 1)}
        assert conn.scalar(select(func.count()).select_from(schools)) == 2
    assert metrics.rejected.labels("unknown_fingerprint")._value.get() == 1

    # A new projector (as after a crash) resumes from the stored offsets: nothing twice.
    projector = Projector(broker.bootstrap, topics, engine, CODEC, service_metrics("projector"))
    projector._assign()
    send(producer, topics.child_flags, "c2", CODEC.encode(snapshot("c2", "100002", 9, True)))
    drain(projector, broker.bootstrap, topics, engine)
    with engine.connect() as conn:
        summary = {
            r.urn: (r.children, r.attend_flagged, r.any_flagged)
            for r in conn.execute(text("SELECT * FROM school_flag_columns"))
        }
        assert summary == {"100001": (1, 0, 0), "100002": (2, 2, 2)}
        assert conn.scalar(select(func.count()).select_from(flag_changes)) == 3
    producer.close()
    engine.dispose()


def test_run_writes_in_order_until_stopped_and_stops_on_a_failed_write(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics, engine, producer = fresh(broker, database_url)
    for i in range(60):  # a child's later snapshot replaces the earlier: order matters
        child = f"c{i % 20}"
        send(producer, topics.child_flags, child, CODEC.encode(snapshot(child, "100001", i, False)))
    projector = Projector(
        broker.bootstrap, topics, engine, CODEC, service_metrics("projector"), batch_size=4
    )
    runner = threading.Thread(target=projector.run)
    runner.start()
    deadline = time.monotonic() + 30
    while not caught_up(broker.bootstrap, topics, engine):
        assert time.monotonic() < deadline, "projector did not catch up in 30 s"
        time.sleep(0.1)
    projector.stop()
    runner.join(timeout=10)
    assert not runner.is_alive()
    with engine.connect() as conn:
        absent = dict(conn.execute(select(children.c.child_key, children.c.absent_sessions)).all())
        before = stored_offsets(conn)
    assert absent == {f"c{i}": 40 + i for i in range(20)}

    # A write that fails stops run() with the error; nothing of the batch is committed.
    failing = Projector(broker.bootstrap, topics, engine, CODEC, service_metrics("projector"))

    def broken(batch: object) -> None:
        raise RuntimeError("disk full")

    failing._write = broken  # type: ignore[method-assign,assignment]
    send(producer, topics.child_flags, "c1", CODEC.encode(snapshot("c1", "100001", 99, True)))
    with pytest.raises(RuntimeError, match="disk full"):
        failing.run()
    with engine.connect() as conn:
        assert stored_offsets(conn) == before
        held = select(children.c.absent_sessions).where(children.c.child_key == "c1")
        assert conn.scalar(held) == 41
    producer.close()
    engine.dispose()
