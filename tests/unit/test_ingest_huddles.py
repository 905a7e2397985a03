"""A recorded huddle through ingest: every reviewed child's UPN pseudonymised at the edge, a
huddle with any bad review refused whole with a reason naming the review, one message keyed
by the school's URN on the outcomes topic, and no UPN anywhere in what is published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flagstream.domain.events import HuddleRecorded, HuddleReview

from .test_ingest_support import KEY, OTHER, UPN, Ingest, make_ingest


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def huddle(**changes: Any) -> dict[str, Any]:
    record = {
        "urn": "100001",
        "half_term": "Autumn 1 2025/26",
        "held_on": "2025-09-10",
        "attendees": ["DSL", "SENCo", "Zone lead"],
        "recorded_by": "dsl-100001",
        "reviews": [
            {"upn": UPN, "response": "1:1", "status": "Some progress"},
            {"upn": OTHER, "response": "Referral", "status": "Further risk"},
        ],
    }
    return {**record, **changes}


def post(ingest: Ingest, *records: dict[str, Any]) -> dict[str, Any]:
    reply = ingest.post("/v1/huddles", {"records": list(records)})
    assert reply.status_code == 202, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_a_huddle_is_published_with_child_keys_only(ingest: Ingest) -> None:
    body = post(ingest, huddle(attendees="DSL; Head teacher ;DSL"))
    assert (body["accepted"], body["rejected"]) == (1, 0)
    [event] = ingest.sent()
    assert isinstance(event, HuddleRecorded)
    assert event.urn == "100001" and event.held_on.isoformat() == "2025-09-10"
    assert event.attendees == ["DSL", "Head teacher"]  # trimmed, each role once
    assert event.reviews == [
        HuddleReview(child_key=KEY(UPN), response="1:1", status="Some progress"),
        HuddleReview(child_key=KEY(OTHER), response="Referral", status="Further risk"),
    ]
    [row] = ingest.rows()
    assert row.key == b"100001" and row.topic.endswith(".outcomes")
    assert UPN.encode() not in row.value and OTHER.encode() not in row.value


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"reviews": [{"upn": "A12345678901", "response": "1:1", "status": "x"}]},
         "invalid_upn_format", "reviews[0].upn"),
        ({"reviews": [{"upn": UPN, "status": "x"}]}, "missing_field", "reviews[0].response"),
        ({"reviews": [{"upn": UPN, "response": "1:1", "status": "x"},
                      {"upn": UPN.lower(), "response": "New", "status": "y"}]},
         "duplicate_review", "reviews[1]"),
        ({"attendees": []}, "missing_field", "attendees"),
        ({"held_on": "2999-01-01"}, "date_in_future", "held_on"),
        ({"urn": "12"}, "invalid_urn", "urn"),
        ({"reviews": "UPN,1:1"}, "malformed_record", "reviews"),
    ],
)  # fmt: skip
def test_a_bad_huddle_is_refused_whole_with_a_reason(
    ingest: Ingest, changes: dict[str, Any], reason: str, field: str
) -> None:
    body = post(ingest, huddle(**changes))
    assert (body["accepted"], body["rejected"]) == (0, 1)
    [rejection] = body["rejections"]
    assert (rejection["reason"], rejection["field"]) == (reason, field)
    assert UPN not in str(body) and UPN.lower() not in str(body)
    assert ingest.sent() == []
