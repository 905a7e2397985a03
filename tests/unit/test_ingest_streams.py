"""Ingest's generic stream endpoint: a catalogue kind with an Intake, checked by field type."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from flagstream.catalogue import EventKind, Intake
from flagstream.domain.events import Event
from ingest import streams
from ingest.fields import Reject, Stamp
from ingest.pseudonymise import Pseudonymiser

UPN = "A123456789012"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class YouthVisitRecorded(Event):
    """A child seen by the youth service."""

    child_key: str
    visit_ref: str
    urn: str
    seen_on: date
    ended_on: date | None
    note: str | None


KIND = EventKind(
    YouthVisitRecorded, "YouthVisitRecorded", "youth_visit", "child_events",
    intake=Intake("youth-service", pseudonymise=("visit_ref",)),
)  # fmt: skip
STAMP = Stamp(source="youth-service", recorded_at=datetime(2026, 10, 5, 9, tzinfo=UTC))
KEY = Pseudonymiser(b"k" * 32)


def _raw(**values: object) -> object:
    record = streams.record_model(KIND)
    base = {"upn": UPN, "visit_ref": "YV/2026/17", "urn": "100001", "seen_on": "2026-10-01"}
    return record.model_validate({**base, **values})


def test_the_record_is_the_events_own_fields_with_upn_for_child_key() -> None:
    fields = set(streams.record_model(KIND).model_fields)
    assert fields == {"event_id", "upn", "visit_ref", "urn", "seen_on", "ended_on", "note"}
    body = streams.batch_model(KIND, streams.record_model(KIND))
    assert body.model_validate({"records": []}).source == "youth-service"  # type: ignore[attr-defined]
    assert streams.path(KIND) == "/v1/streams/youth_visit"


def test_a_valid_record_becomes_the_event_with_its_reference_hashed() -> None:
    event = streams.builder(KIND)(_raw(note="seen at the hub"), None, KEY, STAMP)
    assert isinstance(event, YouthVisitRecorded)
    assert event.child_key == KEY(UPN)
    assert event.seen_on == date(2026, 10, 1) and event.ended_on is None
    assert event.source == "youth-service" and event.note == "seen at the hub"
    assert "YV/2026/17" not in repr(event) and len(event.visit_ref) == 32
    again = streams.builder(KIND)(_raw(), None, KEY, STAMP)
    assert again.visit_ref == event.visit_ref  # stable: the same visit is the same reference


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"upn": "nonsense"}, "invalid_upn_format"),
        ({"seen_on": None}, "missing_field"),
        ({"seen_on": "2026-13-01"}, "invalid_date"),
        ({"seen_on": "2026-12-01"}, "date_in_future"),
        ({"urn": "12"}, "invalid_urn"),
        ({"visit_ref": ""}, "missing_field"),
    ],
)
def test_a_bad_field_is_rejected_with_a_stable_reason(
    values: dict[str, object], reason: str
) -> None:
    with pytest.raises(Reject) as caught:
        streams.builder(KIND)(_raw(**values), None, KEY, STAMP)
    assert caught.value.invalid.reason == reason


def test_a_field_no_partner_can_send_stops_the_kind_at_start() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Counted(Event):
        child_key: str
        count: int

    with pytest.raises(TypeError, match="count"):
        streams.builder(
            EventKind(Counted, "Counted", "counted", "child_events", intake=Intake("x"))
        )
