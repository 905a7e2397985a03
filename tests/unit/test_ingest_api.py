"""The ingest API on its real ingest database (SQLite): registers, enrolments, schools, limits,
metrics and OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagstream.domain.events import AttendanceMarkRecorded

from .test_ingest_support import KEY, UPN, Ingest, make_ingest


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def test_register_accepts_and_rejects_each_record_with_a_reason(ingest: Ingest) -> None:
    bad_check = ("A" if UPN[0] != "A" else "B") + UPN[1:]
    marks = [
        {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"},
        {"upn": bad_check, "date": "2025-09-08", "session": "AM", "code": "/"},
        {"upn": UPN, "date": "2025-09-08", "session": "XX", "code": "/"},
        {"upn": UPN, "date": "2025-09-08", "session": "PM", "code": "H"},  # retired 2024
        {"upn": UPN, "date": "8/9/2025", "session": "PM", "code": "I"},
        {"upn": UPN, "date": "2025-10-08", "session": "PM", "code": "I"},
        {"date": "2025-09-08", "session": "PM", "code": "I"},
        {"upn": 7, "date": "2025-09-08", "session": "PM", "code": "I"},
        "not a record",
    ]
    r = ingest.post("/v1/schools/100001/register", {"marks": marks})
    assert r.status_code == 202
    body = r.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (9, 1, 8)
    assert [(x["index"], x["reason"]) for x in body["rejections"]] == [
        (1, "invalid_upn_check_letter"),
        (2, "invalid_session"),
        (3, "code_retired"),
        (4, "invalid_date"),
        (5, "date_in_future"),
        (6, "missing_field"),
        (7, "malformed_record"),
        (8, "malformed_record"),
    ]
    assert UPN not in r.text and bad_check not in r.text  # never echo identifiers
    [event] = ingest.sent()
    assert isinstance(event, AttendanceMarkRecorded)
    assert event.child_key == KEY(UPN) and UPN not in repr(event)
    assert event.urn == "100001" and event.source == "mis:100001"
    # Every rejection is a dead letter: reason, source, kind and a reference, no identifier.
    letters = ingest.rows(dead=True)
    assert len(letters) == 8
    assert all(UPN.encode() not in r.value and bad_check.encode() not in r.value for r in letters)
    assert f'"reference": "{body["upload_id"]}#1"'.encode() in letters[0].value


def test_urn_in_the_path_is_validated(ingest: Ingest) -> None:
    r = ingest.post(
        "/v1/schools/12AB/register",
        {"marks": [{"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}]},
    )
    assert r.json()["rejections"][0]["reason"] == "invalid_urn"


def test_enrolments_and_schools(ingest: Ingest) -> None:
    ok = {
        "upn": UPN,
        "urn": "100001",
        "nc_year": 5,
        "sex": "F",
        "month_of_birth": "2015-03",
        "joined_on": "2021-09-01",
    }
    r = ingest.post(
        "/v1/enrolments",
        {"enrolments": [ok, {**ok, "nc_year": 22}, {**ok, "left_on": "2020-01-01"}]},
    )
    assert [x["reason"] for x in r.json()["rejections"]] == [
        "invalid_nc_year",
        "left_before_joined",
    ]
    r = ingest.post(
        "/v1/schools",
        {
            "schools": [
                {"urn": "100001", "name": "A", "phase": "primary", "pyramid": "P", "zone": "Z"},
                {"urn": "100002", "name": "B", "phase": "college", "pyramid": "P", "zone": "Z"},
            ]
        },
    )
    assert r.json()["accepted"] == 1 and r.json()["rejections"][0]["reason"] == "invalid_phase"
    assert [type(e).__name__ for e in ingest.sent()] == ["EnrolmentRecorded", "SchoolRecorded"]


def test_limits(ingest: Ingest) -> None:
    mark = {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}
    r = ingest.post("/v1/schools/100001/register", {"marks": [mark] * 51})
    assert r.status_code == 413 and r.json()["reason"] == "too_many_records"
    r = ingest.post("/v1/schools/100001/register", b'{"marks": []}' + b" " * 200_001)
    assert r.status_code == 413 and r.json()["reason"] == "body_too_large"
    r = ingest.post("/v1/schools/100001/register", b"{not json")
    assert r.status_code == 400 and r.json()["reason"] == "malformed_json"
    r = ingest.post(
        "/v1/schools/100001/register", b"x", headers={"Content-Type": "application/xml"}
    )
    assert r.status_code == 415
    assert ingest.rows() == [] and ingest.rows(dead=True) == []


def test_metrics_count_rejections_by_reason(ingest: Ingest) -> None:
    ingest.post(
        "/v1/schools/100001/register",
        {"marks": [{"upn": "X", "date": "2025-09-08", "session": "AM", "code": "/"}]},
    )
    text = ingest.client.get("/metrics").text
    assert 'flagstream_rejected_total{reason="invalid_upn_format"} 1.0' in text
    assert 'flagstream_events_in_total{kind="attendance_mark"} 1.0' in text
    assert "flagstream_processing_seconds_bucket" in text


def test_openapi_documents_every_endpoint_and_body_type(ingest: Ingest) -> None:
    spec = ingest.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/v1/schools/{urn}/register", "/v1/enrolments", "/v1/schools"} <= set(paths)
    content = paths["/v1/enrolments"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/vnd.apache.avro+binary"}
    assert "EnrolmentsIn" in spec["components"]["schemas"]
    assert "EnrolmentIn" in spec["components"]["schemas"]
