"""Avro records from partners, over HTTP (http/bodies.py) and on raw topics (validator.py):
one record schema per kind, derived from the JSON record model (every field a nullable
string, int, boolean or string array), a strict decoder for them, and Confluent framing
checked against a schema registry.

The decoder is hand-written for these flat schemas so that hostile input fails fast: every
length is checked against the bytes left before anything is read or allocated."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from typing import Any, Final, Literal

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form
from pydantic import BaseModel

SINGLE_OBJECT: Final = b"\xc3\x01"
CONFLUENT: Final = b"\x00"
NAMESPACE: Final = "flagstream.partner"
FieldType = Literal["string", "int", "boolean", "array"]
# Confluent schema id -> the registry's schema text (None when the registry lacks it).
RegistryLookup = Callable[[int], str | None]
AvroReason = Literal[
    "malformed_avro", "truncated_avro", "trailing_bytes", "unknown_schema", "too_many_records"
]


class AvroBodyError(ValueError):
    """The body is not a sequence of records of the kind's partner schema."""

    def __init__(self, reason: AvroReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def _types_of(annotation: Any) -> list[FieldType]:
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    out: list[FieldType] = []
    for a in args:
        if a is str:
            out.append("string")
        elif a is bool:
            out.append("boolean")
        elif a is int:
            out.append("int")
        elif typing.get_origin(a) is list:
            out.append("array")
    return out


class PartnerSchema:
    """The Avro record schema of one kind's records, and its decoder."""

    def __init__(self, name: str, model: type[BaseModel]) -> None:
        self.fields: list[tuple[str, list[FieldType]]] = []
        avro_fields = []
        for field_name, info in model.model_fields.items():
            kinds = _types_of(info.annotation)
            self.fields.append((field_name, kinds))
            branches: list[Any] = ["null"]
            branches += [{"type": "array", "items": "string"} if k == "array" else k for k in kinds]
            avro_fields.append(
                {
                    "name": field_name,
                    "type": branches,
                    "default": None,
                    "doc": info.description or "",
                }
            )
        self.schema: dict[str, Any] = {
            "type": "record",
            "name": name,
            "namespace": NAMESPACE,
            "doc": model.__doc__ or "",
            "fields": avro_fields,
        }
        self.parsed = parse_schema(self.schema)
        canonical = to_parsing_canonical_form(self.parsed)
        self.header = SINGLE_OBJECT + bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
        self.canonical = canonical

    def avsc(self) -> str:
        """The schema as an .avsc document."""
        return json.dumps(self.schema, indent=2)

    def decode_body(self, data: bytes, most: int) -> list[dict[str, Any]]:
        """Records from concatenated single-object encodings; at most `most` of them. Bytes
        after a record that do not start another (C3 01) are trailing_bytes."""
        reader = _Reader(data)
        out: list[dict[str, Any]] = []
        while not reader.done():
            if out and not reader.starts_with(SINGLE_OBJECT):
                # After a record, only another record's C3 01 may follow; anything else was
                # left over (a wrong length, a stray newline), not a second record cut short.
                raise AvroBodyError(
                    "trailing_bytes", f"{reader.left()} bytes after record {len(out) - 1}"
                )
            if len(out) >= most:
                raise AvroBodyError("too_many_records", f"more than {most} records")
            head = reader.take(len(self.header), "single-object header")
            if head[:2] != SINGLE_OBJECT:
                raise AvroBodyError("malformed_avro", f"record {len(out)} lacks the C3 01 header")
            if head != self.header:
                raise AvroBodyError("unknown_schema", f"record {len(out)}: not this kind's schema")
            out.append(self.read_record(reader))
        return out

    def decode_one(self, body: bytes) -> dict[str, Any]:
        """One record body (no header) that must use every byte."""
        reader = _Reader(body)
        record = self.read_record(reader)
        if not reader.done():
            raise AvroBodyError("trailing_bytes", f"{reader.left()} bytes after the record")
        return record

    def read_record(self, reader: _Reader) -> dict[str, Any]:
        """One record's fields, in schema order."""
        record: dict[str, Any] = {}
        for name, kinds in self.fields:
            branch = reader.long()
            if branch == 0:
                record[name] = None
            elif 1 <= branch <= len(kinds):
                record[name] = reader.value(kinds[branch - 1])
            else:
                raise AvroBodyError("malformed_avro", f"{name}: union branch {branch}")
        return record


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data, self._pos = memoryview(data), 0

    def done(self) -> bool:
        return self._pos >= len(self._data)

    def left(self) -> int:
        return len(self._data) - self._pos

    def starts_with(self, prefix: bytes) -> bool:
        return self._data[self._pos : self._pos + len(prefix)] == prefix

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.left():
            raise AvroBodyError("truncated_avro", f"{what} needs {n} bytes, {self.left()} left")
        chunk = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return chunk

    def long(self) -> int:
        """A zig-zag varint of at most 10 bytes."""
        result = shift = 0
        for _ in range(10):
            (byte,) = self.take(1, "integer")
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7
        raise AvroBodyError("malformed_avro", "integer longer than 10 bytes")

    def value(self, kind: FieldType) -> Any:
        if kind == "string":
            try:
                return self.take(self.long(), "string").decode("utf-8")
            except UnicodeDecodeError:
                raise AvroBodyError("malformed_avro", "string is not UTF-8") from None
        if kind == "int":
            n = self.long()
            if not -(2**31) <= n < 2**31:
                raise AvroBodyError("malformed_avro", "int out of range")
            return n
        if kind == "boolean":
            (byte,) = self.take(1, "boolean")
            if byte > 1:
                raise AvroBodyError("malformed_avro", "boolean is not 0 or 1")
            return byte == 1
        items: list[str] = []
        while (count := self.long()) != 0:
            if count < 0:  # a negative count is followed by the block's size in bytes
                count = -count
                self.long()
            if count > self.left():  # every string takes at least one byte
                raise AvroBodyError("truncated_avro", f"array claims {count} items")
            items += [self.value("string") for _ in range(count)]
        return items


def parse_avro_record(
    value: bytes, schema: PartnerSchema, registry: RegistryLookup | None
) -> dict[str, Any]:
    """One record as a Kafka message value: single-object encoded, or Confluent-framed when a
    registry is configured. Raises AvroBodyError (trailing_bytes for a second record)."""
    if value[:1] == CONFLUENT and registry is not None:
        return confluent(value, schema, registry)
    if not value or not SINGLE_OBJECT.startswith(value[:2]):
        raise AvroBodyError("malformed_avro", "the value lacks the C3 01 single-object header")
    if len(value) < len(schema.header):
        raise AvroBodyError("truncated_avro", "the single-object header is cut short")
    if value[: len(schema.header)] != schema.header:
        raise AvroBodyError("unknown_schema", "not this topic's record schema")
    return schema.decode_one(value[len(schema.header) :])


def confluent(body: bytes, schema: PartnerSchema, registry: RegistryLookup) -> dict[str, Any]:
    """One Confluent-framed record (00, a 4-byte schema id, the body) of the kind's schema."""
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
