"""Avro single-object encoding for every schema in schemas/, parsed once per process.

Wire format (Avro spec, "single-object encoding"): 0xC3 0x01, the schema's 8-byte
CRC-64-AVRO fingerprint (little-endian), then the Avro binary body. Any Avro library
can read our topics with the .avsc files alone, without a schema registry. The fingerprint
is that of the self-contained schema's Parsing Canonical Form; messages written with an
older schema (schemas/older/) are read by resolving it to the current one (codec_older.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from . import catalogue, mark_batch, schema_files
from . import codec_older as older
from . import codec_shapes as shapes
from .codec_plain import Plain
from .domain import events as ev
from .logical import Convert, Unsupported, converter

MAGIC: Final = b"\xc3\x01"
HEADER_LEN: Final = 10
DEFAULT_SCHEMAS_DIR: Final = Path(__file__).resolve().parents[2] / "schemas"


# Event classes whose wire form is not their fields one for one: (to record, from record).
# A change of wire form is a new schema name: messages of the old one are unknown_fingerprint
# (the register's pre-batch schema, AttendanceMarksRecorded, is no longer read: pre-release
# data only; a field change within a schema is read by Avro resolution, codec_older.py).
WIRE_FORMS: Final[dict[type[Any], tuple[Callable[[Any], Any], Callable[[Any], Any]]]] = {
    ev.AttendanceMarksRecorded: (mark_batch.to_batch, mark_batch.from_batch),
}

Reason = Literal[
    "not_single_object",
    "unknown_fingerprint",
    "truncated",
    "trailing_bytes",
    "nested_batch",
    "bad_context",
]
BATCH: Final = "ChildEventsRecorded"  # a message of many single-object-encoded events
_BY_FASTAVRO: Final[Any] = object()  # a schema whose logical types fastavro converts


class CodecError(ValueError):
    """Bytes that are not a valid single-object-encoded record of a known schema."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def _header(parsed: Any) -> bytes:
    """The single-object header: magic, then the CRC-64-AVRO of the canonical form."""
    return MAGIC + bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


class Codec:
    """Parses each .avsc once; encodes and decodes records and domain events."""

    def __init__(
        self,
        schemas_dir: Path = DEFAULT_SCHEMAS_DIR,
        events: Mapping[type[Any], str] | None = None,
    ) -> None:
        """events: the domain classes to build, by schema name; by default every kind of the
        catalogue (flagstream/catalogue.py), whose extensions bring their own schema
        folders besides schemas_dir."""
        if events is None:
            events = catalogue.schemas()
        dirs = [schemas_dir, *(d for d in catalogue.schema_dirs() if d != schemas_dir)]
        self._files = {p.stem: p for d in reversed(dirs) for p in sorted(d.glob("*.avsc"))}
        self._defined_in = {k: v for d in reversed(dirs) for k, v in shapes.named_types(d).items()}
        self._parsed: dict[str, Any] = {}
        self._headers: dict[str, bytes] = {}
        self._by_header: dict[bytes, str] = {}
        self._plain: dict[str, Any] = {}
        # Typed reads are plain reads plus these conversions (logical.py); None: no
        # conversion needed; absent: a schema logical.py cannot convert, read by fastavro.
        self._typing: dict[str, Convert | None] = {}
        for stem in sorted(self._files):
            self._load(stem)
        # Older forms of a schema by header: (writer, its plain form), resolved to the current.
        self._older: dict[bytes, tuple[Any, Any]] = {}
        self._plain_readers: dict[str, Any] = {}
        for path in older.older_files(dirs):
            self._load_older(path)
        self._names = dict(events)
        read = shapes.by_name(events)
        self._builders = {name: shapes.builder(cls) for name, cls in read.items()}
        self._recorders = {cls: shapes.recorder(cls) for cls in events}
        for cls, (to_record, from_record) in WIRE_FORMS.items():
            if cls in events:
                self._recorders[cls], self._builders[events[cls]] = to_record, from_record
        self._types = read
        missing = set(read) - set(self._parsed)
        if missing:
            raise FileNotFoundError(f"no .avsc in {schemas_dir} for {sorted(missing)}")

    def _load(self, name: str) -> dict[str, Any]:
        if name in self._parsed:
            return self._parsed[name]  # type: ignore[no-any-return]
        raw = json.loads(self._files[name].read_text())
        whole = schema_files.self_contained(raw, self._definition)
        named: dict[str, Any] = {}
        parsed = fastavro.parse_schema(whole, named_schemas=named)
        header = _header(parsed)
        self._parsed[name], self._headers[name], self._by_header[header] = parsed, header, name
        if whole != raw:
            # Written before schemas were self-contained: the fingerprint then left types of
            # other files as bare names. Those messages are still read (never written).
            self._by_header.setdefault(_header(self._with_names(raw)), name)
        with contextlib.suppress(Unsupported):  # absent: fastavro converts (see _read)
            self._typing[name] = converter(parsed, named)
        return typing.cast(dict[str, Any], parsed)

    def _load_older(self, path: Path) -> None:
        raw = older.read_json(path)
        name = self._file_of(older.full_name(raw))
        if name not in self._parsed:
            raise FileNotFoundError(f"{path}: no schema of {older.full_name(raw)} to read it as")
        whole = schema_files.self_contained(raw, self._definition)
        writer = fastavro.parse_schema(whole, named_schemas={})
        header = _header(writer)
        if self._by_header.setdefault(header, name) != name:
            raise ValueError(f"{path} has the fingerprint of {self._by_header[header]}")
        plain = fastavro.parse_schema(json.loads(to_parsing_canonical_form(writer)))
        self._older[header] = (writer, plain)

    def _plain_reader(self, name: str) -> Any:
        """The reader schema of a plain read resolving an older writer: logical types dropped,
        defaults kept (the canonical form drops them)."""
        reader = self._plain_readers.get(name)
        if reader is None:
            whole = schema_files.self_contained(
                json.loads(self._files[name].read_text()), self._definition
            )
            reader = self._plain_readers[name] = fastavro.parse_schema(older.without_logical(whole))
        return reader

    def _definition(self, full_name: str) -> tuple[dict[str, Any], str] | None:
        """The definition of a named type in whichever file defines it."""
        path = self._files.get(self._file_of(full_name))
        if path is None:
            return None
        return schema_files.definitions(json.loads(path.read_text())).get(full_name)

    def _with_names(self, raw: dict[str, Any]) -> Any:
        """The schema parsed as before, other files' types known by name only."""
        return older.with_names(raw, self._definition)

    def _file_of(self, type_name: str) -> str:
        """The schema file (stem) defining a named type."""
        return self._defined_in.get(type_name, type_name.rsplit(".", 1)[-1])

    @property
    def schema_names(self) -> list[str]:
        """Names of every loaded schema."""
        return sorted(self._parsed)

    def encode_record(self, name: str, record: dict[str, Any]) -> bytes:
        """Single-object encode a plain record with the named schema."""
        buf = io.BytesIO()
        buf.write(self._headers[name])
        fastavro.schemaless_writer(buf, self._parsed[name], record)
        return buf.getvalue()

    def decode_record(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """The schema name and record in single-object-encoded bytes."""
        return self._read(data, plain=False)

    def decode_plain(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """As decode_record, but values stay as Avro stores them: no logical types, so
        timestamps are epoch milliseconds, dates epoch days and UUIDs strings. About 3x
        faster for consumers that convert only the few fields they need."""
        return self._read(data, plain=True)

    def _plain_schema(self, name: str) -> Any:
        """The schema in Parsing Canonical Form (what the fingerprint covers): logical types,
        docs and defaults dropped, the same binary layout."""
        plain = self._plain.get(name)
        if plain is None:
            canonical = json.loads(to_parsing_canonical_form(self._parsed[name]))
            plain = self._plain[name] = fastavro.parse_schema(canonical)  # self-contained
        return plain

    def _read(self, data: bytes, plain: bool) -> tuple[str, dict[str, Any]]:
        if len(data) < HEADER_LEN or data[:2] != MAGIC:
            raise CodecError("not_single_object", "missing the 0xC3 0x01 single-object header")
        header = bytes(data[:HEADER_LEN])
        name = self._by_header.get(header)
        if name is None:
            raise CodecError("unknown_fingerprint", f"schema fingerprint {data[2:10].hex()}")
        buf = io.BytesIO(data)
        buf.seek(HEADER_LEN)
        typed = None if plain else self._typing.get(name, _BY_FASTAVRO)
        by_fastavro = typed is _BY_FASTAVRO
        writer = self._older.get(header)
        try:
            if writer is not None:  # resolved: fastavro converts the typed read's values
                reader = self._plain_reader(name) if plain else self._parsed[name]
                record = fastavro.schemaless_reader(buf, writer[plain], reader)
            else:
                schema = self._parsed[name] if by_fastavro else self._plain_schema(name)
                record = fastavro.schemaless_reader(buf, schema, None)
                if typed is not None and not by_fastavro:
                    record = typed(record)
        except (EOFError, StopIteration, IndexError, ValueError) as exc:
            raise CodecError("truncated", f"{name} body ends early ({exc!r})") from exc
        if buf.tell() != len(data):
            raise CodecError("trailing_bytes", f"{len(data) - buf.tell()} bytes after {name}")
        read = typing.cast(dict[str, Any], record)
        if name == mark_batch.SCHEMA and (bad := mark_batch.unknown_context(read)) is not None:
            raise CodecError("bad_context", f"a mark names context {bad}, which is not there")
        return name, read

    def encode(self, event: Any) -> bytes:
        """Single-object encode a domain event."""
        cls = type(event)
        return self.encode_record(self._names[cls], self._recorders[cls](event))

    def decode(self, data: bytes) -> Any:
        """Decode bytes into the domain event they carry."""
        name, record = self.decode_record(data)
        build = self._builders.get(name)
        if build is None:
            raise CodecError("unknown_fingerprint", f"{name} is not an event schema")
        return build(record)

    def decode_all(self, data: bytes) -> list[Any]:
        """The domain events a message carries: itself, or each event of a batch."""
        return self.unpack(self.decode(data))

    def unpack(self, event: Any) -> list[Any]:
        """A decoded message's events: itself, or each event of a ChildEventsRecorded."""
        if not isinstance(event, ev.ChildEventsRecorded):
            return [event]
        inner = [self.decode(item) for item in event.events]
        if any(isinstance(e, ev.ChildEventsRecorded) for e in inner):
            raise CodecError("nested_batch", "a ChildEventsRecorded inside another")
        return inner

    def decode_plain_all(self, data: bytes) -> list[tuple[str, dict[str, Any]]]:
        """As decode_all, as plain records (see decode_plain)."""
        name, record = self.decode_plain(data)
        if name != BATCH:
            return [(name, record)]
        inner = [self.decode_plain(item) for item in record["events"]]
        if any(n == BATCH for n, _ in inner):
            raise CodecError("nested_batch", "a ChildEventsRecorded inside another")
        return inner

    def read_plain(self, data: bytes) -> list[Plain]:
        """As decode_plain_all, each record keyed by its domain event class (codec_plain.py)."""
        out = []
        for name, record in self.decode_plain_all(data):
            kind = self._types.get(name)
            if kind is None:
                raise CodecError("unknown_fingerprint", f"{name} is not an event schema")
            out.append(Plain(kind, record))
        return out

    @property
    def event_types(self) -> list[type[Any]]:
        """The domain event classes this codec reads."""
        return list(dict.fromkeys(self._types.values()))

    def encode_batch(self, events: Sequence[Any]) -> bytes:
        """One ChildEventsRecorded message carrying every event, each encoded on its own."""
        return self.encode(
            ev.ChildEventsRecorded(batch_id=uuid.uuid4(), events=[self.encode(e) for e in events])
        )

    def event_type(self, name: str) -> type[Any]:
        """The domain event class for a schema name."""
        return self._types[name]
