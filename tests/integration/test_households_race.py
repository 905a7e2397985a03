"""Uploads that must not miss each other, sent at the same moment to ingest on PostgreSQL
(docs/families.md): a family case and a sibling's enrolment naming the same household, and a
record sent by NHS number and the enrolment linking the number. Whichever commits first, the
other's upload finds it - the household's (the number's) row is locked while an upload reads
and writes it - so the sibling (the pupil) always gets the record, exactly once. With the
lock taken out, each test failed in every one of three runs here."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from flagstream.codec import Codec
from flagstream.domain.events import FamilyCaseRecorded
from flagstream.domain.upn import make_upn
from flagstream.topics import Topics
from ingest.db import make_engine
from ingest.intake import Intake, Upload
from ingest.kinds import BY_NAME
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store, know_schools, outbox

KEY = Pseudonymiser(b"k" * 32)
NOW = datetime(2025, 9, 10, 12, tzinfo=UTC)
ROUNDS = 12


def _enrolment(upn: str, household: str) -> dict[str, object]:
    return {
        "upn": upn, "urn": "100001", "nc_year": 5, "sex": "F", "month_of_birth": "2015-03",
        "joined_on": "2021-09-01", "household_ref": household,
    }  # fmt: skip


def _send(intake: Intake, upload: Upload, start: threading.Barrier, answers: list[int]) -> None:
    start.wait()
    answers.append(intake.submit(upload).status)


def test_a_case_and_a_new_member_at_once_never_miss_each_other(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    store = Store(engine)
    codec = Codec()
    intake = Intake(store, Router(Topics("t"), 3, codec), KEY, lambda: NOW)
    with engine.begin() as conn:
        know_schools(conn, ["100001"], None, NOW)
    pairs = [(make_upn(835, 2001, 2019, 2 * i + 1), make_upn(835, 2001, 2019, 2 * i + 2))
             for i in range(ROUNDS)]  # fmt: skip
    for i, (sister, _brother) in enumerate(pairs):
        upload = Upload(BY_NAME["enrolment"], [_enrolment(sister, f"HH-{i}")], "t", "council")
        assert intake.submit(upload).status == 202
    for i, (sister, brother) in enumerate(pairs):
        case = {"upn": sister, "case_id": f"FS-{i}", "opened_on": "2025-06-01",
                "outcome_areas": ["housing"], "household_ref": f"HH-{i}"}  # fmt: skip
        uploads = [
            Upload(BY_NAME["family_case"], [case], "t", "family-support"),
            Upload(BY_NAME["enrolment"], [_enrolment(brother, f"HH-{i}")], "t", "council"),
        ]
        start = threading.Barrier(2)
        answers: list[int] = []
        threads = [
            threading.Thread(target=_send, args=(intake, u, start, answers)) for u in uploads
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert answers == [202, 202]
    with engine.connect() as conn:
        values = [bytes(v) for v in conn.scalars(outbox.select().with_only_columns(outbox.c.value))]
    cases = [e for v in values for e in codec.decode_all(v) if isinstance(e, FamilyCaseRecorded)]
    reached = Counter((c.case_id, c.child_key) for c in cases)
    for i, (sister, brother) in enumerate(pairs):
        assert reached[(f"FS-{i}", KEY(sister))] == 1
        assert reached[(f"FS-{i}", KEY(brother))] == 1, f"round {i}: the brother was missed"
    engine.dispose()


def test_an_nhs_keyed_record_and_its_link_at_once_never_miss_each_other(
    postgres_url: str,
) -> None:
    from tests.extensions import early_years_loaded

    with early_years_loaded() as module:
        from ingest.kinds import every_kind

        early = next(k for k in every_kind() if k.name == "early_years")
        engine = make_engine(postgres_url)
        codec = Codec()
        intake = Intake(Store(engine), Router(Topics("t"), 3, codec), KEY, lambda: NOW)
        with engine.begin() as conn:
            know_schools(conn, ["100001"], None, NOW)
        numbers = [n for n in (_valid(f"999{i:06d}") for i in range(2000)) if n][:ROUNDS]
        for i, number in enumerate(numbers):
            check = {
                "nhs_number": number, "setting": "EY1", "zone": "North", "check_ref": f"c{i}",
                "checked_on": "2025-06-01", "on_track": "false",
            }  # fmt: skip
            pupil = {**_enrolment(make_upn(835, 2001, 2019, 100 + i), ""), "nhs_number": number}
            # An earlier check: the number's row exists before the race, as it usually will.
            earlier = Upload(early, [{**check, "check_ref": f"c{i}-0"}], "t", "health")
            assert intake.submit(earlier).status == 202
            uploads = [
                Upload(early, [check], "t", "health"),
                Upload(BY_NAME["enrolment"], [pupil], "t", "council"),
            ]
            start = threading.Barrier(2)
            answers: list[int] = []
            threads = [
                threading.Thread(target=_send, args=(intake, u, start, answers)) for u in uploads
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert answers == [202, 202]
        with engine.connect() as conn:
            values = [
                bytes(v) for v in conn.scalars(outbox.select().with_only_columns(outbox.c.value))
            ]
        checks = [
            e
            for v in values
            for e in codec.decode_all(v)
            if isinstance(e, module.EarlyYearsOutcomeRecorded)
        ]
        for i in range(len(numbers)):
            child = KEY(make_upn(835, 2001, 2019, 100 + i))
            for ref in (f"c{i}-0", f"c{i}"):
                hashed = KEY(f"ref:early_years:check_ref:{ref.encode().hex()}")
                reached = [c.child_key for c in checks if c.check_ref == hashed]
                assert reached.count(child) == 1, f"round {i}: {ref} missed the pupil"
        engine.dispose()


def _valid(digits: str) -> str | None:
    from ingest.nhs import check_digit_ok

    for last in "0123456789":
        if check_digit_ok(digits + last):
            return digits + last
    return None
