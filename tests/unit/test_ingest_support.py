"""Shared set-up for the ingest tests (no tests here): a real app on a SQLite ingest database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.upn import make_upn
from flagstream.identity import Identity
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from ingest.db import make_engine
from ingest.http.app import create_app
from ingest.http.receive import Limits
from ingest.intake import Intake
from ingest.keys import KeyStore, create_key
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools, outbox

UPN = make_upn(835, 2001, 2019, 1)
OTHER = make_upn(835, 2001, 2019, 2)
NOW = datetime(2025, 9, 10, 12, tzinfo=UTC)
KEY = Pseudonymiser(b"k" * 32)
CODEC = Codec()
SCHOOLS = ("100001", "100002")  # known to ingest as if their school records were accepted


@dataclass
class Ingest:
    """An app with its store, a key for every scope, and what it queued."""

    store: Store
    client: TestClient
    keys: dict[str, str]
    people: list[Identity] = field(default_factory=list)

    def headers(self, scope: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def post(self, path: str, body: Any, scope: str = "all", **kw: Any) -> Any:
        headers = {**self.headers(scope), **kw.pop("headers", {})}
        if isinstance(body, (bytes, str)):
            return self.client.post(path, content=body, headers=headers, **kw)
        return self.client.post(path, json=body, headers=headers, **kw)

    def rows(self, dead: bool = False) -> list[Any]:
        with self.store.engine.connect() as conn:
            query = select(outbox).where(outbox.c.dead == dead).order_by(outbox.c.id)
            return list(conn.execute(query))

    def sent(self) -> list[Any]:
        """Accepted events queued for the canonical topics, marks and batches unpacked."""
        out: list[Any] = []
        for row in self.rows():
            for event in CODEC.decode_all(row.value):
                out += event.marks if isinstance(event, AttendanceMarksRecorded) else [event]
        return out


def enrol(ingest: Ingest, upn: str, urn: str, scope: str = "council", **fields: Any) -> Any:
    """Enrol a pupil (the roll a school key's records are checked against); the receipt."""
    record = {"upn": upn, "urn": urn, "nc_year": 5, "sex": "F", "month_of_birth": "2015-03"}
    record |= {"joined_on": "2021-09-01", **fields}
    r = ingest.post("/v1/enrolments", {"enrolments": [record]}, scope=scope)
    assert r.status_code == 202, r.text
    return r.json()


def make_ingest(
    tmp: Path, max_records: int = 50, now: datetime = NOW, rate_per_minute: int = 600
) -> Ingest:
    engine = make_engine(f"sqlite:///{tmp / 'ingest.db'}")
    store = Store(engine)
    intake = Intake(store, Router(Topics("t"), 3, CODEC), KEY, lambda: now)
    with engine.begin() as conn:
        know_schools(conn, SCHOOLS, None, now)
    keys = {
        "all": create_key(engine, "demo", "all"),
        "school": create_key(engine, "school-100001", "school", "100001"),
        "police": create_key(engine, "police", "police"),
        "council": create_key(engine, "council", "council"),
    }
    people: list[Identity] = []
    app = create_app(
        intake,
        KeyStore(engine),
        service_metrics("ingest"),
        Limits(max_records=max_records, max_body_bytes=200_000, rate_per_minute=rate_per_minute),
        identities=people.extend,
    )
    return Ingest(store, TestClient(app), keys, people)
