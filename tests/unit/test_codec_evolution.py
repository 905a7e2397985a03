"""Schema evolution by Avro schema resolution (flagstream/codec_older.py): a message written
with an older schema (schemas/older/) is read as the current schema says - fields dropped
since are skipped, fields added since take their default - on every read path.

The old messages are written here by Apache Avro, not by the codec, with the header computed
from the specification (test_codec_other_libraries.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import avro.io
import avro.schema

from flagstream.codec import DEFAULT_SCHEMAS_DIR, HEADER_LEN, Codec
from flagstream.codec_older import OLDER
from flagstream.domain.events import DomesticAbuseNotified

from .test_codec import EXAMPLES
from .test_codec_other_libraries import fingerprint_header

CODEC = Codec()


def written_by_apache_avro(schema_json: dict[str, Any], record: dict[str, Any]) -> bytes:
    """A single-object-encoded message of `record`, written with `schema_json`."""
    out = io.BytesIO()
    schema = avro.schema.make_avsc_object(schema_json)
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
    return fingerprint_header(schema_json) + out.getvalue()


def test_a_notification_written_with_the_police_reference_reads_without_it() -> None:
    older = json.loads((DEFAULT_SCHEMAS_DIR / OLDER / "DomesticAbuseNotified.1.avsc").read_text())
    event = next(e for e in EXAMPLES if isinstance(e, DomesticAbuseNotified))
    current = CODEC.encode(event)
    typed = CODEC.decode_record(current)[1]
    record = {
        **typed,
        "event_id": str(typed["event_id"]),  # Apache Avro writes a uuid from its text
        "police_reference": "PR/2025/0001",
        "circumstances": "sensitive words",
    }
    old = written_by_apache_avro(older, record)
    assert old[:HEADER_LEN] != current[:HEADER_LEN]  # another writer schema
    assert CODEC.decode(old) == event
    assert CODEC.decode_record(old) == CODEC.decode_record(current)
    assert CODEC.decode_plain(old) == CODEC.decode_plain(current)
    assert CODEC.read_plain(old) == CODEC.read_plain(current)
    assert b"PR/2025/0001" in old and "police_reference" not in CODEC.decode_plain(old)[1]


@dataclass(frozen=True)
class Visit:
    visit_id: str
    on: date
    note: str


VISIT = {
    "type": "record",
    "name": "Visit",
    "namespace": "test",
    "fields": [
        {"name": "visit_id", "type": "string"},
        {"name": "on", "type": {"type": "int", "logicalType": "date"}},
        {"name": "note", "type": "string", "default": "none given"},
    ],
}


def test_a_field_added_since_takes_the_reader_default(tmp_path: Path) -> None:
    (tmp_path / OLDER).mkdir()
    (tmp_path / "Visit.avsc").write_text(json.dumps(VISIT))
    before = {**VISIT, "fields": VISIT["fields"][:2]}  # type: ignore[index]
    (tmp_path / OLDER / "Visit.1.avsc").write_text(json.dumps(before))
    codec = Codec(tmp_path, events={Visit: "Visit"})
    old = written_by_apache_avro(before, {"visit_id": "v1", "on": date(2025, 9, 8)})
    assert codec.decode(old) == Visit("v1", date(2025, 9, 8), "none given")
    plain = {"visit_id": "v1", "on": date(2025, 9, 8).toordinal() - date(1970, 1, 1).toordinal()}
    assert codec.decode_plain(old) == ("Visit", {**plain, "note": "none given"})
    assert codec.decode(codec.encode(Visit("v2", date(2025, 9, 9), "x"))).note == "x"
