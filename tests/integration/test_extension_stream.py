"""A council's own stream and flag end to end, from one extension module and nothing else:
the test-only ASB stream (tests/extensions/asb: its event, one catalogue entry, its schema and
one rule) loaded with FLAGSTREAM_EXTENSIONS by every process of the real stack.

A police key sends incidents to ingest's generic endpoint; the real broker carries them; the
Faust flagger raises ASB; the projector writes it; the dashboard shows it on the child's
page; `flagstream reconcile` (the batch oracle from the topics) agrees child by child.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.audit import create_audit_schema
from dashboard.context import Context
from dashboard.users import User, hash_password
from flagstream.rules_file import DEFAULT_RULES_FILE
from flagstream_tools.demo.sender import send_reference
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county
from ingest.db import make_engine as ingest_engine
from ingest.keys import create_key
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import child_sources, children, flag_changes
from tests.extensions import ASB, asb_loaded
from tests.integration.test_reconcile_cli import _flagstream
from tests.unit.test_dashboard import RecordingSender, csrf_of

PASSWORD = "a long enough test password"


@pytest.fixture
def asb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """The extension loaded here and named for every child process; the rules file switches
    ASB on. Unloaded afterwards, so no other test sees the kind or the flag."""
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES_FILE.read_text() + "\n[flags.ASB]\nenabled = true\nincidents = 2\ndays = 90\n"
    )
    monkeypatch.setenv("FLAGSTREAM_EXTENSIONS", ASB)
    monkeypatch.setenv("FLAGSTREAM_RULES_FILE", str(rules))
    with asb_loaded() as module:
        yield module


def test_an_extension_stream_raises_its_flag_through_every_service(
    asb: ModuleType, tmp_path: Path
) -> None:
    county = make_county("tiny", seed=5)
    pupils = county.pupils[:3]
    today = date.today()
    with Stack(tmp_path / "stack", partitions=3) as stack:
        police = create_key(ingest_engine(stack.ingest_database_url), "police", "police")
        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            send_reference(client, county)
        url = stack.ingest_url.replace(stack.api_key, police)
        incidents = [
            # pupil 0 twice within 90 days: flagged; pupil 1 once: not; pupil 2 twice but
            # 200 days apart: not.
            (pupils[0], "CR/1001/26", today - timedelta(days=30)),
            (pupils[0], "CR/1002/26", today - timedelta(days=2)),
            (pupils[1], "CR/1003/26", today - timedelta(days=3)),
            (pupils[2], "CR/1004/26", today - timedelta(days=210)),
            (pupils[2], "CR/1005/26", today - timedelta(days=5)),
        ]
        body = {
            "records": [
                {
                    "event_id": str(uuid.uuid4()),
                    "upn": p.upn,
                    "incident_ref": ref,
                    "incident_on": on.isoformat(),
                    "category": "youth nuisance",
                }
                for p, ref, on in incidents
            ]
            + [
                {
                    "upn": pupils[0].upn,
                    "incident_ref": "CR/1/26",
                    "incident_on": "2026-02-30",
                    "category": "x",
                }
            ]
        }
        with httpx.Client(base_url=url, timeout=60) as client:
            receipt = client.post("/v1/streams/asb", json=body)
            other = client.post("/v1/sen-provision", json={"records": []})
        assert receipt.status_code == 202, receipt.text
        assert (receipt.json()["accepted"], receipt.json()["rejected"]) == (5, 1)
        assert "invalid_date" in receipt.text
        assert other.status_code == 403  # a police key may send ASB, not SEN
        for _p, ref, _on in incidents:
            assert ref not in receipt.text

        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        key = {p.upn: _child_key(stack, p.upn) for p in pupils}
        with engine.connect() as conn:
            flagged = dict(conn.execute(select(children.c.child_key, children.c.flags)).all())
            changes = conn.execute(
                select(flag_changes.c.child_key, flag_changes.c.reason).where(
                    flag_changes.c.flag == "ASB"
                )
            ).all()
            sources = conn.execute(
                select(child_sources.c.child_key).where(child_sources.c.source == "asb")
            ).all()
        assert "ASB" in flagged[key[pupils[0].upn]].split(",")
        assert "ASB" not in flagged[key[pupils[1].upn]].split(",")
        assert "ASB" not in flagged[key[pupils[2].upn]].split(",")
        assert [c for c, _ in changes] == [key[pupils[0].upn]]
        assert "2 anti-social behaviour incident(s) in 90 days" in changes[0][1]
        assert {k for (k,) in sources} == set(key.values())  # the source's freshness rows
        engine.dispose()

        # The oracle over the topics, with the same extension and rules, agrees.
        latest = max(on for _p, _r, on in incidents)  # no ticks: the latest event's day
        done = _flagstream(stack.env(), "reconcile", "--as-of", latest.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no differences" in done.stdout
        assert "ASB" in done.stdout

        # The dashboard shows the flag, spelt as its rule says, on the child's page.
        page = _child_page(stack, tmp_path, key[pupils[0].upn])
        assert "ASB" in page and "2 anti-social behaviour incident(s) in 90 days" in page
        # No topic carries the police incident number (ingest hashed it).
        assert b"CR/1001/26" not in _topic_bytes(stack)


def _child_key(stack: Stack, upn: str) -> str:
    from ingest.pseudonymise import Pseudonymiser

    return Pseudonymiser(stack.pseudonym_key.encode())(upn)


def _child_page(stack: Stack, tmp_path: Path, child_key: str) -> str:
    audit = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    create_audit_schema(audit)
    ctx = Context(
        read_model=make_engine(stack.database_url),
        audit_db=audit,
        users={"manager": User("manager", "manager", None, hash_password(PASSWORD))},
        sender=RecordingSender(),
        identity_db=make_engine(stack.env()["FLAGSTREAM_IDENTITY_DATABASE_URL"]),
    )
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    signed_in = client.post(
        "/login",
        data={"username": "manager", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    page = client.get(f"/children/{child_key}")
    assert page.status_code == 200, page.text
    return page.text


def _topic_bytes(stack: Stack) -> bytes:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        bootstrap_servers=stack.broker.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        enable_auto_commit=False,
    )
    consumer.subscribe(pattern="^flagstream\\..*")
    data = b"".join(m.value or b"" for m in consumer)
    consumer.close()
    assert data, "read nothing from the topics"
    return data
