"""Request bodies -> raw records: JSON, CSV (one row per record, as MIS exports are) and Avro
(single-object encoding, or Confluent framing when a schema registry is configured)."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..avro_bodies import CONFLUENT, AvroBodyError, PartnerSchema, RegistryLookup, confluent

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


class BodyError(ValueError):
    """A body that cannot be read at all; nothing from it is accepted."""

    def __init__(self, reason: BodyReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Parsed:
    """The records of a body, the source it names (None: use the default) and, for CSV, the
    character encoding it was read in."""

    records: list[Any]
    source: str | None
    encoding: str | None = None


# Character sets a CSV body may declare (charset=), by Python codec name -> the name receipts
# give. MIS exports are UTF-8 (often with a BOM), Windows-1252 ("ANSI" in Excel and SIMS),
# ISO-8859-1, or UTF-16 with a BOM (Excel's "Unicode text").
_CHARSETS: Final = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "ascii": "us-ascii",
    "cp1252": "windows-1252",
    "iso8859-1": "iso-8859-1",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16le",
    "utf-16-be": "utf-16be",
}
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16be"),
)


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


def charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, if any."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def decode_csv(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding name) of a CSV body: the declared charset if any; else by its byte
    order mark; else strict UTF-8; else Windows-1252 (which reads ISO-8859-1 text the same in
    every printable character)."""
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = ""
        if codec not in _CHARSETS:
            raise BodyError("unsupported_media_type", f"charset {declared[:40]!r} is not supported")
        text, name = _decode(body, codec)
        return text.removeprefix("\ufeff"), name  # a BOM beside a declared charset is no text
    for bom, codec, name in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], codec)[0], name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:  # 81 8D 8F 90 9D have no character in Windows-1252
        raise BodyError(
            "malformed_csv", "CSV is neither UTF-8 nor Windows-1252: send charset= with it"
        ) from None


def _decode(body: bytes, codec: str) -> tuple[str, str]:
    try:
        return body.decode(codec), _CHARSETS[codec]
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        raise BodyError(
            "malformed_csv", f"CSV is not valid {_CHARSETS[codec]} at {where}"
        ) from None


def parse_csv(body: bytes, most: int, content_type: str | None = None) -> Parsed:
    """A header row of field names, then one record per row; blank cells are missing values.
    Lists (outcome_areas) are ';'-separated in one cell. The encoding: decode_csv."""
    text, encoding = decode_csv(body, charset(content_type))
    if "\0" in text:
        raise BodyError(
            "malformed_csv", f"CSV read as {encoding} has NUL characters: UTF-16 without a BOM?"
        )
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
    return Parsed(records, None, encoding)


def parse_avro(
    body: bytes, schema: PartnerSchema, most: int, registry: RegistryLookup | None
) -> Parsed:
    """Single-object records back to back; or, with a registry, one Confluent-framed record."""
    try:
        if body[:1] == CONFLUENT and registry is not None:
            return Parsed([confluent(body, schema, registry)], None)
        return Parsed(schema.decode_body(body, most), None)
    except AvroBodyError as exc:
        raise BodyError(exc.reason, str(exc).partition(": ")[2]) from None


def media_type(content_type: str | None) -> str:
    """The media type without parameters; JSON when not given."""
    kind = (content_type or JSON).split(";")[0].strip().lower()
    if kind in AVRO_TYPES:
        return AVRO
    if kind in (JSON, CSV):
        return kind
    raise BodyError("unsupported_media_type", f"send {JSON}, {CSV} or {AVRO}")
