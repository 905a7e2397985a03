"""New inputs: snapshot batches (ChildFlagsSnapshots) and DayEnded ticks on the attendance
topic's partitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import Date, select, text

from flagstream.codec import Codec
from flagstream.domain.events import ChildFlagsSnapshot, ChildFlagsSnapshots, DayEnded
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker
from projector.consumer import Projector
from readmodel.db import create_schema, make_engine
from readmodel.tables import children, daily_counts, metadata, school_days
from tests.integration.test_projector import drain
from tests.integration.test_read_model_queries import (
    D1,
    D2,
    D3,
    consumed,
    county,
    dump,
    env,
    load,
    snap,
)

CODEC = Codec()


def _batched(events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The same stream with every snapshot sent in one ChildFlagsSnapshots, as the flagger
    now publishes them, preceded by an older snapshot of c1 that the later one must beat."""
    snaps = [e for topic, e in events if topic == "snap"]
    stale = snap("c1", "100001", D1)
    batch = ChildFlagsSnapshots(batch_id=uuid.uuid4(), snapshots=[stale, *snaps])
    return [(t, e) for t, e in events if t != "snap"] + [("snap", batch)]


def test_a_snapshot_batch_projects_as_its_snapshots_in_order(database_url: str) -> None:
    events = county()
    singles = list(consumed(events))
    engine = load(database_url, [singles[i : i + 4] for i in range(0, len(singles), 4)])
    with engine.connect() as conn:
        expected = dump(conn)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    batched = list(consumed(_batched(events)))
    assert sum(isinstance(r.event, ChildFlagsSnapshot) for r in batched) == 0
    engine = load(database_url, [batched[i : i + 4] for i in range(0, len(batched), 4)])
    with engine.connect() as conn:
        assert dump(conn) == expected
        one = text("SELECT * FROM child_flag_columns WHERE child_key = 'c1'").columns(as_of=Date)
        c1 = conn.execute(one).one()
        assert (c1.as_of, c1.attend_tier) == (D3, "severe")
    engine.dispose()


def test_snapshot_batches_and_day_ends_on_the_attendance_topic_via_kafka(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics = Topics(f"inp{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=3)
    events = _batched(county())
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    names = {"snap": topics.child_flags, "flags": topics.flag_changes}
    for topic, event in events:
        if topic == "clock":
            continue  # ticks go to the attendance topic instead
        name = names.get(topic) or getattr(topics, topic.replace("-", "_"), None)
        producer.send(name, value=CODEC.encode(event), partition=0).get(timeout=10)
    for p in range(3):  # D3 only comes with the marks
        ticks = [DayEnded(**env(day, 23), day=day) for day in (D1, D2)]
        if p == 0:  # one message carrying both: each counts as an event of its kind
            producer.send(topics.attendance, value=CODEC.encode_batch(ticks), partition=p).get(10)
        else:
            for tick in ticks:
                producer.send(topics.attendance, value=CODEC.encode(tick), partition=p).get(10)
    producer.close()
    engine = make_engine(database_url)
    create_schema(engine)
    metrics = service_metrics("projector")
    projector = Projector(broker.bootstrap, topics, engine, CODEC, metrics, batch_size=5)
    projector._assign()
    drain(projector, broker.bootstrap, topics, engine)
    with engine.connect() as conn:
        assert set(conn.scalars(select(school_days.c.day))) == {D1, D2, D3}
        days = set(conn.scalars(select(daily_counts.c.day).where(daily_counts.c.flag == "ANY")))
        assert days == {D1, D2, D3}
        rows = {r.child_key: (r.as_of, r.flags) for r in conn.execute(select(children))}
        assert rows == {"c1": (D3, "ATTEND"), "c2": (D3, "FSM"), "c3": (D3, "SEN"), "c4": (D3, "")}
    assert metrics.events_in.labels("child_flags_snapshots")._value.get() == 1
    assert metrics.events_in.labels("day_ended")._value.get() == 6
    engine.dispose()
