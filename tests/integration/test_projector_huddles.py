"""A recorded huddle through the projector on the real embedded broker (SQLite and
PostgreSQL): one huddles row, one huddle_reviews row per child, each review also the child's
outcome dated the day the huddle met; the same event twice (at-least-once) writes nothing
twice, and a projector restarted from offset 0 on the same read model changes nothing."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from flagstream.domain.events import HuddleRecorded, HuddleReview
from flagstream.metrics import service_metrics
from flagstream_tools.broker import EmbeddedBroker
from projector.consumer import Projector
from projector.huddle_rows import review_outcome_id
from readmodel.tables import huddle_reviews, huddles, outcomes

from .test_projector import CODEC, T, drain, fresh, send

HELD = date(2025, 10, 15)


def a_huddle() -> HuddleRecorded:
    return HuddleRecorded(
        event_id=uuid.uuid4(),
        source="dashboard",
        occurred_at=T,
        recorded_at=T,
        urn="100001",
        half_term="Autumn 1 2025/26",
        held_on=HELD,
        attendees=["DSL", "SENCo"],
        recorded_by="dsl.100001",
        reviews=[
            HuddleReview(child_key="c1", response="1:1", status="Some progress"),
            HuddleReview(child_key="c2", response="Referral", status="Further risk"),
        ],
    )


def tables(engine: object) -> tuple[list[tuple[object, ...]], ...]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return (
            [tuple(r) for r in conn.execute(select(huddles).order_by(huddles.c.event_id))],
            [tuple(r) for r in conn.execute(select(huddle_reviews).order_by("child_key"))],
            [tuple(r) for r in conn.execute(select(outcomes).order_by(outcomes.c.child_key))],
        )


def test_a_huddle_is_projected_once_with_each_review_as_an_outcome(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics, engine, producer = fresh(broker, database_url)
    event = a_huddle()
    for _ in range(2):  # at-least-once: the same event on the topic twice
        send(producer, topics.outcomes, event.urn, CODEC.encode(event))
    projector = Projector(broker.bootstrap, topics, engine, CODEC, service_metrics("projector"))
    projector._assign()
    drain(projector, broker.bootstrap, topics, engine)

    rows = tables(engine)
    [huddle] = rows[0]
    assert huddle[1:7] == ("100001", "Autumn 1 2025/26", HELD, "DSL, SENCo", "dsl.100001", 2)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows[1]] == [
        ("c1", "100001", HELD, "1:1", "Some progress"),
        ("c2", "100001", HELD, "Referral", "Further risk"),
    ]
    with engine.connect() as conn:
        got = {r.child_key: r for r in conn.execute(select(outcomes))}
    assert set(got) == {"c1", "c2"}
    assert got["c1"].event_id == review_outcome_id(str(event.event_id), "c1")
    assert (got["c2"].response, got["c2"].status, got["c2"].recorded_on) == (
        "Referral", "Further risk", HELD)  # fmt: skip

    # A rebuild reads the topic again from the start into the same tables: nothing twice.
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM projector_offsets")
    again = Projector(broker.bootstrap, topics, engine, CODEC, service_metrics("projector"))
    again._assign()
    drain(again, broker.bootstrap, topics, engine)
    assert tables(engine) == rows
    producer.close()
    engine.dispose()
