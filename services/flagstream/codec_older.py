"""Older writer schemas (schemas/older/): messages written before a schema changed are read by
Avro schema resolution, writer schema -> the current (reader) schema, as the spec's "Schema
Resolution" says: fields the reader lacks are skipped, fields the writer lacks take the
reader's default. No event class or consumer knows there was an older form."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import fastavro
from fastavro.schema import UnknownType

from . import schema_files

OLDER: Final = "older"  # the folder beside a schemas folder's .avsc files


def older_files(dirs: Sequence[Path]) -> Iterator[Path]:
    """Every older writer schema in the schema folders, e.g. older/DomesticAbuseNotified.1.avsc."""
    for d in dirs:
        yield from sorted((d / OLDER).glob("*.avsc"))


def full_name(raw: dict[str, Any]) -> str:
    """The record's full name: what resolution matches writer and reader by."""
    name = raw["name"]
    return name if "." in name else f"{raw.get('namespace', '')}.{name}".lstrip(".")


def read_json(path: Path) -> dict[str, Any]:
    """An .avsc file's JSON."""
    value = json.loads(path.read_text())
    if not isinstance(value, dict) or value.get("type") != "record":
        raise ValueError(f"{path}: an older schema must be a record")
    return value


def without_logical(node: Any) -> Any:
    """The schema with logical types dropped but defaults and aliases kept: the plain reader
    schema when resolving (the canonical form drops defaults, which resolution needs)."""
    if isinstance(node, list):
        return [without_logical(n) for n in node]
    if isinstance(node, dict):
        if "logicalType" in node:
            return without_logical({k: v for k, v in node.items() if k != "logicalType"})
        return {k: without_logical(v) for k, v in node.items()}
    return node


def with_names(
    raw: dict[str, Any], definition: Callable[[str], tuple[dict[str, Any], str] | None]
) -> Any:
    """A schema parsed as before schemas were self-contained, other files' types known by name
    only: its fingerprint is the header such messages carry (same layout, another header)."""
    named: dict[str, Any] = {}
    while True:
        try:
            return fastavro.parse_schema(raw, named_schemas=named)
        except UnknownType as missing:
            found = definition(missing.name)
            if found is None:
                raise
            whole = schema_files.self_contained({**found[0], "namespace": found[1]}, definition)
            fastavro.parse_schema(whole, named_schemas=named)
