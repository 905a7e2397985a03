"""The ingest edge against the real embedded broker and a real ingest database: uploads keep
being accepted while the broker is down; when an empty broker replaces it, the whole durable
record - before and during the outage - is on the new log exactly once; a retried upload
publishes nothing twice; keys and scopes answer 401/403; the
identity store keeps UPNs and names."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.upn import make_upn
from flagstream.identity import identities
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics, partition_for
from flagstream_tools.broker import EmbeddedBroker, free_port
from ingest.db import identity_writer, make_engine
from ingest.fields import scoped_event_id
from ingest.http.app import create_app
from ingest.intake import Intake
from ingest.kafka.drainer import Drainer
from ingest.kafka.producer import kafka_producer, topic_checker
from ingest.keys import KeyStore, create_key
from ingest.ledger import ingest_ledger
from ingest.main import written_topics
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools

PSEUDONYM = Pseudonymiser(b"p" * 32)
UPNS = [make_upn(835, 2001, 2019, n) for n in range(1, 13)]
CODEC = Codec()
NOW = datetime(2025, 9, 30, 12, tzinfo=UTC)


def _consume(bootstrap: str, topics: list[str], partitions: int) -> list[tuple[str, int, Any]]:
    """Every event now on the topics: (topic, partition, decoded event), batches unpacked."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    out: list[tuple[str, int, Any]] = []
    deadline = time.monotonic() + 30
    while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            out += [(tp.topic, tp.partition, e) for r in records for e in CODEC.decode_all(r.value)]
    consumer.close()
    return out


def _event_ids(records: list[tuple[str, int, Any]]) -> list[str]:
    ids: list[str] = []
    for _, _, event in records:
        events = event.marks if isinstance(event, AttendanceMarksRecorded) else [event]
        ids += [str(e.event_id) for e in events]
    return ids


def _wait_drained(store: Store, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while store.pending():
        assert time.monotonic() < deadline, f"outbox still holds {store.pending()} messages"
        time.sleep(0.1)


def outbox_drainer(store: Store, bootstrap: str, topics: Topics, partitions: int) -> Drainer:
    """ingest's drainer of `store` on the embedded broker, as ingest.main builds it."""
    return Drainer(
        store,
        lambda: kafka_producer(bootstrap),
        topic_checker(bootstrap, written_topics(topics, partitions)),
        topics.record_replays,
        timeout=5,
    )


def _register(n: int) -> tuple[dict[str, Any], list[str]]:
    """A register upload of 12 marks with partner event ids, plus one bad mark."""
    ids = [str(uuid.uuid4()) for _ in UPNS]
    day = f"2025-09-{n + 1:02d}"
    marks = [
        {"event_id": i, "upn": u, "date": day, "session": "AM", "code": "/"}
        for i, u in zip(ids, UPNS, strict=True)
    ]
    marks.append({"upn": "NOT-A-UPN", "date": day, "session": "AM", "code": "/"})
    return {"source": "mis", "marks": marks}, ids


def test_outbox_survives_a_broker_outage_exactly_once(database_url: str) -> None:
    broker = EmbeddedBroker(port=free_port()).start()
    topics = Topics("ob")
    create_topics(broker.bootstrap, topics, partitions=3)
    engine = make_engine(database_url)
    store = Store(engine)
    with engine.begin() as conn:  # as if its school record had been accepted
        know_schools(conn, ["100001"], None, None)
    metrics = service_metrics("ingest")
    app = create_app(
        Intake(store, Router(topics, 3, CODEC), PSEUDONYM, lambda: NOW),
        KeyStore(engine),
        metrics,
        identities=identity_writer(engine),
    )
    school_key = create_key(engine, "school", "school", "100001")
    school = {"Authorization": f"Bearer {school_key}"}
    police = {"Authorization": f"Bearer {create_key(engine, 'police', 'police')}"}
    client = TestClient(app)
    drainer = outbox_drainer(store, broker.bootstrap, topics, 3)
    thread, stop = drainer.start()
    accepted: list[str] = []
    try:
        # Keys and scopes: no key, a wrong key, another school's URN, the wrong kind.
        body, _ = _register(0)
        assert client.post("/v1/schools/100001/register", json=body).status_code == 401
        wrong = {"Authorization": "Bearer fsk_000000000000.nope"}
        assert (
            client.post("/v1/schools/100001/register", json=body, headers=wrong).status_code == 401
        )
        r = client.post("/v1/schools/100002/register", json=body, headers=school)
        assert r.status_code == 403 and r.json()["reason"] == "out_of_scope"
        assert (
            client.post("/v1/schools/100001/register", json=body, headers=police).status_code == 403
        )
        assert store.pending() == 0  # refused requests queue nothing, not even dead letters

        enrol = [
            {"upn": u, "urn": "100001", "nc_year": 5, "sex": "F", "month_of_birth": "2015-03",
             "joined_on": "2021-09-01", "surname": f"S{i:02d}"}
            for i, u in enumerate(UPNS)
        ]  # fmt: skip
        r = client.post("/v1/enrolments", json={"enrolments": enrol}, headers=school)
        assert r.json()["accepted"] == len(UPNS)

        first_key, first_body = "upload-0", None
        for n in range(4):  # before the outage
            body, ids = _register(n)
            headers = {**school, "Idempotency-Key": f"upload-{n}"}
            r = client.post("/v1/schools/100001/register", json=body, headers=headers)
            assert r.status_code == 202 and r.json()["accepted"] == 12, r.text
            accepted += ids
            first_body = first_body or (body, r.json())
        _wait_drained(store)
        before = _consume(broker.bootstrap, [*topics.canonical], 3)

        broker.stop()
        for n in range(4, 8):  # the broker is down: still accepted, into the outbox
            body, ids = _register(n)
            headers = {**school, "Idempotency-Key": f"upload-{n}"}
            r = client.post("/v1/schools/100001/register", json=body, headers=headers)
            assert r.status_code == 202 and r.json()["accepted"] == 12, r.text
            accepted += ids
        # A retried upload answers as the first time and queues nothing.
        queued = store.pending()
        assert queued > 0
        assert first_body is not None
        r = client.post(
            "/v1/schools/100001/register",
            json=first_body[0],
            headers={**school, "Idempotency-Key": first_key},
        )
        assert r.json() == first_body[1] and r.headers["Idempotent-Replayed"] == "true"
        # The same records resent under a new key are refused by event_id.
        r = client.post(
            "/v1/schools/100001/register",
            json=first_body[0],
            headers={**school, "Idempotency-Key": "another"},
        )
        assert r.json()["accepted"] == 0
        assert Counter(x["reason"] for x in r.json()["rejections"]) == {
            "duplicate_event": 12,
            "invalid_upn_format": 1,
        }
        r = client.post(
            "/v1/schools/100001/register",
            json=_register(9)[0],
            headers={**school, "Idempotency-Key": first_key},
        )
        assert r.status_code == 409

        broker.start()  # an empty broker on the same port (in-memory): recreate the topics
        create_topics(broker.bootstrap, topics, partitions=3)
        _wait_drained(store)
        after = _consume(broker.bootstrap, [*topics.canonical], 3)
    finally:
        stop.set()
        thread.join(30)
        broker.stop()

    # Partners' event ids are published scoped to the sending key (fields.event_id).
    accepted = [str(scoped_event_id(school_key[4:16], uuid.UUID(i))) for i in accepted]
    marks_before = [i for i in _event_ids(before) if i in set(accepted)]
    marks_after = [i for i in _event_ids(after) if i in set(accepted)]
    assert len(marks_before) == 48
    # The new log holds the whole record - what the old broker had too - each mark once.
    assert len(marks_after) == len(set(marks_after)) == len(accepted) == 96
    assert set(marks_after) == set(accepted)
    for _, partition, event in after:  # marks sit in the partition that owns the child
        for m in getattr(event, "marks", []):
            assert partition == partition_for(m.child_key, 3)
    raw = b"".join(CODEC.encode(e) for _, _, e in before + after)
    assert all(u.encode() not in raw for u in UPNS)

    with engine.connect() as conn:
        rows = conn.execute(select(identities).order_by(identities.c.surname)).all()
    assert [(r.child_key, r.upn) for r in rows] == [(PSEUDONYM(u), u) for u in UPNS]
    rows = {r.source: r for r in ingest_ledger(engine) if r.kind == "attendance_mark"}
    mis = rows["mis:100001"]
    # The refused requests are counted too: who (or "unauthenticated"), why, never as records.
    assert dict(rows["unauthenticated"].refusals) == {"unauthenticated": 2}
    assert dict(rows["mis:100002"].refusals) == {"out_of_scope": 1}
    assert dict(mis.refusals) == {"out_of_scope": 1, "idempotency_key_reused": 1}
    # 8 uploads + the refused-by-event-id resend; the replay and the 409 count nothing.
    assert (mis.received, mis.accepted, mis.rejected, mis.published) == (117, 96, 21, 96)
    assert mis.received == mis.accepted + mis.rejected
    text = client.get("/metrics").text
    assert 'flagstream_rejected_total{reason="unauthenticated"} 2.0' in text
    assert 'flagstream_rejected_total{reason="out_of_scope"} 2.0' in text
