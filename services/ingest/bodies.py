"""Request bodies -> raw records: JSON, CSV (one row per record, as MIS exports are) and Avro
(single-object encoding, or Confluent framing when a schema registry is configured)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from .avro_bodies import CONFLUENT, SINGLE_OBJECT, AvroBodyError, PartnerSchema

JSON: Final = "application/json"
CSV: Final = "text/csv"
AVRO: Final = "application/vnd.apache.avro+binary"
AVRO_TYPES: Final = (AVRO, "avro/binary", "application/avro")
BodyReason = Literal[
    "unsupported_media_type",
    "malformed_json",
    "malformed_csv",
    "malformed_avro",
    "truncated_avro",
    "trailing_bytes",
    "unknown_schema",
    "too_many_records",
]
# Confluent schema id -> the registry's schema text (None when the registry lacks it).
RegistryLookup = Callable[[int], str | None]


class BodyError(ValueError):
    """A body that cannot be read at all; nothing from it is accepted."""

    def __init__(self, reason: BodyReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Parsed:
    """The records of a body and the source it names (None: use the default)."""

    records: list[Any]
    source: str | None


def parse_json(body: bytes, records_field: str, most: int) -> Parsed:
    """{"source": ..., "<records_field>": [...]}; each record is checked later, on its own."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise BodyError("malformed_json", "the body is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(records_field), list):
        raise BodyError("malformed_json", f"expected an object with a '{records_field}' list")
    source = doc.get("source")
    if source is not None and not isinstance(source, str):
        raise BodyError("malformed_json", "source must be text")
    records = doc[records_field]
    if len(records) > most:
        raise BodyError("too_many_records", f"at most {most} records per request")
    return Parsed(records, source)


def parse_csv(body: bytes, most: int) -> Parsed:
    """A header row of field names, then one record per row; blank cells are missing values.
    Lists (outcome_areas) are ';'-separated in one cell."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BodyError("malformed_csv", "CSV must be UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise BodyError("malformed_csv", "the first row must name the columns")
        names = [h.strip().lower() for h in header]
        records: list[dict[str, str | None]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines, e.g. at the end of an export
            if len(records) >= most:
                raise BodyError("too_many_records", f"at most {most} records per request")
            if len(row) > len(names):
                records.append({"__malformed__": f"{len(row)} cells, {len(names)} columns"})
                continue
            records.append({n: (c.strip() or None) for n, c in zip(names, row, strict=False)})
    except csv.Error as exc:
        raise BodyError("malformed_csv", f"line {reader.line_num}: {exc}") from None
    return Parsed(records, None)


def parse_avro(
    body: bytes, schema: PartnerSchema, most: int, registry: RegistryLookup | None
) -> Parsed:
    """Single-object records back to back; or, with a registry, one Confluent-framed record."""
    try:
        if body[:1] == CONFLUENT and registry is not None:
            return Parsed([_confluent(body, schema, registry)], None)
        return Parsed(schema.decode_body(body, most), None)
    except AvroBodyError as exc:
        raise BodyError(exc.reason, str(exc).partition(": ")[2]) from None


def parse_avro_record(
    value: bytes, schema: PartnerSchema, registry: RegistryLookup | None
) -> dict[str, Any]:
    """One record as a Kafka message value: single-object encoded, or Confluent-framed when a
    registry is configured. Raises AvroBodyError (trailing_bytes for a second record)."""
    if value[:1] == CONFLUENT and registry is not None:
        return _confluent(value, schema, registry)
    if not value or not SINGLE_OBJECT.startswith(value[:2]):
        raise AvroBodyError("malformed_avro", "the value lacks the C3 01 single-object header")
    if len(value) < len(schema.header):
        raise AvroBodyError("truncated_avro", "the single-object header is cut short")
    if value[: len(schema.header)] != schema.header:
        raise AvroBodyError("unknown_schema", "not this topic's record schema")
    return schema.decode_one(value[len(schema.header) :])


def _confluent(body: bytes, schema: PartnerSchema, registry: RegistryLookup) -> dict[str, Any]:
    if len(body) < 5:
        raise AvroBodyError("truncated_avro", "Confluent framing needs 5 header bytes")
    schema_id = int.from_bytes(body[1:5], "big")
    text = registry(schema_id)
    if text is None or not same_schema(text, schema):
        raise AvroBodyError("unknown_schema", f"registry schema {schema_id} is not this kind's")
    return schema.decode_one(body[5:])


def same_schema(text: str, schema: PartnerSchema) -> bool:
    """Whether a registry's schema text has the kind's canonical form."""
    from fastavro.schema import parse_schema, to_parsing_canonical_form

    try:
        return bool(to_parsing_canonical_form(parse_schema(json.loads(text))) == schema.canonical)
    except Exception:  # a registry may hold any schema, or none we can parse
        return False


def media_type(content_type: str | None) -> str:
    """The media type without parameters; JSON when not given."""
    kind = (content_type or JSON).split(";")[0].strip().lower()
    if kind in AVRO_TYPES:
        return AVRO
    if kind in (JSON, CSV):
        return kind
    raise BodyError("unsupported_media_type", f"send {JSON}, {CSV} or {AVRO}")
