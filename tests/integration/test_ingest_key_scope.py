"""Everything a key sends keeps the key's id, and Idempotency-Keys and partner event ids are
scoped per key - on SQLite and PostgreSQL, and on an ingest database made before any of it
(its kept answers and event ids still protect retries after the upgrade)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from flagstream.codec import Codec
from flagstream.databases import upgrade
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.upn import make_upn
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from flagstream_tools.databases import BY_NAME
from ingest.db import make_engine
from ingest.fields import scoped_event_id
from ingest.http.app import create_app
from ingest.intake import Intake
from ingest.keys import KeyStore, create_key
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools, outbox, seen_events, uploads

CODEC = Codec()
NOW = datetime(2025, 9, 30, 12, tzinfo=UTC)
UPN = make_upn(835, 2001, 2019, 1)
MARK = {"upn": UPN, "date": "2025-09-29", "session": "AM", "code": "/"}
REGISTER = "/v1/schools/100001/register"


def _old_database(url: str) -> tuple[str, str, str]:
    """An ingest database as the release before key ids made it, with one partner's key, an
    answer kept for its Idempotency-Key and an event id it sent; returns (key, body, event id)."""
    old = MetaData()
    Table(
        "ingest_api_keys", old,
        Column("key_id", String(32), primary_key=True),
        Column("secret_sha256", String(64), nullable=False),
        Column("partner", String(100), nullable=False),
        Column("scope", String(32), nullable=False),
        Column("urn", String(6)),
        Column("note", Text),
        Column("revoked", Boolean, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    Table(
        "ingest_uploads", old,
        Column("partner", String(100), primary_key=True),
        Column("idempotency_key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("receipt", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    Table(
        "ingest_seen_events", old,
        Column("event_id", String(36), primary_key=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    Table(
        "ingest_outbox", old,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("topic", String(255), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("key", LargeBinary, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("records", Integer, nullable=False),
        Column("source", String(200), nullable=False),
        Column("day", Date, nullable=False),
        Column("kind", String(64), nullable=False),
        Column("dead", Boolean, nullable=False),
        Column("sent", Boolean, nullable=False),
        Column("created_at", DateTime(timezone=True)),
        Column("sent_at", DateTime(timezone=True)),
        Column("parked", String(64)),
    )  # fmt: skip
    engine = make_engine(url)
    old.create_all(engine)
    secret, eid = "s" * 43, str(uuid.uuid4())
    body = json.dumps({"marks": [{**MARK, "event_id": eid}]})
    receipt = {"upload_id": "old", "received": 1, "accepted": 1, "rejected": 0, "rejections": []}
    digest = hashlib.sha256(
        b"attendance_mark\x00100001\x00application/json\x00mis\x00" + body.encode()
    ).hexdigest()
    with engine.begin() as conn:
        conn.execute(
            old.tables["ingest_api_keys"].insert(),
            [
                {
                    "key_id": "0123456789ab",
                    "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
                    "partner": "mis - 100001",
                    "scope": "school",
                    "urn": "100001",
                    "revoked": False,
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            old.tables["ingest_uploads"].insert(),
            [
                {
                    "partner": "mis - 100001",
                    "idempotency_key": "upload-1",
                    "request_hash": digest,
                    "status": 202,
                    "receipt": json.dumps(receipt),
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            old.tables["ingest_seen_events"].insert(), [{"event_id": eid, "created_at": NOW}]
        )
        conn.execute(
            old.tables["ingest_outbox"].insert(),
            [
                {
                    "topic": "t.schools", "partition": 0, "key": b"100001", "value": b"old",
                    "records": 1, "source": "gias", "day": NOW.date(), "kind": "school",
                    "dead": False, "sent": True, "created_at": NOW, "sent_at": NOW,
                }
            ],
        )  # fmt: skip
    engine.dispose()
    return f"fsk_0123456789ab.{secret}", body, eid


def _client(url: str) -> tuple[TestClient, Store]:
    engine = make_engine(url)
    store = Store(engine)
    intake = Intake(store, Router(Topics("t"), 3, CODEC), Pseudonymiser(b"q" * 32), lambda: NOW)
    return TestClient(create_app(intake, KeyStore(engine), service_metrics("ingest"))), store


def _published(store: Store) -> list[tuple[str, str | None]]:
    """(event id, key id) of every mark in the outbox."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(outbox).where(~outbox.c.dead, outbox.c.kind == "attendance_mark")
        )
        return [
            (str(m.event_id), r.key_id)
            for r in rows
            for e in CODEC.decode_all(r.value)
            if isinstance(e, AttendanceMarksRecorded)
            for m in e.marks
        ]


def test_an_old_database_keeps_its_answers_and_event_ids_per_partner(database_url: str) -> None:
    key, body, _ = _old_database(database_url)
    _check_upgraded(database_url, key, body)  # ingest upgrades the tables itself at start


def test_the_alembic_revision_keeps_them_too(postgres_url: str) -> None:
    key, body, _ = _old_database(postgres_url)
    engine = make_engine(postgres_url)
    upgrade(BY_NAME["ingest"], engine)  # `flagstream migrate`, before ingest starts
    engine.dispose()
    _check_upgraded(postgres_url, key, body)


def _check_upgraded(url: str, key: str, body: str) -> None:
    client, store = _client(url)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    # The school is known from the school record the durable record holds; the roll starts
    # empty, so the council enrols the pupil again before the school's key writes for them.
    council = create_key(store.engine, "council", "council")
    enrolment = {"upn": UPN, "urn": "100001", "nc_year": 5, "sex": "F"}
    enrolment |= {"month_of_birth": "2015-03", "joined_on": "2021-09-01"}
    r = client.post(
        "/v1/enrolments",
        json={"enrolments": [enrolment]},
        headers={"Authorization": f"Bearer {council}"},
    )
    assert r.json()["accepted"] == 1, r.text
    # A retry of the upload answered before the upgrade gets that answer again ...
    r = client.post(REGISTER, content=body, headers={**headers, "Idempotency-Key": "upload-1"})
    assert r.headers.get("Idempotent-Replayed") == "true" and r.json()["upload_id"] == "old"
    # ... and its records resent under a new Idempotency-Key are still duplicates.
    r = client.post(REGISTER, content=body, headers={**headers, "Idempotency-Key": "upload-2"})
    assert [x["reason"] for x in r.json()["rejections"]] == ["duplicate_event"]
    assert _published(store) == []
    with store.engine.connect() as conn:
        kept = {(u.key_id, u.idempotency_key) for u in conn.execute(select(uploads))}
        old_outbox = conn.execute(select(outbox.c.key_id).where(outbox.c.kind == "school")).all()
    assert ("0123456789ab", "upload-2") in kept and len(kept) == 2
    assert old_outbox == [(None,)]


def test_idempotency_keys_and_event_ids_are_per_key(database_url: str) -> None:
    client, store = _client(database_url)
    engine = store.engine
    with engine.begin() as conn:
        know_schools(conn, ["100001"], None, None)
    # Two keys of one partner name (e.g. two MIS installations): never each other's answers.
    keys = [create_key(engine, "Acme MIS", "all") for _ in range(2)]
    ids = [k[4:].partition(".")[0] for k in keys]
    eid = uuid.uuid4()
    sent: list[tuple[dict[str, Any], Any]] = []
    for n, key in enumerate(keys):
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "same"}
        marks = [{**MARK, "event_id": str(eid)}, {**MARK, "session": "PM"}][: n + 1]
        r = client.post(REGISTER, json={"marks": marks}, headers=headers)
        assert r.status_code == 202 and r.json()["accepted"] == n + 1, r.text  # not a 409
        sent.append(({"marks": marks}, r.json()))
    for key, (body, receipt) in zip(keys, sent, strict=True):
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "same"}
        again = client.post(REGISTER, json=body, headers=headers)
        assert again.json() == receipt and again.headers["Idempotent-Replayed"] == "true"
        other = client.post(REGISTER, json={"marks": [MARK]}, headers=headers)
        assert other.status_code == 409  # another body under this key's own Idempotency-Key
    # The same partner event id from each key: both published, under ids unique per key.
    published = _published(store)
    assert (str(scoped_event_id(ids[0], eid)), ids[0]) in published
    assert (str(scoped_event_id(ids[1], eid)), ids[1]) in published
    assert len({e for e, _ in published}) == 3 and str(eid) not in {e for e, _ in published}
    # A key resending its own event id is refused as a duplicate.
    r = client.post(
        REGISTER,
        json={"marks": [{**MARK, "event_id": str(eid)}]},
        headers={"Authorization": f"Bearer {keys[0]}"},
    )
    assert [x["reason"] for x in r.json()["rejections"]] == ["duplicate_event"]
    with engine.connect() as conn:
        answers = {(u.key_id, u.partner) for u in conn.execute(select(uploads))}
        seen = {s.key_id for s in conn.execute(select(seen_events))}
    assert answers == {(ids[0], "Acme MIS"), (ids[1], "Acme MIS")}
    assert seen == set(ids)
