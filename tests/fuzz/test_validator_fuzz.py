"""Hostile Kafka record values, bounded for CI: the validator's one-record decoder (single-object
or Confluent framing) either returns a record of the kind's schema or rejects with one of its
stable reasons - never another exception, never a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.avro_bodies import AvroBodyError, PartnerSchema, parse_avro_record
from ingest.models_partners import FamilyCaseIn

CASES = PartnerSchema("FamilyCaseIn", FamilyCaseIn)
REASONS = {"malformed_avro", "truncated_avro", "trailing_bytes", "unknown_schema"}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _registry(schema_id: int) -> str | None:
    return CASES.avsc() if schema_id == 1 else None


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_raw_record_decoder_never_crashes(data: bytes) -> None:
    framings = (data, CASES.header + data, b"\x00\x00\x00\x00\x01" + data)
    for value in framings:
        for registry in (None, _registry):
            try:
                record = parse_avro_record(value, CASES, registry)
            except AvroBodyError as exc:
                assert exc.reason in REASONS
                continue
            assert set(record) == {name for name, _ in CASES.fields}
