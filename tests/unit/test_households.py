"""Households at the edge and in the oracle (docs/families.md): a case on a household reaches
every child of it, whichever arrives first, with the reference never published; the oracle
computes the same from the log with plain code."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from flagstream.domain.events import EnrolmentRecorded, FamilyCaseRecorded
from flagstream.domain.upn import make_upn
from flagstream.rules_file import DEFAULT_RULES_FILE, load_rules
from flagstream_tools.oracle import raised, recompute
from ingest.households import household_key, plan

from .test_ingest_support import KEY, Ingest, enrol, make_ingest

THIRD = make_upn(835, 2001, 2019, 3)
SISTER = make_upn(835, 2001, 2019, 4)
BROTHER = make_upn(835, 2001, 2019, 5)
AT = datetime(2025, 9, 1, tzinfo=UTC)


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _case(upn: str, household: str | None, **fields: Any) -> dict[str, Any]:
    record = {
        "upn": upn,
        "case_id": "FS-9",
        "opened_on": "2025-06-01",
        "outcome_areas": ["housing"],
    }
    return {**record, "household_ref": household, **fields}


def _cases(ingest: Ingest) -> list[FamilyCaseRecorded]:
    return [e for e in ingest.sent() if isinstance(e, FamilyCaseRecorded)]


def test_the_household_reference_is_a_keyed_hash_apart_from_upns() -> None:
    assert household_key(" hh-0001 ", KEY) == household_key("HH-0001", KEY)
    assert household_key("HH-0001", KEY) != household_key("HH-0002", KEY)
    assert household_key("HH-0001", KEY) != KEY("HH-0001")
    assert household_key(None, KEY) is None and household_key("  ", KEY) is None


def test_a_case_on_a_household_reaches_members_known_and_joining_later(ingest: Ingest) -> None:
    enrol(ingest, SISTER, "100001", household_ref="HH-0001")
    enrol(ingest, THIRD, "100002")  # no household: never reached
    r = ingest.post("/v1/family-cases", {"records": [_case(SISTER, "HH-0001")]})
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    enrol(ingest, BROTHER, "100002", household_ref="hh-0001")  # joins after the case
    cases = _cases(ingest)
    assert {c.child_key for c in cases} == {KEY(SISTER), KEY(BROTHER)}
    assert len({c.event_id for c in cases}) == 1  # one partner record, copied
    assert {c.household_key for c in cases} == {household_key("HH-0001", KEY)}
    # The copy carries no record count, so the ledger's published equals accepted.
    copies = [r for r in ingest.rows() if r.kind == "family_case" and r.records == 0]
    assert len(copies) == 1
    raw = b"".join(bytes(r.value) for r in ingest.rows()) + b"".join(
        bytes(r.value) for r in ingest.rows(dead=True)
    )
    assert b"HH-0001" not in raw and b"hh-0001" not in raw


def test_a_later_record_of_the_case_reaches_every_member(ingest: Ingest) -> None:
    enrol(ingest, SISTER, "100001", household_ref="HH-0001")
    enrol(ingest, BROTHER, "100002", household_ref="HH-0001")
    ingest.post("/v1/family-cases", {"records": [_case(SISTER, "HH-0001")]})
    closed = _case(BROTHER, "HH-0001", closed_on="2025-08-01")
    ingest.post("/v1/family-cases", {"records": [closed]})
    last = {c.child_key: c.closed_on for c in _cases(ingest)}  # the last each child was sent
    assert last == {KEY(SISTER): date(2025, 8, 1), KEY(BROTHER): date(2025, 8, 1)}


def test_a_case_without_a_household_stays_with_its_child(ingest: Ingest) -> None:
    enrol(ingest, SISTER, "100001", household_ref="HH-0001")
    enrol(ingest, BROTHER, "100002", household_ref="HH-0001")
    ingest.post("/v1/family-cases", {"records": [_case(SISTER, None)]})
    assert [c.child_key for c in _cases(ingest)] == [KEY(SISTER)]


def test_a_too_long_household_reference_is_refused_by_name(ingest: Ingest) -> None:
    r = ingest.post("/v1/family-cases", {"records": [_case(SISTER, "H" * 65)]})
    assert [x["reason"] for x in r.json()["rejections"]] == ["too_long"]
    assert "H" * 65 not in r.text


def _event(cls: type[Any], child: str, **fields: Any) -> Any:
    envelope = {"event_id": uuid.uuid4(), "source": "t", "occurred_at": AT, "recorded_at": AT}
    return cls(**envelope, child_key=child, **fields)


def _enrolment(child: str, household: str | None) -> EnrolmentRecorded:
    enrolment: EnrolmentRecorded = _event(
        EnrolmentRecorded, child, urn="100001", nc_year=5, sex="F", month_of_birth="2015-03",
        joined_on=date(2021, 9, 1), household_key=household,
    )  # fmt: skip
    return enrolment


def _family(child: str, household: str | None, closed: date | None = None) -> FamilyCaseRecorded:
    case: FamilyCaseRecorded = _event(
        FamilyCaseRecorded, child, case_id="C1", opened_on=date(2025, 6, 1), closed_on=closed,
        outcome_areas=[], household_key=household,
    )  # fmt: skip
    return case


def test_the_plan_copies_only_each_cases_latest_record() -> None:
    opened, closed = _family("a", "h"), _family("b", "h", date(2025, 7, 1))
    result = plan([opened, closed], {"h": {"a", "b", "c"}}, {})
    assert [(c.child_key, c.closed_on) for c in result.copies] == [
        ("a", date(2025, 7, 1)),
        ("c", date(2025, 7, 1)),
    ]
    assert result.kept == [closed]


def test_the_plan_gives_a_new_member_the_cases_held() -> None:
    held = _family("a", "h")
    result = plan([_enrolment("b", "h"), _enrolment("a", "h")], {"h": {"a"}}, {"h": [held]})
    assert [c.child_key for c in result.copies] == ["b"]
    assert result.joins == [("h", "b"), ("h", "a")]


def test_the_oracle_gives_every_member_the_household_case_in_any_order() -> None:
    config = load_rules(DEFAULT_RULES_FILE)
    case = _family("sister", "h")
    log = [_enrolment("sister", "h"), case, _enrolment("brother", "h"), _enrolment("other", None)]
    for events in (log, log[::-1]):
        flags = {k: raised(o) for k, o in recompute(events, date(2025, 9, 1), config).items()}
        assert "FAMILY" in flags["sister"] and "FAMILY" in flags["brother"]
        assert "FAMILY" not in flags["other"]
    # The brother's copy names him, but the case stays the household's: closing it on the
    # sister's record closes it for both.
    later = replace(case, closed_on=date(2025, 7, 1), recorded_at=datetime(2025, 9, 2, tzinfo=UTC))
    flags = {k: raised(o) for k, o in recompute([*log, later], date(2025, 9, 1), config).items()}
    assert "FAMILY" not in flags["sister"] and "FAMILY" not in flags["brother"]


def test_a_held_transfer_names_the_household_at_once(ingest: Ingest) -> None:
    enrol(ingest, SISTER, "100001", household_ref="HH-0001")
    enrol(ingest, BROTHER, "100002")  # on the other school's roll
    ingest.post("/v1/family-cases", {"records": [_case(SISTER, "HH-0001")]})
    # The sister's school enrols the brother too: held as a pending transfer (not published),
    # but the household is a fact about the child, so the case reaches him now.
    held = enrol(ingest, BROTHER, "100001", scope="school", household_ref="HH-0001")
    assert held["pending"] == 1
    assert {c.child_key for c in _cases(ingest)} == {KEY(SISTER), KEY(BROTHER)}


def test_a_case_naming_only_the_household_reaches_its_children_and_counts_once(
    ingest: Ingest,
) -> None:
    # Health and family-support teams do not always hold a UPN: a case on the household alone.
    body = ingest.post("/v1/family-cases", {"records": [_case("", "HH-0002")]}).json()
    assert (body["accepted"], body["rejected"]) == (1, 0)
    assert _cases(ingest) == []  # no child known yet: nothing published, the record is queued

    def counted() -> int:  # records the outbox rows of the case's source and kind carry
        rows = ingest.rows()
        return sum(
            r.records for r in rows if (r.source, r.kind) == ("family-support", "family_case")
        )

    assert counted() == 0
    enrol(ingest, SISTER, "100001", household_ref="HH-0002")
    enrol(ingest, BROTHER, "100002", household_ref="HH-0002")
    assert sorted(c.child_key for c in _cases(ingest)) == sorted([KEY(SISTER), KEY(BROTHER)])
    assert counted() == 1  # the first copy stands for the record: published once, as sent
    # Neither a UPN nor a household: the UPN is missing, as before.
    none = ingest.post("/v1/family-cases", {"records": [_case("", None)]}).json()
    assert [x["reason"] for x in none["rejections"]] == ["missing_field"]


def test_the_plan_counts_a_childless_record_once_when_it_first_reaches_a_child() -> None:
    held = _family("", "h")
    first = plan([_enrolment("a", "h")], {"h": set()}, {"h": [held]})
    assert [c.child_key for c in first.copies] == ["a"] and first.first == {held.event_id}
    again = plan([_enrolment("b", "h")], {"h": {"a"}}, {"h": [held]})
    assert [c.child_key for c in again.copies] == ["b"] and again.first == frozenset()
    alone = plan([_family("", "h")], {}, {})
    assert alone.copies == [] and alone.first == frozenset() and alone.joins == []
