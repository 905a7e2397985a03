"""Logical types converted by hand (flagstream/logical.py) equal what fastavro's typed reader
gives, so reading plain and converting is only faster, never different."""

import io
import json
import uuid
from datetime import date
from pathlib import Path

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagstream.codec import Codec
from flagstream.domain.ids import derived_id
from flagstream.logical import Unsupported, converter, uuid_from_str

from .test_codec import CODEC, EXAMPLES


@given(st.uuids())
def test_a_canonical_uuid_string_reads_as_uuid_would(value: uuid.UUID) -> None:
    made = uuid_from_str(str(value))
    assert made == value
    assert (hash(made), str(made), made.version, made.is_safe) == (
        hash(value),
        str(value),
        value.version,
        value.is_safe,
    )


@pytest.mark.parametrize(
    "text", ["", "not-a-uuid", "{12345678-1234-5678-1234-567812345678}", "1" * 32, "g" * 36]
)
def test_a_non_canonical_uuid_string_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        uuid_from_str(text)


@given(st.uuids(), st.text())
def test_a_derived_id_is_uuid5(namespace: uuid.UUID, name: str) -> None:
    assert derived_id(namespace, name) == uuid.uuid5(namespace, name)
    assert derived_id(namespace, name).version == 5


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_schema_reads_as_fastavro_reads_it(event: object) -> None:
    data = CODEC.encode(event)
    name, record = CODEC.decode_record(data)
    body = io.BytesIO(data[10:])
    assert record == fastavro.schemaless_reader(body, CODEC._parsed[name], None)


def test_a_logical_type_it_cannot_convert_is_said_so() -> None:
    decimal = {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}
    with pytest.raises(Unsupported):
        converter({"type": "record", "name": "R", "fields": [{"name": "x", "type": decimal}]}, {})


def test_a_recursive_type_is_said_so() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "next", "type": ["null", "Node"]}],
    }
    with pytest.raises(Unsupported):
        converter(node, {"Node": node})


def test_a_union_of_two_logical_branches_is_read_by_fastavro(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "Either",
        "namespace": "flagstream",
        "doc": "a day or a time",
        "fields": [
            {
                "name": "when",
                "doc": "either",
                "type": [
                    {"type": "int", "logicalType": "date"},
                    {"type": "long", "logicalType": "timestamp-millis"},
                ],
            }
        ],
    }
    (tmp_path / "Either.avsc").write_text(json.dumps(schema))
    codec = Codec(tmp_path, events={})
    data = codec.encode_record("Either", {"when": date(2025, 9, 1)})
    assert codec.decode_record(data) == ("Either", {"when": date(2025, 9, 1)})
