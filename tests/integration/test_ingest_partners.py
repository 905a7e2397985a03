"""Partner events through the real ingest app and Kafka publisher to the embedded broker; the
identity store on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from flagstream.broker import EmbeddedBroker
from flagstream.codec import Codec
from flagstream.domain.events import OutcomeRecorded, SenProvisionRecorded
from flagstream.domain.upn import make_upn
from flagstream.identity import identities
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics, partition_for
from ingest.app import create_app
from ingest.db import identity_writer, make_engine
from ingest.pseudonymise import Pseudonymiser
from ingest.publisher import KafkaPublisher

KEY = Pseudonymiser(b"p" * 32)
UPNS = [make_upn(835, 2001, 2019, n) for n in range(1, 9)]


def _consume(bootstrap: str, topic: str, partitions: int) -> list[tuple[int, bytes, bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    out: list[tuple[int, bytes, bytes]] = []
    for _ in range(10):
        for tp, records in consumer.poll(timeout_ms=500).items():
            out += [(tp.partition, r.key, r.value) for r in records]
    consumer.close()
    return out


def test_partner_events_reach_their_topics_keyed_by_child(
    broker: EmbeddedBroker, database_url: str
) -> None:
    topics = Topics(f"ip{abs(hash(database_url)) % 10_000}")
    create_topics(broker.bootstrap, topics, partitions=3)
    codec = Codec()
    publisher = KafkaPublisher(broker.bootstrap, topics, 3, codec, timeout=10)
    app = create_app(
        publisher,
        KEY,
        service_metrics("ingest"),
        identities=identity_writer(make_engine(database_url)),
    )
    client = TestClient(app)
    try:
        enrol: dict[str, Any] = {"urn": "100001", "nc_year": 5, "sex": "M"}
        enrol |= {"month_of_birth": "2015-03", "joined_on": "2021-09-01"}
        r = client.post(
            "/v1/enrolments",
            json={
                "enrolments": [{**enrol, "upn": u, "surname": f"S{i}"} for i, u in enumerate(UPNS)]
            },
        )
        assert r.json()["accepted"] == len(UPNS)
        sen = [
            {"upn": u, "urn": "100001", "provision": "K", "effective_on": "2025-09-01"}
            for u in UPNS
        ]
        assert client.post("/v1/sen-provision", json={"records": sen}).json()["accepted"] == 8
        outcome = {"upn": UPNS[0], "urn": "100001", "response": "1:1", "status": "New"}
        outcome |= {"recorded_by": "dsl", "recorded_on": "2025-09-10"}
        assert client.post("/v1/outcomes", json={"records": [outcome]}).json()["accepted"] == 1
    finally:
        publisher.close()

    child_events = _consume(broker.bootstrap, topics.child_events, 3)
    assert len(child_events) == 8
    for partition, key, value in child_events:
        event = codec.decode(value)
        assert isinstance(event, SenProvisionRecorded)
        assert key == event.child_key.encode()
        assert partition == partition_for(event.child_key, 3)
        assert all(u.encode() not in value for u in UPNS)
    assert {k for _, k, _ in child_events} == {KEY(u).encode() for u in UPNS}
    [(_, key, value)] = _consume(broker.bootstrap, topics.outcomes, 3)
    assert isinstance(codec.decode(value), OutcomeRecorded) and key == KEY(UPNS[0]).encode()

    with make_engine(database_url).connect() as conn:
        rows = conn.execute(select(identities).order_by(identities.c.surname)).all()
    assert [(r.child_key, r.upn, r.surname) for r in rows] == [
        (KEY(u), u, f"S{i}") for i, u in enumerate(UPNS)
    ]
