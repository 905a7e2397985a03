"""Other tools can read our topics with the .avsc files alone: Apache Avro (not fastavro)
parses every schema, decodes a real message of each, and the header of each message is the
CRC-64-AVRO fingerprint of the spec's Parsing Canonical Form of the self-contained schema.

The canonical form and the CRC are computed here from the Avro specification, independently
of fastavro and of the codec's own inlining: Apache Avro resolves the types a file takes from
other files, and writes the schema back whole.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import avro.errors
import avro.io
import avro.name
import avro.schema
import pytest

from flagger.state_codec import StateCodec
from flagstream.codec import DEFAULT_SCHEMAS_DIR, HEADER_LEN, Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.state import ChildState

from .factories import mark
from .test_codec import EXAMPLES

CODEC = Codec()
FILES = {p.stem: json.loads(p.read_text()) for p in sorted(DEFAULT_SCHEMAS_DIR.glob("*.avsc"))}

# -- The Avro specification, "Parsing Canonical Form for Schemas" and "Schema Fingerprints".
_KEEP = ("name", "type", "fields", "symbols", "items", "values", "size")
_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
EMPTY = 0xC15D213AA4D7A795


def _table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    return table


_FP_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _FP_TABLE[(fp ^ byte) & 0xFF]
    return fp


def canonical(node: Any, namespace: str = "") -> Any:
    """[PRIMITIVES] [FULLNAMES] [STRIP] [ORDER] (JSON text written without whitespace)."""
    if isinstance(node, str):
        return node if node in _PRIMITIVES or "." in node else f"{namespace}.{node}".lstrip(".")
    if isinstance(node, list):
        return [canonical(n, namespace) for n in node]
    kind = node["type"]
    if isinstance(kind, str) and kind in _PRIMITIVES:
        return kind  # {"type": "string", "logicalType": ...} is just "string"
    out: dict[str, Any] = {}
    if kind in ("record", "enum", "fixed", "error"):
        name = node["name"]
        space = node.get("namespace", namespace)
        full = name if "." in name else f"{space}.{name}".lstrip(".")
        namespace = full.rpartition(".")[0]
        out["name"] = full
    for key in _KEEP:
        if key == "name" or key not in node:
            continue
        value = node[key]
        if key == "type":
            out["type"] = value if isinstance(value, str) else canonical(value, namespace)
        elif key == "fields":
            out["fields"] = [
                {"name": f["name"], "type": canonical(f["type"], namespace)} for f in value
            ]
        elif key in ("items", "values"):
            out[key] = canonical(value, namespace)
        else:
            out[key] = value
    return out


def fingerprint_header(schema_json: Any) -> bytes:
    text = json.dumps(canonical(schema_json), separators=(",", ":"))
    return b"\xc3\x01" + crc64_avro(text.encode()).to_bytes(8, "little")


# -- Apache Avro: each file parsed with the named types of the others known, written whole.
def _defining_file(full_name: str) -> str:
    """The file whose JSON defines a named type (found by walking every file)."""

    def defines(node: Any, namespace: str) -> bool:
        if isinstance(node, list):
            return any(defines(n, namespace) for n in node)
        if not isinstance(node, dict):
            return False
        if node.get("type") in ("record", "enum", "fixed") and "name" in node:
            namespace = node.get("namespace", namespace)
            name = node["name"] if "." in node["name"] else f"{namespace}.{node['name']}"
            if name == full_name:
                return True
        return any(defines(node[k], namespace) for k in ("type", "items", "fields") if k in node)

    return next(stem for stem, raw in FILES.items() if defines(raw, raw.get("namespace", "")))


def apache_schema(name: str) -> avro.schema.Schema:
    """Apache Avro's parse of one file, the files defining the types it names parsed first."""
    before: list[str] = []
    for _ in range(len(FILES)):
        names = avro.name.Names()
        try:
            for stem in before:
                avro.schema.make_avsc_object(FILES[stem], names)
            return avro.schema.make_avsc_object(FILES[name], names)
        except avro.errors.SchemaParseException as exc:
            missing = re.search(r"Could not make an Avro Schema object from ([\w.]+)", str(exc))
            assert missing, exc
            found = missing.group(1)
            stem = _defining_file(found if "." in found else f"{FILES[name]['namespace']}.{found}")
            assert stem not in before, exc
            before.insert(0, stem)
    raise AssertionError(f"Apache Avro could not resolve {name}")


def whole_json(schema: avro.schema.Schema) -> Any:
    """The schema as one self-contained document: each named type defined where first used."""
    return schema.to_json(avro.name.Names())


def messages() -> dict[str, bytes]:
    """A real message of every schema, as the codec writes it."""
    out = {}
    for event in EXAMPLES:
        value = CODEC.encode(event)
        out[CODEC.decode_record(value)[0]] = value
    out["ChildState"] = StateCodec(CODEC).encode(ChildState(child_key="k", urn="100001"))
    return out


def test_every_schema_file_has_a_message_here() -> None:
    written = set(messages())
    assert written == set(FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_apache_avro_reads_the_message_and_checks_its_fingerprint(name: str) -> None:
    value = messages()[name]
    schema = apache_schema(name)
    assert value[:HEADER_LEN] == fingerprint_header(whole_json(schema))
    reader = avro.io.DatumReader(schema)
    record = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[HEADER_LEN:])))
    assert _comparable(record) == _comparable(CODEC.decode_record(value)[1])


def _comparable(value: Any) -> Any:
    """Both libraries' reads with logical types as text (uuid, date, timestamp objects)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def test_a_message_written_before_schemas_were_self_contained_is_still_read(
    tmp_path: Path,
) -> None:
    marks = [mark("k", date(2025, 9, 8), s, "/") for s in ("AM", "PM")]  # type: ignore[arg-type]
    batch = AttendanceMarksRecorded(batch_id=marks[0].event_id, marks=marks)
    value = CODEC.encode(batch)
    name = CODEC.decode_record(value)[0]
    old = b"\xc3\x01" + bytes.fromhex(
        __import__("fastavro").schema.fingerprint(
            __import__("fastavro").schema.to_parsing_canonical_form(CODEC._with_names(FILES[name])),
            "CRC-64-AVRO",
        )
    )
    assert old != value[:HEADER_LEN]
    assert CODEC.decode(old + value[HEADER_LEN:]) == CODEC.decode(value)
