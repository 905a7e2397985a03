"""Hostile input, bounded for CI: hypothesis against the Avro decoder and the CSV parser, and
schemathesis against the ingest OpenAPI spec (no 5xx for any generated request)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from ingest.avro_bodies import AvroBodyError, PartnerSchema
from ingest.http.bodies import BodyError, parse_csv
from ingest.models import MarkIn
from tests.unit.test_ingest_support import make_ingest

MARKS = PartnerSchema("MarkIn", MarkIn)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_avro_decoder_never_crashes(data: bytes) -> None:
    for body in (data, MARKS.header + data):
        try:
            records = MARKS.decode_body(body, 100)
        except AvroBodyError:
            continue
        assert all(set(r) == {name for name, _ in MARKS.fields} for r in records)


@FUZZ
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_fuzz_csv_parser_never_crashes(data: bytes) -> None:
    try:
        parsed = parse_csv(data, 50)
    except BodyError as exc:
        assert exc.reason in ("malformed_csv", "too_many_records")
        return
    assert len(parsed.records) <= 50 and all(isinstance(r, dict) for r in parsed.records)


_INGEST = make_ingest(Path(__import__("tempfile").mkdtemp(prefix="ingest-fuzz-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", _INGEST.client.app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore")
def test_api_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=_INGEST.headers(), checks=[not_a_server_error])
