"""Save and load a generated run (county plus register stream) as JSON Lines or Avro."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, cast, get_args

import fastavro

from flagstream.domain.events import Phase, Session, Sex

from .model import County, Pupil, RawMark, Register, School

PathLike = str | os.PathLike[str]
Item = tuple[str, dict[str, Any]]  # (kind, payload)
Dates = Callable[[Any], Any]  # how a date is written, or read back

_NS: Final = "flagstream.generator"
_DATE: Final = {"type": "int", "logicalType": "date"}


def _enum(name: str, literal: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(get_args(literal))}


# Avro type for each annotation the model's dataclasses use (model.py postpones annotations,
# so they arrive as strings); enum names are defined once, so each Literal appears once.
_AVRO: Final[dict[str, Any]] = {
    "str": "string",
    "int": "int",
    "dt.date": _DATE,
    "Phase": _enum("Phase", Phase),
    "Sex": _enum("Sex", Sex),
    "Session": _enum("Session", Session),
}
_CHECKS: Final = {k: set(v["symbols"]) for k, v in _AVRO.items() if k[0].isupper()}
_SESSIONS: Final[dict[str, Session]] = {s: s for s in get_args(Session)}


def _record(cls: type[Any]) -> dict[str, Any]:
    """An Avro record schema with one field per dataclass field."""
    fs = [{"name": f.name, "type": _AVRO[str(f.type)]} for f in fields(cls)]
    return {"type": "record", "name": cls.__name__, "fields": fs}


def _plain(obj: Any, day: Dates) -> dict[str, Any]:
    return {f.name: _convert(str(f.type), getattr(obj, f.name), day) for f in fields(obj)}


def _convert(kind: str, value: Any, day: Dates) -> Any:
    if kind == "dt.date":
        return day(value)
    if kind in _CHECKS and value not in _CHECKS[kind]:
        raise ValueError(f"{value!r} is not a {kind}")
    return value


def _build(cls: type[Any], d: dict[str, Any], day: Dates) -> Any:
    return cls(**{f.name: _convert(str(f.type), d[f.name], day) for f in fields(cls)})


# One container-file record per line of the JSONL form; the `item` branch says which kind.
SCHEMA: Final[dict[str, Any]] = {
    "type": "record",
    "name": "RunItem",
    "namespace": _NS,
    "doc": "One item of a synthetic generator run: county, school, pupil or register.",
    "fields": [
        {
            "name": "item",
            "type": [
                {
                    "type": "record",
                    "name": "County",
                    "fields": [{"name": "name", "type": "string"}],
                },
                _record(School),
                _record(Pupil),
                {
                    "type": "record",
                    "name": "Register",
                    "fields": [
                        {"name": "urn", "type": "string"},
                        {"name": "day", "type": _DATE},
                        {"name": "marks", "type": {"type": "array", "items": _record(RawMark)}},
                    ],
                },
            ],
        }
    ],
}
_PARSED: Final = fastavro.parse_schema(SCHEMA)
_KINDS: Final = ("county", "school", "pupil", "register")
_RECORD_OF: Final = {kind: f"{_NS}.{kind.title()}" for kind in _KINDS}
_KIND_OF: Final = {name: kind for kind, name in _RECORD_OF.items()}


def _items(county: County, regs: Iterable[Register], day: Dates) -> Iterator[Item]:
    """The run as (kind, payload) pairs, with dates written by `day`."""
    yield "county", {"name": county.name}
    for s in county.schools:
        yield "school", _plain(s, day)
    for p in county.pupils:
        yield "pupil", _plain(p, day)
    for r in regs:
        # Spelled out rather than _plain: registers hold nearly all the marks.
        marks = [
            {"upn": m.upn, "date": day(m.date), "session": m.session, "code": m.code}
            for m in r.marks
        ]
        yield "register", {"urn": r.urn, "day": day(r.day), "marks": marks}


def _load(items: Iterable[Item], day: Dates) -> tuple[County, list[Register]]:
    """Rebuild the run from (kind, payload) pairs, reading dates with `day`."""
    name: str | None = None
    schools: list[School] = []
    pupils: list[Pupil] = []
    regs: list[Register] = []
    for kind, d in items:
        if kind == "register":
            marks = tuple(
                RawMark(m["upn"], day(m["date"]), _SESSIONS[m["session"]], m["code"])
                for m in d["marks"]
            )
            regs.append(Register(d["urn"], day(d["day"]), marks))
        elif kind == "pupil":
            pupils.append(_build(Pupil, d, day))
        elif kind == "school":
            schools.append(_build(School, d, day))
        elif kind == "county":
            name = d["name"]
        else:
            raise ValueError(f"unknown item kind {kind!r}")
    if name is None:
        raise ValueError("not a generator run: no county item")
    return County(name, tuple(schools), tuple(pupils)), regs


def _same(value: Any) -> Any:
    # Avro's date logical type already reads and writes date objects.
    return value


def write_jsonl(path: PathLike, county: County, regs: Iterable[Register]) -> int:
    """Write the run as JSON Lines (dates as ISO strings); returns the number of lines."""
    lines = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for kind, payload in _items(county, regs, date.isoformat):
            f.write(json.dumps({"kind": kind, **payload}, separators=(",", ":")))
            f.write("\n")
            lines += 1
    return lines


def read_jsonl(path: PathLike) -> tuple[County, list[Register]]:
    """Read a run written by write_jsonl."""
    # Marks repeat a handful of dates, so parse each distinct string once.
    parse = lru_cache(maxsize=4096)(date.fromisoformat)

    def items() -> Iterator[Item]:
        with Path(path).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    yield d.pop("kind"), d

    return _load(items(), parse)


def write_avro(path: PathLike, county: County, regs: Iterable[Register]) -> int:
    """Write the run as an Avro container file; returns the number of records."""
    count = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal count
        for kind, payload in _items(county, regs, _same):
            count += 1
            yield {"item": (_RECORD_OF[kind], payload)}

    with Path(path).open("wb") as f:
        fastavro.writer(f, _PARSED, records(), codec="deflate")
    return count


def read_avro(path: PathLike) -> tuple[County, list[Register]]:
    """Read a run written by write_avro."""

    def items() -> Iterator[Item]:
        with Path(path).open("rb") as f:
            for record in fastavro.reader(f, return_record_name=True):
                # With return_record_name, a union of records reads back as (name, record).
                name, payload = cast(dict[str, tuple[str, dict[str, Any]]], record)["item"]
                yield _KIND_OF[name], payload

    return _load(items(), _same)


_FORMATS: Final = {
    ".jsonl": (write_jsonl, read_jsonl),
    ".avro": (write_avro, read_avro),
}


def _format(path: PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"cannot tell the run format of {os.fspath(path)!r}: "
            f"use a {' or '.join(_FORMATS)} suffix, not {suffix or 'none'!r}"
        )
    return suffix


def write_run(path: PathLike, county: County, regs: Iterable[Register]) -> int:
    """Write the run as JSONL or Avro, chosen by the path's suffix; returns items written."""
    return _FORMATS[_format(path)][0](path, county, regs)


def read_run(path: PathLike) -> tuple[County, list[Register]]:
    """Read a run written by write_run, choosing the format by the path's suffix."""
    return _FORMATS[_format(path)][1](path)
