"""Partners publishing Avro straight to Kafka: a partner producer puts good and bad records on
the raw topics of the real embedded broker; `flagstream validator`'s parts (RawConsumer,
Validator, the outbox Drainer) route them to the canonical topics with child_key or to the
dead-letter topic with a reason and no identifier, and the ledger reconciles. A batch that
fails to store is read again, and a restart reads nothing twice."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import select

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.upn import make_upn
from flagstream.identity import Identity, identities
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker
from ingest.avro_bodies import PartnerSchema
from ingest.db import identity_writer, make_engine
from ingest.kafka.drainer import Drainer
from ingest.kafka.producer import kafka_producer, topic_checker
from ingest.kinds import KINDS
from ingest.ledger import ingest_ledger
from ingest.main import registry_lookup, written_topics
from ingest.models import EnrolmentIn, MarkIn, SchoolIn
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools, raw_outbox
from ingest.validator import Validator
from ingest.validator_main import RawConsumer, check_raw_topics

from .schema_registry import SchemaRegistry

PSEUDONYM = Pseudonymiser(b"v" * 32)
CODEC = Codec()
NOW = datetime(2025, 9, 30, 12, tzinfo=UTC)
UPNS = [make_upn(835, 2001, 2019, n) for n in range(1, 7)]
BAD_UPN = ("A" if UPNS[0][0] != "A" else "B") + UPNS[0][1:]  # wrong check letter
MARKS = PartnerSchema("MarkIn", MarkIn)
ENROLMENTS = PartnerSchema("EnrolmentIn", EnrolmentIn)
SCHOOLS = PartnerSchema("SchoolIn", SchoolIn)


def _body(schema: PartnerSchema, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema.parsed, record)
    return out.getvalue()


def _single(schema: PartnerSchema, record: dict[str, Any]) -> bytes:
    return schema.header + _body(schema, record)


def _mark(upn: str, code: str = "/") -> dict[str, Any]:
    return {"upn": upn, "date": "2025-09-29", "session": "AM", "code": code}


def _read(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) now on a topic."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + 20
    while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=300).values():
            out += [(r.key or b"", r.value or b"") for r in records]
    consumer.close()
    return out


def _publish(bootstrap: str, topics: Topics, registry_id: int) -> dict[str, int]:
    """What a partner would publish, good and bad; returns how many per raw topic."""
    good = _single(MARKS, _mark(UPNS[0]))
    marks: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = [
        *((b"100001", _single(MARKS, _mark(u)), [("source", b"acme-mis")]) for u in UPNS[:4]),
        (b"100001", b"hello, not avro", []),  # malformed_avro
        (b"100001", good[:-4], []),  # truncated_avro
        (b"100001", good + b"\x00", []),  # trailing_bytes
        (b"100001", b"\xc3\x01" + b"\x11" * 8 + good[10:], []),  # unknown_schema (fingerprint)
        (b"100001", _single(SCHOOLS, {"urn": "100001"}), []),  # another kind's schema
        (b"100001", _single(MARKS, _mark(BAD_UPN)), []),  # invalid_upn_check_letter
        (b"nope", _single(MARKS, _mark(UPNS[4])), []),  # the key must be the school's URN
        # Confluent framing: a schema id the registry knows, and one it does not.
        (b"100001", b"\x00" + registry_id.to_bytes(4, "big") + _body(MARKS, _mark(UPNS[5])), []),
        (b"100001", b"\x00" + (999).to_bytes(4, "big") + _body(MARKS, _mark(UPNS[5])), []),
    ]
    enrolment = {
        "upn": UPNS[0],
        "urn": "100001",
        "nc_year": 5,
        "sex": "F",
        "month_of_birth": "2015-03",
        "joined_on": "2021-09-01",
        "forename": "Ada",
        "surname": "Quist",
    }
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for key, value, headers in marks:
        producer.send(topics.raw("attendance_mark"), value=value, key=key, headers=headers)
    producer.send(topics.raw("enrolment"), value=_single(ENROLMENTS, enrolment), key=b"x")
    producer.flush(10)
    producer.close()
    return {"attendance_mark": len(marks), "enrolment": 1}


def _marks(event: object) -> list[Any]:
    assert isinstance(event, AttendanceMarksRecorded)
    return list(event.marks)


def _run_until(consumer: RawConsumer, done: Any, timeout: float = 30.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), kwargs={"retry": 0.2})
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not done():
            assert time.monotonic() < deadline, "the validator did not consume the raw topics"
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_raw_topics_are_validated_exactly_as_http_uploads(
    broker: EmbeddedBroker, backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'ingest.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    topics = Topics(f"rv{backend[:2]}")
    create_topics(broker.bootstrap, topics, partitions=3, raw_kinds=[k.name for k in KINDS])
    engine = make_engine(url)
    store = Store(engine, raw_outbox)
    with engine.begin() as conn:  # as if its school record had been accepted
        know_schools(conn, ["100001"], None, None)
    check_raw_topics(broker.bootstrap, topics, 3, store)  # as the validator does at start
    people: list[Identity] = []
    identity_engine = make_engine(f"sqlite:///{tmp_path / 'identity.db'}")  # its own database
    write_identities = identity_writer(identity_engine)
    failures = [1]  # the first enrolment batch fails to store, as if the database went away

    def identities_or_fail(batch: list[Identity]) -> None:
        if failures:
            failures.pop()
            raise RuntimeError("identity store away")
        people.extend(batch)
        write_identities(batch)

    mark_schema = json.dumps(MARKS.schema, separators=(",", ":"))  # as a registry stores it
    with SchemaRegistry({7: mark_schema}) as registry:
        sent = _publish(broker.bootstrap, topics, registry_id=7)
        validator = Validator(
            store,
            Router(topics, 3, CODEC),
            PSEUDONYM,
            lambda: NOW,
            topics,
            registry=registry_lookup(registry.url),
            identities=identities_or_fail,
        )

        def consumed() -> bool:  # next offsets summed over partitions = records read
            return sum(validator.offsets().values()) == sum(sent.values())

        consumer = RawConsumer(broker.bootstrap, validator, batch=5)
        consumer.assign()
        _run_until(consumer, consumed)
        assert failures == [] and len(people) == 1  # failed once, stored on the retry

        drainer = Drainer(
            store,
            lambda: kafka_producer(broker.bootstrap),
            topic_checker(broker.bootstrap, written_topics(topics, 3)),
            topics.record_replays,
            name="validator",
            timeout=5,
        )
        while drainer.drain_once():
            pass
        assert store.pending() == 0

        # A restarted validator resumes from the stored offsets: nothing read twice.
        again = RawConsumer(broker.bootstrap, validator, batch=5)
        again.assign()
        assert again.poll_once(timeout_ms=1500) == 0

    marks = [
        m
        for _, value in _read(broker.bootstrap, topics.attendance)
        for m in _marks(CODEC.decode(value))
    ]
    expected = {PSEUDONYM(u) for u in (*UPNS[:4], UPNS[5])}  # four single-object + Confluent
    assert sorted(m.child_key for m in marks) == sorted(expected)  # each exactly once
    assert {m.source for m in marks} == {"acme-mis:100001", "mis:100001"}
    [(_, enrolment)] = _read(broker.bootstrap, topics.enrolments)
    assert CODEC.decode(enrolment).child_key == PSEUDONYM(UPNS[0])  # type: ignore[attr-defined]

    letters = [json.loads(v) for _, v in _read(broker.bootstrap, topics.dead_letters)]
    assert Counter(d["reason"] for d in letters) == {
        "malformed_avro": 1,
        "truncated_avro": 1,
        "trailing_bytes": 1,
        "unknown_schema": 3,  # a wrong fingerprint, another kind's schema, registry id 999
        "invalid_upn_check_letter": 1,
        "invalid_urn": 1,
    }
    assert {d["kind"] for d in letters} == {"attendance_mark"}
    assert all(d["reference"].startswith(f"{topics.raw('attendance_mark')}/") for d in letters)

    everything = b"".join(
        k + v
        for topic in (*topics.canonical, topics.dead_letters)
        for k, v in _read(broker.bootstrap, topic)
    )
    for secret in (*UPNS, BAD_UPN, "Ada", "Quist"):
        assert secret.encode() not in everything
    with identity_engine.connect() as conn:
        [row] = conn.execute(select(identities)).all()
    assert (row.upn, row.surname) == (UPNS[0], "Quist")  # only the identity store has them

    ledger = {(r.source, r.kind): r for r in ingest_ledger(engine)}
    assert sum(r.received for r in ledger.values()) == sum(sent.values())
    assert all(r.balanced and r.published == r.accepted for r in ledger.values())
    acme = ledger[("acme-mis:100001", "attendance_mark")]
    assert (acme.received, acme.accepted, acme.rejected) == (4, 4, 0)
    mis = ledger[("mis:100001", "attendance_mark")]
    assert (mis.received, mis.accepted, mis.rejected) == (8, 1, 7)
    assert ledger[("mis:invalid-urn", "attendance_mark")].rejected == 1
    assert ledger[("census", "enrolment")].accepted == 1
