"""Partner sources beyond registers: SEN, FSM, assessments, family cases, Operation Encompass
notifications and professionals' outcomes; and the identity store written at the edge."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from flagstream.domain.events import (
    AssessmentRecorded,
    DomesticAbuseNotified,
    FamilyCaseRecorded,
    FsmEligibilityRecorded,
    OutcomeRecorded,
    SenProvisionRecorded,
)
from ingest.fields import scoped_event_id
from ingest.store import know_schools

from .test_ingest_support import KEY, OTHER, UPN, Ingest, make_ingest


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _post(ingest: Ingest, path: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    r = ingest.post(path, {"records": records})
    assert r.status_code == 202, r.text
    assert UPN not in r.text and OTHER not in r.text
    body: dict[str, Any] = r.json()
    assert body["received"] == body["accepted"] + body["rejected"]
    return body


def _reasons(body: dict[str, Any]) -> list[str]:
    return [x["reason"] for x in body["rejections"]]


def test_sen_provision(ingest: Ingest) -> None:
    ok = {"upn": UPN, "urn": "100001", "provision": "k", "effective_on": "2025-09-01"}
    body = _post(
        ingest,
        "/v1/sen-provision",
        [ok, {**ok, "provision": "S"}, {**ok, "effective_on": "2026-01-01"}, {**ok, "urn": "1"}],
    )
    assert _reasons(body) == ["invalid_provision", "date_in_future", "invalid_urn"]
    [event] = ingest.sent()
    assert isinstance(event, SenProvisionRecorded)
    assert (event.child_key, event.provision, event.effective_on) == (
        KEY(UPN),
        "K",
        date(2025, 9, 1),
    )


def test_fsm_eligibility_may_end_in_the_future(ingest: Ingest) -> None:
    ok = {"upn": UPN, "eligible_from": "2025-04-01"}
    body = _post(
        ingest,
        "/v1/fsm-eligibility",
        [
            ok,
            {**ok, "eligible_to": "2026-03-31"},
            {**ok, "eligible_to": "2025-01-01"},
            {**ok, "eligible_from": "yesterday"},
        ],
    )
    assert _reasons(body) == ["ended_before_started", "invalid_date"]
    assert [type(e) for e in ingest.sent()] == [FsmEligibilityRecorded] * 2
    assert ingest.sent()[1].eligible_to == date(2026, 3, 31)  # type: ignore[attr-defined]


def test_assessments_check_kind_and_result(ingest: Ingest) -> None:
    ok = {"upn": UPN, "urn": "100001", "assessment": "KS2_READING", "result": "98"}
    ok["assessed_on"] = "2025-07-08"
    body = _post(
        ingest,
        "/v1/assessments",
        [
            ok,
            {**ok, "assessment": "KS2_WRITING", "result": "exs"},
            {**ok, "assessment": "KS5_ART"},
            {**ok, "result": "140"},
            {**ok, "assessment": "KS2_WRITING", "result": "98"},
            {**ok, "assessment": "KS4_MATHS", "result": "0"},
        ],
    )
    assert _reasons(body) == [
        "unknown_assessment",
        "invalid_result",
        "invalid_result",
        "invalid_result",
    ]
    assert [(e.assessment, e.result) for e in ingest.sent()] == [  # type: ignore[attr-defined]
        ("KS2_READING", "98"),
        ("KS2_WRITING", "EXS"),
    ]
    assert all(isinstance(e, AssessmentRecorded) for e in ingest.sent())


def test_family_cases(ingest: Ingest) -> None:
    ok = {"upn": UPN, "case_id": "FS-1", "opened_on": "2025-06-01"}
    body = _post(
        ingest,
        "/v1/family-cases",
        [
            {**ok, "outcome_areas": ["education", "housing"]},
            {**ok, "outcome_areas": "crime; finance", "closed_on": "2025-09-01"},
            {**ok, "outcome_areas": ["astrology"]},
            {**ok, "closed_on": "2025-05-01"},
            {**ok, "case_id": None},
        ],
    )
    assert _reasons(body) == ["unknown_outcome_area", "ended_before_started", "missing_field"]
    first, closed = ingest.sent()
    assert isinstance(first, FamilyCaseRecorded) and first.outcome_areas == ["education", "housing"]
    assert isinstance(closed, FamilyCaseRecorded) and closed.closed_on == date(2025, 9, 1)
    assert closed.outcome_areas == ["crime", "finance"]


def test_domestic_abuse_notifications(ingest: Ingest) -> None:
    ok = {
        "upn": UPN,
        "urn": "100001",
        "incident_on": "2025-09-09",
        "child_present": "yes",
        "police_reference": "DP/123/25",
        "circumstances": "Verbal argument; no injuries.",
    }
    body = _post(
        ingest,
        "/v1/domestic-abuse-notifications",
        [ok, {**ok, "child_present": "maybe"}, {**ok, "circumstances": "x" * 5000}],
    )
    assert _reasons(body) == ["invalid_boolean", "too_long"]
    [event] = ingest.sent()
    assert isinstance(event, DomesticAbuseNotified) and event.child_present and event.sensitive


def test_outcomes(ingest: Ingest) -> None:
    ok = {
        "upn": UPN,
        "urn": "100001",
        "response": "Continue to monitor",
        "status": "No Progress",
        "recorded_by": "dsl-100001",
        "recorded_on": "2025-09-10",
    }
    body = _post(ingest, "/v1/outcomes", [ok, {**ok, "upn": "A12345678901"}])
    assert _reasons(body) == ["invalid_upn_format"]
    [event] = ingest.sent()
    assert isinstance(event, OutcomeRecorded) and event.child_key == KEY(UPN)


def test_partner_event_ids_are_kept(ingest: Ingest) -> None:
    eid = "6f1c1c55-8d4e-4a43-9a39-2c1c0f6c8d11"
    ok = {"upn": UPN, "urn": "100001", "provision": "E", "effective_on": "2025-09-01"}
    body = _post(ingest, "/v1/sen-provision", [{**ok, "event_id": eid}, {**ok, "event_id": "7"}])
    assert _reasons(body) == ["invalid_event_id"]
    # Published as derived from the sending key's id: unique per key (fields.event_id).
    key_id = ingest.keys["all"][4:].partition(".")[0]
    published = scoped_event_id(key_id, uuid.UUID(eid))
    assert ingest.sent()[0].event_id == published  # type: ignore[attr-defined]


def test_enrolments_write_the_identity_store_only(ingest: Ingest) -> None:
    ok = {
        "upn": UPN.lower(),
        "urn": "100001",
        "nc_year": 5,
        "sex": "F",
        "month_of_birth": "2015-03",
        "joined_on": "2021-09-01",
        "forename": " Ada ",
        "surname": "Lovelace",
    }
    r = ingest.post(
        "/v1/enrolments",
        {"enrolments": [ok, {**ok, "upn": OTHER, "forename": None, "surname": None}, {}]},
    )
    assert r.json()["accepted"] == 2 and "Lovelace" not in r.text
    assert [(p.child_key, p.upn, p.urn, p.forename, p.surname) for p in ingest.people] == [
        (KEY(UPN), UPN, "100001", "Ada", "Lovelace"),
        (KEY(OTHER), OTHER, "100001", None, None),
    ]
    assert all("Lovelace" not in repr(e) and UPN not in repr(e) for e in ingest.sent())


def test_identity_store_is_not_written_for_a_refused_request(ingest: Ingest) -> None:
    ok = {"upn": UPN, "urn": "100002", "nc_year": 5, "sex": "F"}
    ok |= {"month_of_birth": "2015-03", "joined_on": "2021-09-01"}
    r = ingest.post("/v1/enrolments", {"enrolments": [ok]}, scope="school")  # other school
    assert r.status_code == 403
    assert ingest.people == [] and ingest.sent() == []


def test_openapi_documents_every_partner_endpoint(ingest: Ingest) -> None:
    spec = ingest.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/sen-provision",
        "/v1/fsm-eligibility",
        "/v1/assessments",
        "/v1/family-cases",
        "/v1/domestic-abuse-notifications",
        "/v1/outcomes",
    ):
        assert paths[path]["post"]["responses"]["202"], path
    assert "OutcomeBatchIn" in spec["components"]["schemas"]


def test_demo_sender_sends_a_whole_timeline_without_rejections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flagstream.codec import Codec
    from flagstream_tools.demo.sender import CHILD_EVENT_ENDPOINTS, send_child_events
    from flagstream_tools.generator import (
        EarlyYearsRecorded,
        FamilyCaseRecorded,
        make_county,
        timeline,
    )
    from flagstream_tools.generator.families import add_families
    from ingest.http import app as ingest_app
    from ingest.kinds import every_kind
    from tests.extensions import early_years_loaded

    from . import test_ingest_support as support

    county = make_county("tiny", 3)
    items = list(timeline(county, date(2025, 9, 1), 30, 3))
    county, items, _ = add_families(county, items, 3, date(2025, 9, 1))  # as the demo sends
    wanted = [i for i in items if type(i) in CHILD_EVENT_ENDPOINTS]
    assert {type(i) for i in wanted} == set(CHILD_EVENT_ENDPOINTS)  # every kind is exercised
    with early_years_loaded():  # the demo's services load it (its stream's route and schema)
        kinds = every_kind()
        monkeypatch.setattr(ingest_app, "KINDS", kinds)
        monkeypatch.setattr(ingest_app, "BY_NAME", {k.name: k for k in kinds})
        monkeypatch.setattr(support, "CODEC", Codec())
        ingest = make_ingest(tmp_path, max_records=1000, now=datetime(2026, 1, 1, tzinfo=UTC))
        with ingest.store.engine.begin() as conn:  # as if send_reference had sent the schools
            know_schools(conn, [s.urn for s in county.schools], None, None)
        ingest.client.headers.update(ingest.headers())
        sent: list[int] = []
        accepted, rejected = send_child_events(ingest.client, items, 50, sent.append)
        published = ingest.sent()
    assert (accepted, rejected) == (len(wanted), 0)
    # A case on a household is also copied to the other children a case named in it (the
    # same event id: one partner record); one naming only its household is held until the
    # household has a child (no enrolments are sent here), so only those may be missing.
    assert sum(sent) == len(wanted)
    alone = [i for i in wanted if isinstance(i, FamilyCaseRecorded) and not i.upn]
    assert 0 <= len(wanted) - len({e.event_id for e in published}) <= len(alone)
    nhs = {KEY(f"nhs:{i.nhs_number}") for i in wanted if isinstance(i, EarlyYearsRecorded)}
    assert {e.child_key for e in published} <= {KEY(p.upn) for p in county.pupils} | nhs
