"""Bad input named right (issue 15): dates too old, codes not valid on their date, trailing
bytes after an Avro record, unprintable sources, and CSV in the encodings MIS exports use -
each sent to the real app and refused (or read) with its stable reason."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import fastavro
import pytest
from sqlalchemy import select

from flagstream.topics import Topics
from flagstream_tools.reconcile import LedgerLine, render_ledger
from ingest.avro_bodies import AvroBodyError, PartnerSchema, parse_avro_record
from ingest.fields import REASONS
from ingest.ledger import LedgerRow, ingest_ledger
from ingest.models import MarkIn
from ingest.routing import Router
from ingest.store import Store, know_schools, raw_outbox
from ingest.validator import RawRecord, Validator

from .test_ingest_support import CODEC, KEY, NOW, UPN, Ingest, make_ingest

MARKS = PartnerSchema("MarkIn", MarkIn)
AVRO = {"Content-Type": "application/vnd.apache.avro+binary"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ingest.md"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _mark(day: str, code: str = "/", session: str = "AM") -> dict[str, str]:
    return {"upn": UPN, "date": day, "session": session, "code": code}


def _register(ingest: Ingest, *marks: dict[str, str]) -> list[tuple[str | None, str]]:
    """Each mark's reason (None: accepted), in order, one mark per request."""
    out: list[tuple[str | None, str]] = []
    for m in marks:
        r = ingest.post("/v1/schools/100001/register", {"marks": [m]})
        assert r.status_code == 202, r.text
        [rejection] = r.json()["rejections"] or [{"reason": None, "message": ""}]
        out.append((rejection["reason"], rejection["message"]))
    return out


def _reasons(ingest: Ingest, *marks: dict[str, str]) -> list[str | None]:
    return [reason for reason, _ in _register(ingest, *marks)]


def test_dates_before_the_floor_are_date_too_old(ingest: Ingest) -> None:
    assert _reasons(
        ingest,
        _mark("1900-01-01"),
        _mark("2006-08-31"),  # the day before the national attendance codes
        _mark("2006-09-01"),
    ) == ["date_too_old", "date_too_old", None]
    sen = {"upn": UPN, "urn": "100001", "provision": "K", "effective_on": "1999-12-31"}
    fsm = {"upn": UPN, "eligible_from": "2000-01-01", "eligible_to": "1900-01-01"}
    r = ingest.post("/v1/sen-provision", {"records": [sen, {**sen, "effective_on": "2000-01-01"}]})
    assert [(x["index"], x["reason"]) for x in r.json()["rejections"]] == [(0, "date_too_old")]
    r = ingest.post("/v1/fsm-eligibility", {"records": [fsm]})
    assert [(x["reason"], x["field"]) for x in r.json()["rejections"]] == [
        ("date_too_old", "eligible_to")
    ]
    pupil = {
        "upn": UPN,
        "urn": "100001",
        "nc_year": 5,
        "sex": "F",
        "month_of_birth": "2015-03",
        "joined_on": "2021-09-01",
    }
    r = ingest.post(
        "/v1/enrolments",
        {
            "enrolments": [
                {**pupil, "joined_on": "1900-09-01"},
                {**pupil, "month_of_birth": "1900-01"},
                {**pupil, "month_of_birth": f"{NOW.year - 30}-01"},  # 30 years: still a pupil
            ]
        },
    )
    assert [(x["index"], x["reason"], x["field"]) for x in r.json()["rejections"]] == [
        (0, "date_too_old", "joined_on"),
        (1, "date_too_old", "month_of_birth"),
    ]


def test_attendance_codes_are_checked_against_the_set_of_the_marks_date(ingest: Ingest) -> None:
    got = _register(
        ingest,
        _mark("2023-06-05", "H"),  # holiday: authorised absence before the 2024 change
        _mark("2024-08-16", "J"),  # the last school day before it, session AM
        _mark("2024-08-19", "H"),
        _mark("2025-09-08", "J"),
        _mark("2023-06-05", "C1", "PM"),
        _mark("2024-08-19", "C1", "PM"),
        _mark("2013-08-30", "F"),
        _mark("2013-09-02", "F"),
        _mark("2025-09-08", "F", "PM"),
        _mark("2025-09-09", "ZZ"),
    )
    assert [reason for reason, _ in got] == [
        None,
        None,
        "code_retired",
        "code_retired",
        "code_not_yet_valid",
        None,
        None,
        "code_retired",
        "code_retired",
        "unknown_attendance_code",
    ]
    assert "use C " in got[2][1] and "2024-08-19" in got[2][1] and "use J1" in got[3][1]
    assert "use H " in got[7][1] and "use C " in got[8][1]  # F became H, which became C
    assert [(str(m.date), m.code) for m in ingest.sent()] == [
        ("2023-06-05", "H"),
        ("2024-08-16", "J"),
        ("2024-08-19", "C1"),
        ("2013-08-30", "F"),
    ]


def _record(**fields: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, MARKS.parsed, fields)
    return MARKS.header + out.getvalue()


def test_bytes_after_an_avro_record_are_trailing_bytes(ingest: Ingest) -> None:
    one = _record(**_mark("2025-09-08"))
    two = one + _record(**_mark("2025-09-08", "\\", "PM"))
    for bad, reason in (
        (one + b"\n", "trailing_bytes"),  # a stray newline, as a file written in text mode
        (one + b"\x00\x00\x00", "trailing_bytes"),
        (two + b"\x02", "trailing_bytes"),
        (one + b"\xc3\x01\x00", "truncated_avro"),  # a second record cut short
        (one[:-1], "truncated_avro"),
        (b"\n" + one, "malformed_avro"),
    ):
        r = ingest.post("/v1/schools/100001/register", bad, headers=AVRO)
        assert (r.status_code, r.json()["reason"]) == (400, reason), bad
    r = ingest.post("/v1/schools/100001/register", two, headers=AVRO)
    assert r.json()["accepted"] == 2
    # A raw Kafka record is one record: anything after it is trailing_bytes too.
    for value in (one + b"\n", two):
        with pytest.raises(AvroBodyError, match=r"^trailing_bytes"):
            parse_avro_record(value, MARKS, None)


@pytest.mark.parametrize(
    "source",
    ["acme\x1b[31m", "acme\nmis", "acme\u202emis", "acme\x00", "x" * 101],
    ids=["escape", "newline", "bidi-override", "nul", "too-long"],
)
def test_an_unprintable_or_long_source_is_refused(ingest: Ingest, source: str) -> None:
    r = ingest.post(
        "/v1/schools/100001/register", {"source": source, "marks": [_mark("2025-09-08")]}
    )
    assert (r.status_code, r.json()["reason"]) == (422, "invalid_source")
    r = ingest.post(
        "/v1/schools/100001/register",
        "upn,date,session,code\n",
        headers={"Content-Type": "text/csv"},
        params={"source": source},
    )
    assert (r.status_code, r.json()["reason"]) == (422, "invalid_source")
    assert ingest.sent() == []
    # Refusals count under the kind's default source, never under the bad one.
    rows = ingest_ledger(ingest.store.engine)
    assert [(x.source, x.refused, x.refusals) for x in rows] == [
        ("mis:100001", 2, (("invalid_source", 2),))
    ]


def test_a_printable_source_is_kept(ingest: Ingest) -> None:
    body = {"source": "Ærø MIS (v2.1) - Zoë's school", "marks": [_mark("2025-09-08")]}
    r = ingest.post("/v1/schools/100001/register", body)
    assert r.json()["accepted"] == 1
    assert [m.source for m in ingest.sent()] == ["Ærø MIS (v2.1) - Zoë's school:100001"]


def test_the_validator_dead_letters_a_record_with_an_unprintable_source_header(
    tmp_path: Path,
) -> None:
    from ingest.db import make_engine

    topics = Topics("t")
    store = Store(make_engine(f"sqlite:///{tmp_path / 'raw.db'}"), raw_outbox)
    with store.engine.begin() as conn:  # as if its school record had been accepted
        know_schools(conn, ["100001"], None, NOW)
    validator = Validator(store, Router(topics, 3, CODEC), KEY, lambda: NOW, topics)
    value = _record(**_mark("2025-09-08"))
    raw = topics.raw("attendance_mark")

    def record(offset: int, source: bytes | None) -> RawRecord:
        headers = [] if source is None else [("source", source)]
        return RawRecord(raw, 0, offset, b"100001", value, headers)

    summary = validator.process(
        [
            record(0, b"acme\x1b[2J"),
            record(1, b"\xff\xfe"),  # not UTF-8
            record(2, b"a" * 101),
            record(3, b"acme-mis"),
            record(4, None),
        ]
    )
    assert (summary.received, summary.accepted) == (5, 2)
    assert summary.reasons == {"invalid_source": 3}
    with store.engine.connect() as conn:
        letters = [r.value for r in conn.execute(select(raw_outbox).where(raw_outbox.c.dead))]
    assert all(b"\x1b" not in v and b'"source": "mis:100001"' in v for v in letters)
    bad_value = RawRecord(raw, 0, 5, b"100001", value + b"\n", [])
    assert validator.process([bad_value]).reasons == {"trailing_bytes": 1}


def test_reconcile_prints_old_ledger_sources_escaped() -> None:
    line = LedgerLine(
        LedgerRow("evil\x1b[2J\x07\u202e", NOW.date(), "attendance_mark", 1, 1, 0, 1), 1
    )
    text = render_ledger([line])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "evil\\x1b[2J\\x07\\u202e" in text
    header, _, row = text.splitlines()
    assert row.index("attendance_mark") == header.index("kind")  # the columns still line up


ENROLMENT_CSV = "upn,urn,nc_year,sex,month_of_birth,joined_on,forename,surname\n"
QUOTE = "\u2019"  # a typographic apostrophe, as names in MIS hold (0x92 in Windows-1252)
ROW = f"{UPN},100001,5,F,2015-03,2021-09-01,Zoë,O{QUOTE}Brien\n"


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        ((ENROLMENT_CSV + ROW).encode("utf-8"), "text/csv", "utf-8"),
        (b"\xef\xbb\xbf" + (ENROLMENT_CSV + ROW).encode("utf-8"), "text/csv", "utf-8"),
        ((ENROLMENT_CSV + ROW).encode("cp1252"), "text/csv", "windows-1252"),
        ((ENROLMENT_CSV + ROW).encode("utf-16"), "text/csv", "utf-16le"),  # BOM first
        (b"\xfe\xff" + (ENROLMENT_CSV + ROW).encode("utf-16-be"), "text/csv", "utf-16be"),
        (
            (ENROLMENT_CSV + ROW).encode("cp1252"),
            'text/csv; charset="Windows-1252"',
            "windows-1252",
        ),
        (
            (ENROLMENT_CSV + ROW.replace(QUOTE, "'")).encode("latin-1"),
            "text/csv;charset=ISO-8859-1",
            "iso-8859-1",
        ),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "utf16le-bom", "utf16be-bom", "declared", "latin1"],
)
def test_csv_in_the_encodings_mis_exports_use(
    ingest: Ingest, body: bytes, content_type: str, encoding: str
) -> None:
    r = ingest.post("/v1/enrolments", body, headers={"Content-Type": content_type})
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["encoding"]) == (1, encoding)
    [person] = ingest.people
    assert (person.forename, person.surname) in (("Zoë", f"O{QUOTE}Brien"), ("Zoë", "O'Brien"))


def test_a_declared_charset_wins_and_the_answer_says_so(ingest: Ingest) -> None:
    body = (ENROLMENT_CSV + ROW).encode("utf-8")  # also valid as ISO-8859-1, read wrongly
    headers = {"Content-Type": "text/csv; charset=iso-8859-1", "Idempotency-Key": "k1"}
    first = ingest.post("/v1/enrolments", body, headers=headers)
    again = ingest.post("/v1/enrolments", body, headers=headers)
    assert first.json()["encoding"] == again.json()["encoding"] == "iso-8859-1"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ingest.people[0].forename == "ZoÃ«"
    json_answer = ingest.post("/v1/schools/100001/register", {"marks": [_mark("2025-09-08")]})
    assert json_answer.json()["encoding"] is None  # CSV bodies only


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        ((ENROLMENT_CSV + ROW).encode("cp1252"), "text/csv; charset=utf-8", 400, "malformed_csv"),
        ((ENROLMENT_CSV + ROW).encode("utf-8"), "text/csv; charset=ebcdic-x", 415,
         "unsupported_media_type"),
        ((ENROLMENT_CSV + ROW).encode("utf-16-le"), "text/csv", 400, "malformed_csv"),  # no BOM
        (ENROLMENT_CSV.encode() + b"\x81\x8d\n", "text/csv", 400, "malformed_csv"),
    ],
    ids=["not-the-declared", "unknown-charset", "utf16-without-bom", "neither"],
)  # fmt: skip
def test_csv_that_cannot_be_read_says_why(
    ingest: Ingest, body: bytes, content_type: str, status: int, reason: str
) -> None:
    r = ingest.post("/v1/enrolments", body, headers={"Content-Type": content_type})
    assert (r.status_code, r.json()["reason"]) == (status, reason)


@pytest.mark.parametrize(
    "reason", ["date_too_old", "code_retired", "code_not_yet_valid", "invalid_source"]
)
def test_the_new_reason_codes_are_documented(reason: str) -> None:
    assert reason in REASONS
    assert f"| `{reason}` |" in DOCS.read_text(), reason
    assert f"`{reason}`" in README.read_text(), reason
