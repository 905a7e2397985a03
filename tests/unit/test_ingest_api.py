from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from flagstream.domain.events import (
    AttendanceMarkRecorded,
    EnrolmentRecorded,
    OutcomeRecorded,
    SchoolRecorded,
)
from flagstream.domain.upn import make_upn
from flagstream.metrics import service_metrics
from ingest.app import create_app
from ingest.pseudonymise import Pseudonymiser
from ingest.publisher import ChildEvent, PublishError

UPN = make_upn(835, 2001, 2019, 1)
NOW = datetime(2025, 9, 10, 12, tzinfo=UTC)


class ListPublisher:
    def __init__(self) -> None:
        self.sent: list[object] = []
        self.fail = False

    def _take(self, events: Sequence[object]) -> int:
        if self.fail:
            raise PublishError("down")
        self.sent.extend(events)
        return len(events)

    def marks(self, marks: Sequence[AttendanceMarkRecorded]) -> int:
        return self._take(marks)

    def enrolments(self, enrolments: Sequence[EnrolmentRecorded]) -> int:
        return self._take(enrolments)

    def schools(self, schools: Sequence[SchoolRecorded]) -> int:
        return self._take(schools)

    def child_events(self, events: Sequence[ChildEvent]) -> int:
        return self._take(events)

    def outcomes(self, outcomes: Sequence[OutcomeRecorded]) -> int:
        return self._take(outcomes)


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def client(publisher: ListPublisher) -> TestClient:
    app = create_app(
        publisher,
        Pseudonymiser(b"k" * 32),
        service_metrics("ingest"),
        max_records=50,
        clock=lambda: NOW,
    )
    return TestClient(app)


def test_register_accepts_and_rejects_each_record_with_a_reason(
    client: TestClient, publisher: ListPublisher
) -> None:
    bad_check = ("A" if UPN[0] != "A" else "B") + UPN[1:]
    marks = [
        {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"},
        {"upn": bad_check, "date": "2025-09-08", "session": "AM", "code": "/"},
        {"upn": UPN, "date": "2025-09-08", "session": "XX", "code": "/"},
        {"upn": UPN, "date": "2025-09-08", "session": "PM", "code": "H"},  # retired 2024
        {"upn": UPN, "date": "8/9/2025", "session": "PM", "code": "I"},
        {"upn": UPN, "date": "2025-10-08", "session": "PM", "code": "I"},
        {"date": "2025-09-08", "session": "PM", "code": "I"},
    ]
    r = client.post("/v1/schools/100001/register", json={"marks": marks})
    assert r.status_code == 202
    body = r.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (7, 1, 6)
    assert [(x["index"], x["reason"]) for x in body["rejections"]] == [
        (1, "invalid_upn_check_letter"),
        (2, "invalid_session"),
        (3, "unknown_attendance_code"),
        (4, "invalid_date"),
        (5, "date_in_future"),
        (6, "missing_field"),
    ]
    assert UPN not in r.text and bad_check not in r.text  # never echo identifiers
    [event] = publisher.sent
    assert isinstance(event, AttendanceMarkRecorded)
    assert event.child_key == Pseudonymiser(b"k" * 32)(UPN) and UPN not in repr(event)
    assert event.urn == "100001" and event.source == "mis:100001"


def test_urn_in_the_path_is_validated(client: TestClient) -> None:
    r = client.post(
        "/v1/schools/12AB/register",
        json={"marks": [{"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}]},
    )
    assert r.json()["rejections"][0]["reason"] == "invalid_urn"


def test_enrolments_and_schools(client: TestClient, publisher: ListPublisher) -> None:
    r = client.post(
        "/v1/enrolments",
        json={
            "enrolments": [
                {
                    "upn": UPN,
                    "urn": "100001",
                    "nc_year": 5,
                    "sex": "F",
                    "month_of_birth": "2015-03",
                    "joined_on": "2021-09-01",
                },
                {
                    "upn": UPN,
                    "urn": "100001",
                    "nc_year": 22,
                    "sex": "F",
                    "month_of_birth": "2015-03",
                    "joined_on": "2021-09-01",
                },
                {
                    "upn": UPN,
                    "urn": "100001",
                    "nc_year": 5,
                    "sex": "F",
                    "month_of_birth": "2015-03",
                    "joined_on": "2021-09-01",
                    "left_on": "2020-01-01",
                },
            ]
        },
    )
    assert [x["reason"] for x in r.json()["rejections"]] == [
        "invalid_nc_year",
        "left_before_joined",
    ]
    r = client.post(
        "/v1/schools",
        json={
            "schools": [
                {"urn": "100001", "name": "A", "phase": "primary", "pyramid": "P", "zone": "Z"},
                {"urn": "100002", "name": "B", "phase": "college", "pyramid": "P", "zone": "Z"},
            ]
        },
    )
    assert r.json()["accepted"] == 1 and r.json()["rejections"][0]["reason"] == "invalid_phase"
    assert [type(e).__name__ for e in publisher.sent] == ["EnrolmentRecorded", "SchoolRecorded"]


def test_limits_and_broker_failure(client: TestClient, publisher: ListPublisher) -> None:
    mark = {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}
    assert (
        client.post("/v1/schools/100001/register", json={"marks": [mark] * 51}).status_code == 413
    )
    publisher.fail = True
    r = client.post("/v1/schools/100001/register", json={"marks": [mark]})
    assert r.status_code == 503 and "broker_unavailable" in r.text


def test_metrics_count_rejections_by_reason(client: TestClient) -> None:
    client.post(
        "/v1/schools/100001/register",
        json={"marks": [{"upn": "X", "date": "2025-09-08", "session": "AM", "code": "/"}]},
    )
    text = client.get("/metrics").text
    assert 'flagstream_rejected_total{reason="invalid_upn_format"} 1.0' in text
    assert 'flagstream_events_in_total{kind="attendance_mark"} 1.0' in text
    assert "flagstream_processing_seconds_bucket" in text


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/schools/{urn}/register", "/v1/enrolments", "/v1/schools"} <= set(paths)
