"""CSV and Avro bodies, Idempotency-Key, and hostile input (hypothesis: no crash, no hang)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import fastavro
import pytest

from flagstream.csv_cells import neutralise
from ingest.avro_bodies import AvroBodyError, PartnerSchema
from ingest.models import MarkIn

from .test_ingest_support import KEY, UPN, Ingest, enrol, make_ingest

MARKS = PartnerSchema("MarkIn", MarkIn)


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _avro(*records: dict[str, object]) -> bytes:
    out = io.BytesIO()
    for record in records:
        out.write(MARKS.header)
        fastavro.schemaless_writer(out, MARKS.parsed, record)
    return out.getvalue()


def test_csv_register_as_an_mis_exports_it(ingest: Ingest) -> None:
    body = (
        "\ufeffUPN,Date,Session,Code\r\n"
        f"{UPN},2025-09-08,AM,/\r\n"
        f"{UPN},2025-09-08,PM,N\r\n"
        f"{UPN},2025-09-08,PM\r\n"
        f"{UPN},2025-09-08,PM,N,extra\r\n"
        "\r\n"
    )
    r = ingest.post(
        "/v1/schools/100001/register?source=acme-mis",
        body,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 202, r.text
    assert [x["reason"] for x in r.json()["rejections"]] == ["missing_field", "malformed_record"]
    assert [(m.session, m.code, m.source) for m in ingest.sent()] == [
        ("AM", "/", "acme-mis:100001"),
        ("PM", "N", "acme-mis:100001"),
    ]


def test_csv_census_extract_of_enrolments_with_names(ingest: Ingest) -> None:
    body = (
        "upn,urn,nc_year,sex,month_of_birth,joined_on,forename,surname\n"
        f"{UPN},100001,5,F,2015-03,2021-09-01,Ada,Lovelace\n"
    )
    r = ingest.post("/v1/enrolments", body, headers={"Content-Type": "text/csv"})
    assert r.json()["accepted"] == 1
    assert [(p.child_key, p.surname) for p in ingest.people] == [(KEY(UPN), "Lovelace")]


def test_avro_single_object_bodies(ingest: Ingest) -> None:
    good = {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/", "event_id": None}
    avro = {"Content-Type": "application/vnd.apache.avro+binary"}
    r = ingest.post("/v1/schools/100001/register", _avro(good, {**good, "code": "H"}), headers=avro)
    assert r.json()["accepted"] == 1 and r.json()["rejections"][0]["reason"] == "code_retired"
    body = _avro(good)
    for bad, reason in (
        (body[:-3], "truncated_avro"),
        (body + b"\x00", "trailing_bytes"),  # a byte after the record, not C3 01
        (body + b"\xc3\x01\x00", "truncated_avro"),  # a second record cut short
        (b"\xc3\x01" + b"\x00" * 8 + body[10:], "unknown_schema"),
        (b"{}" + body, "malformed_avro"),
    ):
        r = ingest.post("/v1/schools/100001/register", bad, headers=avro)
        assert (r.status_code, r.json()["reason"]) == (400, reason)
    schema = ingest.client.get("/v1/schemas/attendance_mark.avsc").json()
    assert fastavro.parse_schema(schema)["name"] == "flagstream.partner.MarkIn"


def test_single_record_decoder_refuses_trailing_bytes() -> None:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, MARKS.parsed, {"upn": "x"})
    assert MARKS.decode_one(out.getvalue())["upn"] == "x"
    with pytest.raises(AvroBodyError, match="trailing_bytes"):
        MARKS.decode_one(out.getvalue() + b"\x02")


def test_an_array_claiming_billions_of_items_is_refused_fast() -> None:
    from ingest.models_partners import FamilyCaseIn

    cases = PartnerSchema("FamilyCaseIn", FamilyCaseIn)
    field_count = len(cases.fields)
    # Every field null, except outcome_areas: array branch, a block claiming 2**62 items.
    branches = {name: i for i, (name, _) in enumerate(cases.fields)}
    body = bytearray()
    for i in range(field_count):
        if i == branches["outcome_areas"]:
            body += b"\x02" + b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"
        else:
            body += b"\x00"
    started = time.perf_counter()
    with pytest.raises(AvroBodyError, match="truncated_avro"):
        cases.decode_body(cases.header + bytes(body), 10)
    assert time.perf_counter() - started < 0.1


def test_idempotency_key_replays_the_first_answer(ingest: Ingest) -> None:
    body = {"marks": [{"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}]}
    first = ingest.post("/v1/schools/100001/register", body, headers={"Idempotency-Key": "k1"})
    again = ingest.post("/v1/schools/100001/register", body, headers={"Idempotency-Key": "k1"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(ingest.sent()) == 1
    other = ingest.post(
        "/v1/schools/100001/register", {"marks": []}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 409 and other.json()["reason"] == "idempotency_key_reused"


def test_keys_and_scopes(ingest: Ingest) -> None:
    body = {"marks": [{"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}]}
    enrol(ingest, UPN, "100001")  # on the school key's roll
    assert ingest.client.post("/v1/schools/100001/register", json=body).status_code == 401
    basic = ("school-100001", ingest.keys["school"])  # key as the Basic password (curl -u)
    assert (
        ingest.client.post("/v1/schools/100001/register", json=body, auth=basic).status_code == 202
    )
    assert ingest.post("/v1/schools/100002/register", body, scope="school").status_code == 403
    assert ingest.post("/v1/schools/100001/register", body, scope="police").status_code == 403
    note = {"upn": UPN, "urn": "100002", "incident_on": "2025-09-09", "child_present": True}
    note |= {"police_reference": "R1", "circumstances": "c"}
    r = ingest.post("/v1/domestic-abuse-notifications", {"records": [note]}, scope="police")
    assert r.json()["accepted"] == 1
    text = ingest.client.get("/metrics").text
    assert 'flagstream_rejected_total{reason="unauthenticated"} 1.0' in text
    assert 'flagstream_rejected_total{reason="out_of_scope"} 2.0' in text


def test_csv_exports_neutralise_formulas() -> None:
    assert [neutralise(c) for c in ("=SUM(A1)", "+1", "-2", "@x", "plain", None, 3)] == [
        "'=SUM(A1)",
        "'+1",
        "'-2",
        "'@x",
        "plain",
        "",
        "3",
    ]
