import json
import uuid
from datetime import date
from pathlib import Path

import fastavro
import pytest

from flagstream import catalogue
from flagstream.codec import DEFAULT_SCHEMAS_DIR, Codec, CodecError
from flagstream.domain.events import (
    ActiveFlag,
    AssessmentRecorded,
    AttendanceMarksRecorded,
    ChildEventsRecorded,
    ChildFlagsSnapshot,
    ChildFlagsSnapshots,
    DayEnded,
    DomesticAbuseNotified,
    FamilyCaseRecorded,
    FlagChanged,
    FsmEligibilityRecorded,
    HuddleRecorded,
    HuddleReview,
    OutcomeRecorded,
    RulesDeployed,
    SchoolRecorded,
    SenProvisionRecorded,
)

from .factories import T0, enrolment, mark

ENV = {"event_id": uuid.uuid4(), "source": "test", "occurred_at": T0, "recorded_at": T0}
EXAMPLES = [
    SchoolRecorded(
        **ENV,
        urn="100001",
        name="Hartcombe Primary",
        phase="PRIMARY",
        pyramid="Hartcombe",
        zone="Northvale",
    ),
    enrolment("c1"),
    mark("c1", date(2025, 9, 8), "PM", "\\"),
    AttendanceMarksRecorded(
        batch_id=uuid.uuid4(),
        marks=[mark("c1", date(2025, 9, 8), "AM", "/"), mark("c2", date(2025, 9, 8), "AM", "I")],
    ),
    SenProvisionRecorded(
        **ENV, child_key="c1", urn="100001", provision="K", effective_on=date(2025, 9, 1)
    ),
    FsmEligibilityRecorded(**ENV, child_key="c1", eligible_from=date(2024, 1, 5)),
    AssessmentRecorded(
        **ENV,
        child_key="c1",
        urn="100001",
        assessment="KS2_WRITING",
        result="WTS",
        assessed_on=date(2025, 7, 8),
    ),
    FamilyCaseRecorded(
        **ENV,
        child_key="c1",
        case_id="FS-1",
        opened_on=date(2025, 9, 20),
        closed_on=None,
        outcome_areas=["housing", "finance"],
    ),
    DomesticAbuseNotified(
        **ENV,
        child_key="c1",
        urn="100001",
        incident_on=date(2025, 10, 2),
        child_present=False,
    ),
    ChildFlagsSnapshots(
        batch_id=uuid.uuid4(),
        snapshots=[
            ChildFlagsSnapshot(
                **ENV,
                child_key="c2",
                urn="100001",
                nc_year=3,
                sex="M",
                as_of=date(2025, 9, 30),
                possible_sessions=40,
                absent_sessions=2,
                flags=[],
                rule_version="v1",
            )
        ],
    ),
    DayEnded(**ENV, day=date(2025, 10, 3)),
    OutcomeRecorded(
        **ENV,
        child_key="c1",
        urn="100001",
        response="Team around the family",
        status="Some progress",
        recorded_by="zone.worker",
        recorded_on=date(2025, 10, 20),
    ),
    HuddleRecorded(
        **ENV,
        urn="100001",
        half_term="Autumn 2 2025/26",
        held_on=date(2025, 11, 12),
        attendees=["DSL", "Zone lead"],
        recorded_by="dsl.100001",
        reviews=[HuddleReview(child_key="c1", response="1:1", status="Some progress")],
    ),
    RulesDeployed(**ENV, version="2026.2", rules_toml='version = "2026.2"\n'),
    FlagChanged(
        **ENV,
        child_key="c1",
        urn="100001",
        flag="ATTEND",
        change="RAISED",
        reason="attendance 80%",
        rule_version="v1",
        as_of=date(2025, 9, 30),
    ),
    ChildFlagsSnapshot(
        **ENV,
        child_key="c1",
        urn="100001",
        nc_year=None,
        sex=None,
        as_of=date(2025, 9, 30),
        possible_sessions=40,
        absent_sessions=8,
        flags=[ActiveFlag(flag="ATTEND", reason="r", raised_on=date(2025, 9, 29), tier="severe")],
        rule_version="v1",
    ),
]
CODEC = Codec()
EXAMPLES.append(
    ChildEventsRecorded(
        batch_id=uuid.uuid4(), events=[CODEC.encode(EXAMPLES[4]), CODEC.encode(EXAMPLES[5])]
    )
)


def test_every_event_schema_has_an_example() -> None:
    assert {type(e) for e in EXAMPLES} == set(catalogue.schemas())


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip(event: object) -> None:
    assert CODEC.decode(CODEC.encode(event)) == event


def test_single_object_header_is_the_spec_fingerprint() -> None:
    data = CODEC.encode(EXAMPLES[0])
    parsed = fastavro.parse_schema(
        json.loads((DEFAULT_SCHEMAS_DIR / "SchoolRecorded.avsc").read_text())
    )
    canonical = fastavro.schema.to_parsing_canonical_form(parsed)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    # The body is plain Avro binary that any reader with the .avsc can decode.
    import io

    assert fastavro.schemaless_reader(io.BytesIO(data[10:]), parsed, None)["urn"] == "100001"


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda b: b[:-3], "truncated"),
        (lambda b: b + b"\x00", "trailing_bytes"),
        (lambda b: b[:2] + b"\x00" * 8 + b[10:], "unknown_fingerprint"),
        (lambda b: b"\x00\x01" + b[2:], "not_single_object"),
        (lambda b: b[:5], "not_single_object"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(mangle, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CodecError) as err:
        CODEC.decode(mangle(CODEC.encode(EXAMPLES[-2])))
    assert err.value.reason == reason


def test_every_schema_field_is_documented() -> None:
    for path in Path(DEFAULT_SCHEMAS_DIR).glob("*.avsc"):
        schema = json.loads(path.read_text())
        assert schema["namespace"] == "flagstream" and schema.get("doc"), path.name
        for field in schema["fields"]:
            if path.stem != "ChildState":
                assert field.get("doc"), f"{path.name}: {field['name']} has no doc"


def test_a_batch_decodes_to_its_events_in_order() -> None:
    events = [EXAMPLES[5], EXAMPLES[1], EXAMPLES[4]]
    data = CODEC.encode_batch(events)
    assert CODEC.decode_all(data) == events
    assert [name for name, _ in CODEC.decode_plain_all(data)] == [
        "FsmEligibilityRecorded",
        "EnrolmentRecorded",
        "SenProvisionRecorded",
    ]
    plain = dict(CODEC.decode_plain_all(data))["SenProvisionRecorded"]
    assert plain["child_key"] == "c1"
    assert plain["effective_on"] == (date(2025, 9, 1) - date(1970, 1, 1)).days


def test_a_single_event_decodes_to_itself() -> None:
    assert CODEC.decode_all(CODEC.encode(EXAMPLES[1])) == [EXAMPLES[1]]
    assert [n for n, _ in CODEC.decode_plain_all(CODEC.encode(EXAMPLES[1]))] == [
        "EnrolmentRecorded"
    ]


def test_a_batch_inside_a_batch_is_refused() -> None:
    inner = CODEC.encode_batch([EXAMPLES[4], EXAMPLES[5]])
    outer = CODEC.encode(ChildEventsRecorded(batch_id=uuid.uuid4(), events=[inner]))
    for decode in (CODEC.decode_all, CODEC.decode_plain_all):
        with pytest.raises(CodecError) as error:
            decode(outer)
        assert error.value.reason == "nested_batch"


def test_a_damaged_event_inside_a_batch_is_refused() -> None:
    good = CODEC.encode(EXAMPLES[4])
    outer = CODEC.encode(ChildEventsRecorded(batch_id=uuid.uuid4(), events=[good, good[:-3]]))
    with pytest.raises(CodecError) as error:
        CODEC.decode_all(outer)
    assert error.value.reason == "truncated"
