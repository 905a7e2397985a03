"""Avro logical types from plain values, by hand: the objects fastavro's typed reader returns,
for less. fastavro reads a 9-field mark in ~10 us with logical types and ~5 us without, and
a register message repeats the same few dates and times hundreds of times; so the codec
reads plain and converts here, once per distinct date and time."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_CACHE_LIMIT: Final = 65_536  # distinct dates and times kept

Convert = Callable[[Any], Any]


class Unsupported(ValueError):
    """A schema with a logical type this module does not convert (use fastavro's reader)."""


def uuid_of_int(value: int) -> uuid.UUID:
    """uuid.UUID(int=value) without the constructor's argument checks (~4x faster), for
    values the codec has just read; value must already be a 128-bit unsigned int."""
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
    return made


def uuid_from_str(text: str) -> uuid.UUID:
    """uuid.UUID(text) for the canonical 36-character form, ~4x faster: UUID's constructor
    accepts many spellings and checks each; Avro's uuid type is the canonical one."""
    digits = text.replace("-", "")
    if len(digits) != 32 or len(text) != 36:
        raise ValueError(f"not a canonical UUID: {text!r}")
    return uuid_of_int(int(digits, 16))


@functools.lru_cache(maxsize=_CACHE_LIMIT)
def date_of(days: int) -> date:
    """An Avro date (days since 1970-01-01) as a date; each distinct value built once."""
    return date.fromordinal(days + EPOCH_ORDINAL)


@functools.lru_cache(maxsize=_CACHE_LIMIT)
def time_of(millis: int) -> datetime:
    """An Avro timestamp-millis as an aware UTC datetime; each distinct value built once."""
    return EPOCH + timedelta(milliseconds=millis)


_LOGICAL: Final[dict[str, Convert]] = {
    "date": date_of,
    "timestamp-millis": time_of,
    "uuid": uuid_from_str,
}


def converter(
    schema: Any, named: dict[str, Any], visiting: frozenset[str] = frozenset()
) -> Convert | None:
    """How to turn a plain value of this (parsed) schema into the typed one; None when the
    plain value is already it. Raises Unsupported for a logical type not handled here."""
    if isinstance(schema, str):
        if schema not in named:
            return None  # a primitive type's name
        if schema in visiting:
            raise Unsupported(f"recursive type {schema}")
        return converter(named[schema], named, visiting | {schema})
    if isinstance(schema, list):
        return _union(schema, named, visiting)
    logical = schema.get("logicalType")
    if logical is not None:
        if logical not in _LOGICAL:
            raise Unsupported(f"logical type {logical}")
        return _LOGICAL[logical]
    kind = schema["type"]
    if kind == "record":
        return _record(schema, named, visiting)
    if kind == "array":
        item = converter(schema["items"], named, visiting)
        return None if item is None else (lambda values: [item(v) for v in values])
    if kind == "map":
        value = converter(schema["values"], named, visiting)
        return None if value is None else (lambda m: {k: value(v) for k, v in m.items()})
    if isinstance(kind, dict | list):
        return converter(kind, named, visiting)
    return None


def _record(
    schema: dict[str, Any], named: dict[str, Any], visiting: frozenset[str]
) -> Convert | None:
    fields = {f["name"]: converter(f["type"], named, visiting) for f in schema["fields"]}
    convert = {name: c for name, c in fields.items() if c is not None}
    if not convert:
        return None

    def record(value: dict[str, Any]) -> dict[str, Any]:
        for name, c in convert.items():
            value[name] = c(value[name])
        return value

    return record


def _union(branches: list[Any], named: dict[str, Any], visiting: frozenset[str]) -> Convert | None:
    typed = [b for b in branches if b != "null"]
    if len(typed) != 1:  # which branch was read is not in the plain value
        if any(converter(b, named, visiting) is not None for b in typed):
            raise Unsupported("a union of several branches with logical types")
        return None
    inner = converter(typed[0], named, visiting)
    if inner is None:
        return None
    return lambda value: None if value is None else inner(value)
