"""A police notification's reference and circumstances go to the restricted store beside the
identity store and nowhere else: not the event, not the outbox (so never a topic)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from flagstream import restricted
from flagstream.domain.events import DomesticAbuseNotified
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from ingest.db import make_engine, restricted_writer
from ingest.http.app import create_app
from ingest.http.receive import Limits
from ingest.intake import Intake
from ingest.keys import KeyStore, create_key
from ingest.routing import Router
from ingest.store import Store, know_schools, outbox

from .test_ingest_support import CODEC, KEY, NOW, SCHOOLS, UPN

REFERENCE, CIRCUMSTANCES = "DP/4711/25", "Raised voices heard by a neighbour."


def test_details_are_kept_only_in_the_restricted_store(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ingest.db'}")
    identity_db = make_engine(f"sqlite:///{tmp_path / 'identity.db'}")
    store = Store(engine)
    intake = Intake(
        store,
        Router(Topics("t"), 3, CODEC),
        KEY,
        lambda: NOW,
        restricted=restricted_writer(identity_db),
    )
    with engine.begin() as conn:
        know_schools(conn, SCHOOLS, None, NOW)
    police = create_key(engine, "police", "police")
    app = create_app(intake, KeyStore(engine), service_metrics("ingest"), Limits(50, 200_000))
    record = {
        "upn": UPN,
        "urn": "100001",
        "incident_on": "2025-09-09",
        "child_present": True,
        "police_reference": REFERENCE,
        "circumstances": CIRCUMSTANCES,
    }
    reply = TestClient(app).post(
        "/v1/domestic-abuse-notifications",
        json={"records": [record, {**record, "police_reference": ""}]},
        headers={"Authorization": f"Bearer {police}"},
    )
    assert reply.status_code == 202 and reply.json()["accepted"] == 1, reply.text
    assert REFERENCE not in reply.text and CIRCUMSTANCES not in reply.text

    with engine.connect() as conn:
        rows = conn.execute(select(outbox)).all()
    assert rows, "the accepted notification and the dead letter are in the durable record"
    for row in rows:  # every byte ingest will ever publish
        assert REFERENCE.encode() not in row.value and CIRCUMSTANCES.encode() not in row.value
    [event] = [e for r in rows if not r.dead for e in CODEC.decode_all(r.value)]
    assert isinstance(event, DomesticAbuseNotified)
    assert not hasattr(event, "police_reference") and not hasattr(event, "circumstances")

    with identity_db.connect() as conn:
        [kept] = restricted.of_child(conn, event.child_key)
    assert (kept.police_reference, kept.circumstances) == (REFERENCE, CIRCUMSTANCES)
    assert kept.event_id == str(event.event_id) and kept.urn == "100001"
    assert REFERENCE not in repr(kept) and CIRCUMSTANCES not in repr(kept)
