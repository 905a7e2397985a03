"""Partner writes bound to the roll, on SQLite and PostgreSQL: a school key cannot move another
school's pupil or write marks, SEN or assessments for them (`not_on_roll`); its enrolment of
a pupil on another school's roll is held as a pending transfer - not published, no names
written - until the previous school records the leaving date, the council enrols the pupil
there, or an admin confirms it; records naming an unknown school are `unknown_school`; and
the ledger reconciles with what would be on the topics throughout."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from flagstream.codec import Codec
from flagstream.domain.events import EnrolmentRecorded
from flagstream.domain.upn import make_upn
from flagstream.identity import identities
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from flagstream_tools.eventlog import TopicReader
from flagstream_tools.reconcile import ledger_lines
from ingest.db import identity_writer, make_engine
from ingest.http.app import create_app
from ingest.intake import Intake
from ingest.keys import KeyStore, create_key
from ingest.ledger import ingest_ledger
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store

PSEUDONYM = Pseudonymiser(b"r" * 32)
CODEC = Codec()
TOPICS = Topics("roll")
NOW = datetime(2025, 9, 30, 12, tzinfo=UTC)
CHILD, OTHER = make_upn(835, 2001, 2019, 1), make_upn(835, 2001, 2019, 2)
A, B = "100001", "100002"  # school A's key tries to take school B's pupil


@dataclass
class Stack:
    engine: Engine
    identity_db: Engine
    store: Store
    client: TestClient
    keys: dict[str, str]
    reader: TopicReader

    def post(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        r = self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.keys[key]}"})
        assert r.status_code == 202, r.text
        receipt: dict[str, Any] = r.json()
        assert receipt["received"] == receipt["accepted"] + receipt["rejected"]
        assert CHILD not in r.text and "Ada" not in r.text and "Eve" not in r.text
        return receipt

    def enrol(self, key: str, urn: str, **fields: Any) -> dict[str, Any]:
        record = {"upn": CHILD, "urn": urn, "nc_year": 5, "sex": "F", "month_of_birth": "2015-03"}
        record |= {"joined_on": "2021-09-01", **fields}
        return self.post("/v1/enrolments", {"enrolments": [record]}, key)

    def drain(self) -> None:
        """Publish the outbox as the drainer would, onto the stand-in for the topics."""
        while rows := self.store.next_batch(1000):
            for row in rows:
                if not row.dead:
                    self.reader.record(row.topic, row.value)
            self.store.published(rows)

    def enrolments(self) -> list[EnrolmentRecorded]:
        """Enrolment events on the topics so far, in order."""
        return [e for e in self.reader.log.events if isinstance(e, EnrolmentRecorded)]

    def identity(self) -> Any:
        with self.identity_db.connect() as conn:
            return conn.execute(select(identities)).one()

    def assert_reconciles(self) -> None:
        """received = accepted + rejected per source, day and kind, and every accepted record
        not queued (or held) is on the topics, once."""
        self.drain()
        lines = ledger_lines(ingest_ledger(self.engine), self.reader.log.on_topics)
        assert lines and all(line.ok for line in lines), lines


def _stack(database_url: str, tmp: Path, moves: bool = True) -> Stack:
    engine = make_engine(database_url)
    store = Store(engine)
    # Its own database, as deployed (SQLite would lock against ingest's open transaction).
    identity_db = make_engine(f"sqlite:///{tmp / 'identity.db'}")
    extra: dict[str, Any] = {}
    if moves:  # this build's identity mover; absent before it (the test must fail there)
        from ingest.transfers import identity_mover

        extra["moves"] = identity_mover(identity_db)
    intake = Intake(
        store,
        Router(TOPICS, 3, CODEC),
        PSEUDONYM,
        lambda: NOW,
        identities=identity_writer(identity_db),
        **extra,
    )
    keys = {
        "council": create_key(engine, "council", "council"),
        "all": create_key(engine, "county systems", "all"),
        "a": create_key(engine, f"mis - {A}", "school", A),
        "b": create_key(engine, f"mis - {B}", "school", B),
    }
    app = create_app(intake, KeyStore(engine), service_metrics("ingest"))
    stack = Stack(engine, identity_db, store, TestClient(app), keys, TopicReader(CODEC))
    schools = [
        {"urn": u, "name": f"School {u}", "phase": "PRIMARY", "pyramid": "P", "zone": "Z"}
        for u in (A, B)
    ]
    assert stack.post("/v1/schools", {"schools": schools}, "council")["accepted"] == 2
    assert stack.enrol("b", B, forename="Ada", surname="Bell")["accepted"] == 1
    return stack


def test_a_school_key_cannot_move_or_write_for_another_schools_pupil(
    database_url: str, tmp_path: Path
) -> None:
    stack = _stack(database_url, tmp_path, moves=False)  # only what ingest had before the roll
    stack.drain()
    before = stack.identity()
    assert (before.urn, before.forename, before.surname) == (B, "Ada", "Bell")

    # School A's key enrols school B's pupil under its own URN, with other names, and sends
    # their marks, SEN and an assessment.
    taken = stack.enrol("a", A, joined_on="2025-09-29", forename="Eve", surname="Adams")
    mark = {"upn": CHILD, "date": "2025-09-29", "session": "AM", "code": "/"}
    marks = stack.post(f"/v1/schools/{A}/register", {"marks": [mark]}, "a")
    sen = {"upn": CHILD, "urn": A, "provision": "K", "effective_on": "2025-09-29"}
    sens = stack.post("/v1/sen-provision", {"records": [sen]}, "a")
    result = {"upn": CHILD, "urn": A, "assessment": "KS2_MATHS", "result": "95"}
    result |= {"assessed_on": "2025-09-29"}
    results = stack.post("/v1/assessments", {"records": [result]}, "a")

    stack.drain()
    # The child stays at school B: no EnrolmentRecorded for A was published ...
    assert [(e.urn, e.joined_on.isoformat()) for e in stack.enrolments()] == [(B, "2021-09-01")]
    # ... the identity row's school and names are unchanged ...
    after = stack.identity()
    assert (after.urn, after.forename, after.surname) == (B, "Ada", "Bell")
    # ... and the marks, SEN and assessment are refused, each with its reason.
    for receipt in (marks, sens, results):
        assert (receipt["accepted"], [r["reason"] for r in receipt["rejections"]]) == (
            0,
            ["not_on_roll"],
        )
    # The enrolment is accepted, held as a pending transfer, and the receipt says so.
    assert taken["accepted"] == 1 and taken["rejected"] == 0
    [held] = taken["pending_records"]
    assert taken["pending"] == 1 and held["reason"] == "pending_transfer" and held["index"] == 0
    # The ledger balances: the held enrolment is accepted and queued, the rest rejected.
    rows = {(r.source, r.kind): r for r in ingest_ledger(stack.engine)}
    assert (rows[("census", "enrolment")].accepted, rows[("census", "enrolment")].held) == (2, 1)
    assert rows[("census", "enrolment")].queued == 1
    assert rows[(f"mis:{A}", "attendance_mark")].rejected == 1
    assert rows[("census", "sen_provision")].rejected == 1
    assert rows[("assessments", "assessment")].rejected == 1
    stack.assert_reconciles()


def test_the_previous_schools_leaving_date_confirms_a_pending_transfer(
    database_url: str, tmp_path: Path
) -> None:
    stack = _stack(database_url, tmp_path)
    taken = stack.enrol("a", A, joined_on="2025-09-29", forename="Eve", surname="Adams")
    assert taken["pending"] == 1
    stack.assert_reconciles()  # held: accepted, queued, not on the topics

    # School B records the leaving date: the held enrolment is published after it.
    left = stack.enrol("b", B, left_on="2025-09-26", forename="Ada", surname="Bell")
    assert (left["accepted"], left["pending"]) == (1, 0)
    stack.drain()
    assert [(e.urn, e.left_on is not None) for e in stack.enrolments()] == [
        (B, False),
        (B, True),
        (A, False),
    ]
    moved = stack.identity()
    assert moved.urn == A and (moved.forename, moved.surname) == ("Ada", "Bell")
    # Now on A's roll from the day it gave: its marks are accepted, B's after leaving are not.
    mark = {"upn": CHILD, "date": "2025-09-29", "session": "AM", "code": "/"}
    assert stack.post(f"/v1/schools/{A}/register", {"marks": [mark]}, "a")["accepted"] == 1
    late = stack.post(f"/v1/schools/{B}/register", {"marks": [mark]}, "b")
    assert [r["reason"] for r in late["rejections"]] == ["not_on_roll"]
    early = {**mark, "date": "2025-09-26"}  # B's last day is still B's
    assert stack.post(f"/v1/schools/{B}/register", {"marks": [early]}, "b")["accepted"] == 1
    rows = {(r.source, r.kind): r for r in ingest_ledger(stack.engine)}
    assert rows[("census", "enrolment")].held == 0
    stack.assert_reconciles()


def test_the_council_or_an_admin_confirms_a_pending_transfer(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flagstream_tools.cli import main

    stack = _stack(database_url, tmp_path)
    # The council's own enrolment at the new school confirms the held one.
    assert stack.enrol("a", A, joined_on="2025-09-29")["pending"] == 1
    council = stack.enrol("council", A, joined_on="2025-09-29")
    assert (council["accepted"], council["pending"]) == (1, 0)
    stack.drain()
    assert [e.urn for e in stack.enrolments()] == [B, A, A]
    assert stack.identity().urn == A
    stack.assert_reconciles()

    # Another pupil of B taken by A: an admin confirms it from the command line.
    other = {"upn": OTHER, "urn": B, "nc_year": 4, "sex": "M", "month_of_birth": "2016-01"}
    other |= {"joined_on": "2022-09-01", "forename": "Sam", "surname": "Bond"}
    assert stack.post("/v1/enrolments", {"enrolments": [other]}, "b")["accepted"] == 1
    held = stack.post("/v1/enrolments", {"enrolments": [{**other, "urn": A}]}, "a")
    [record] = held["pending_records"]
    monkeypatch.setenv("FLAGSTREAM_INGEST_DATABASE_URL", database_url)
    monkeypatch.setenv("FLAGSTREAM_IDENTITY_DATABASE_URL", str(stack.identity_db.url))
    assert main(["transfers", "list"]) == 0
    listing = capsys.readouterr().out
    assert record["transfer_id"] in listing and PSEUDONYM(OTHER)[:8] in listing
    assert f"{B:<8}{A:<8}2022-09-01" in listing
    for secret in (OTHER, PSEUDONYM(OTHER), "Sam", "Bond"):
        assert secret not in listing
    assert main(["transfers", "confirm", "nope"]) == 2
    assert main(["transfers", "confirm", record["transfer_id"]]) == 0
    assert "confirmed" in capsys.readouterr().out
    assert main(["transfers", "list"]) == 0
    assert record["transfer_id"] not in capsys.readouterr().out  # no longer pending
    assert main(["transfers", "list", "--all"]) == 0
    assert "confirmed by admin" in capsys.readouterr().out
    stack.drain()
    assert [e.urn for e in stack.enrolments() if e.child_key == PSEUDONYM(OTHER)] == [B, A]
    with stack.identity_db.connect() as conn:
        row = conn.execute(select(identities).where(identities.c.upn == OTHER)).one()
    assert (row.urn, row.forename) == (A, "Sam")
    stack.assert_reconciles()


def test_records_naming_an_unknown_school_are_rejected(database_url: str, tmp_path: Path) -> None:
    stack = _stack(database_url, tmp_path)
    unknown = "100009"
    mark = {"upn": CHILD, "date": "2025-09-29", "session": "AM", "code": "/"}
    sen = {"upn": CHILD, "urn": unknown, "provision": "K", "effective_on": "2025-09-29"}
    for path, body in (
        (f"/v1/schools/{unknown}/register", {"marks": [mark]}),
        ("/v1/sen-provision", {"records": [sen]}),
    ):
        receipt = stack.post(path, body, "council" if "sen" in path else "all")
        assert [r["reason"] for r in receipt["rejections"]] == ["unknown_school"], path
    council = stack.enrol("council", unknown)  # the council key too
    assert [r["reason"] for r in council["rejections"]] == ["unknown_school"]
    school = {"urn": unknown, "name": "New", "phase": "PRIMARY", "pyramid": "P", "zone": "Z"}
    assert stack.post("/v1/schools", {"schools": [school]}, "council")["accepted"] == 1
    assert stack.post("/v1/sen-provision", {"records": [sen]}, "council")["accepted"] == 1
    letters = Counter(r.kind for r in stack.store.next_batch(100) if r.dead)
    assert letters == {"attendance_mark": 1, "sen_provision": 1, "enrolment": 1}
    stack.assert_reconciles()
