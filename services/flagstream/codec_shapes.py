"""Domain dataclasses <-> Avro records, with each class's field walk worked out once, and
where in a folder of .avsc files each named type is defined."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def _to_record(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_record(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_to_record(v) for v in value]
    return value


def _has_dataclass(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) or any(_has_dataclass(a) for a in typing.get_args(hint))


def recorder(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """A function turning a cls instance into its Avro record: `_to_record` with the field
    walk worked out once per class (the flagger encodes ~30,000 snapshots a second)."""
    hints = typing.get_type_hints(cls)
    plain: list[str] = []
    nested: dict[str, Callable[[Any], Any]] = {}
    for f in dataclasses.fields(cls):
        hint, args = hints[f.name], typing.get_args(hints[f.name])
        if dataclasses.is_dataclass(hint):
            nested[f.name] = recorder(hint)  # type: ignore[arg-type]
        elif typing.get_origin(hint) is list and args and dataclasses.is_dataclass(args[0]):
            nested[f.name] = _list_of(recorder(args[0]))  # type: ignore[arg-type]
        elif _has_dataclass(hint):
            nested[f.name] = _to_record  # e.g. an optional record: the general walk
        else:
            plain.append(f.name)

    def record(value: Any) -> dict[str, Any]:
        out = {name: getattr(value, name) for name in plain}
        for name, convert in nested.items():
            out[name] = convert(getattr(value, name))
        return out

    return record


def _list_of(item: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    return lambda values: [item(v) for v in values]


def builder(cls: type[Any]) -> Callable[[dict[str, Any]], Any]:
    """A function turning a decoded record into cls, recursing into nested dataclasses."""
    hints = typing.get_type_hints(cls)
    nested: dict[str, Callable[[Any], Any]] = {}
    for name, hint in hints.items():
        args = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            nested[name] = builder(hint)  # type: ignore[arg-type]
        elif typing.get_origin(hint) is list and args and dataclasses.is_dataclass(args[0]):
            nested[name] = _list_of(builder(args[0]))  # type: ignore[arg-type]

    def build(record: dict[str, Any]) -> Any:
        for name, convert in nested.items():
            record[name] = convert(record[name])
        return cls(**record)

    return build


def by_name(events: Mapping[type[Any], str]) -> dict[str, type[Any]]:
    """Schema name -> event class."""
    return {name: cls for cls, name in events.items()}


def named_types(schemas_dir: Path) -> dict[str, str]:
    """Full name of every named type defined in the folder's schemas -> its file's stem, so
    a schema can refer to a type defined inside another file (an enum in a record's file)."""
    found: dict[str, str] = {}

    def walk(node: Any, namespace: str, stem: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, namespace, stem)
        elif isinstance(node, dict):
            if node.get("type") in ("record", "enum", "fixed") and "name" in node:
                namespace = node.get("namespace", namespace)
                name = node["name"]
                found.setdefault(name if "." in name else f"{namespace}.{name}", stem)
            for value in node.values():
                walk(value, namespace, stem)

    for path in sorted(schemas_dir.glob("*.avsc")):
        walk(json.loads(path.read_text()), "", path.stem)
    return found
