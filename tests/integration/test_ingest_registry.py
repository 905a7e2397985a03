"""Confluent framing (magic byte 0 + 4-byte big-endian schema id) over HTTP, against a real
HTTP schema-registry peer started in the test: ingest's own registry client fetches
`/schemas/ids/{id}` and compares the schema's canonical form with the kind's."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from fastapi.testclient import TestClient

from flagstream.codec import Codec
from flagstream.domain.upn import make_upn
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from ingest.avro_bodies import PartnerSchema
from ingest.db import make_engine
from ingest.http.app import create_app
from ingest.intake import Intake
from ingest.keys import KeyStore, create_key
from ingest.ledger import ingest_ledger
from ingest.main import registry_lookup
from ingest.models import MarkIn
from ingest.models_partners import SenIn
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools

from .schema_registry import SchemaRegistry

MARKS = PartnerSchema("MarkIn", MarkIn)
UPN = make_upn(835, 2001, 2019, 3)
AVRO = {"Content-Type": "application/vnd.apache.avro+binary"}


def _framed(schema_id: int, record: dict[str, Any], schema: PartnerSchema = MARKS) -> bytes:
    out = io.BytesIO(b"\x00" + schema_id.to_bytes(4, "big"))
    out.seek(5)
    fastavro.schemaless_writer(out, schema.parsed, record)
    return out.getvalue()


def test_confluent_framed_bodies_against_a_registry_peer(tmp_path: Path) -> None:
    # The registry keeps schemas as it was given them: minified, docs stripped - the same
    # canonical form. Id 2 is another kind's schema.
    stripped = {**MARKS.schema, "doc": "", "fields": [
        {k: v for k, v in f.items() if k != "doc"} for f in MARKS.schema["fields"]
    ]}  # fmt: skip
    sen = PartnerSchema("SenIn", SenIn).schema
    with SchemaRegistry({1: json.dumps(stripped), 2: json.dumps(sen), 3: "not json"}) as registry:
        engine = make_engine(f"sqlite:///{tmp_path / 'ingest.db'}")
        store = Store(engine)
        with engine.begin() as conn:  # as if its school record had been accepted
            know_schools(conn, ["100001"], None, None)
        app = create_app(
            Intake(
                store,
                Router(Topics("cf"), 3, Codec()),
                Pseudonymiser(b"c" * 32),
                lambda: datetime(2025, 9, 30, 12, tzinfo=UTC),
            ),
            KeyStore(engine),
            service_metrics("ingest"),
            registry=registry_lookup(registry.url),
        )
        client = TestClient(app)
        headers = {**AVRO, "Authorization": f"Bearer {create_key(engine, 'mis', 'all')}"}

        def post(body: bytes) -> Any:
            return client.post("/v1/schools/100001/register", content=body, headers=headers)

        good = _framed(1, {"upn": UPN, "date": "2025-09-29", "session": "AM", "code": "/"})
        r = post(good)
        assert (r.status_code, r.json()["accepted"]) == (202, 1), r.text
        bad_code = _framed(1, {"upn": UPN, "date": "2025-09-29", "session": "PM", "code": "H"})
        r = post(bad_code)
        assert r.json()["rejections"][0]["reason"] == "code_retired"  # H, on a 2025 date
        for body, reason in (
            (_framed(2, {"upn": UPN}), "unknown_schema"),  # registered, but another kind's
            (_framed(404, {"upn": UPN}), "unknown_schema"),  # the registry answers 404
            (_framed(3, {"upn": UPN}), "unknown_schema"),  # the registry holds junk
            (good[:3], "truncated_avro"),  # framing cut short
            (good[:-2], "truncated_avro"),
            (good + b"\x00", "trailing_bytes"),
        ):
            r = post(body)
            assert (r.status_code, r.json()["reason"]) == (400, reason), (body[:8], r.text)
        asked = [p for p in registry.requests if p.startswith("/schemas/ids/")]
        assert sorted(set(asked)) == [
            "/schemas/ids/1",
            "/schemas/ids/2",
            "/schemas/ids/3",
            "/schemas/ids/404",
        ]
        assert asked.count("/schemas/ids/1") == 1  # cached: asked once for five bodies

    [row] = ingest_ledger(engine)
    assert (row.received, row.accepted, row.rejected) == (2, 1, 1)
    assert (row.refused, dict(row.refusals)) == (6, {"truncated_avro": 2, "trailing_bytes": 1,
                                                     "unknown_schema": 3})  # fmt: skip
