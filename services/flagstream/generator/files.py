"""Save and load a generated run (county plus register stream) as JSON Lines or Avro."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, cast, get_args

import fastavro

from flagstream.domain.events import Phase, Session, Sex

from .model import County, Pupil, RawMark, Register, School

PathLike = str | os.PathLike[str]
Item = tuple[str, dict[str, Any]]  # (kind, payload)

_PHASES: Final[dict[str, Phase]] = {p: p for p in get_args(Phase)}
_SEXES: Final[dict[str, Sex]] = {s: s for s in get_args(Sex)}
_SESSIONS: Final[dict[str, Session]] = {s: s for s in get_args(Session)}

_NS: Final = "flagstream.generator"
_DATE: Final = {"type": "int", "logicalType": "date"}
_STR: Final = "string"


def _record(name: str, *fields: tuple[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": n, "type": t} for n, t in fields]}


def _enum(name: str, symbols: Iterable[str]) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(symbols)}


_MARK: Final = _record(
    "Mark", ("upn", _STR), ("date", _DATE), ("session", _enum("Session", _SESSIONS)), ("code", _STR)
)
# One container-file record per line of the JSONL form; the `item` branch says which kind.
SCHEMA: Final[dict[str, Any]] = {
    **_record(
        "RunItem",
        (
            "item",
            [
                _record("County", ("name", _STR)),
                _record(
                    "School",
                    ("urn", _STR),
                    ("name", _STR),
                    ("phase", _enum("Phase", _PHASES)),
                    ("pyramid", _STR),
                    ("zone", _STR),
                    ("la_code", "int"),
                    ("establishment", "int"),
                ),
                _record(
                    "Pupil",
                    ("upn", _STR),
                    ("urn", _STR),
                    ("nc_year", "int"),
                    ("sex", _enum("Sex", _SEXES)),
                    ("month_of_birth", _STR),
                    ("joined_on", _DATE),
                ),
                _record(
                    "Register",
                    ("urn", _STR),
                    ("day", _DATE),
                    ("marks", {"type": "array", "items": _MARK}),
                ),
            ],
        ),
    ),
    "namespace": _NS,
    "doc": "One item of a synthetic generator run: county, school, pupil or register.",
}
_PARSED: Final = fastavro.parse_schema(SCHEMA)
_KINDS: Final = ("county", "school", "pupil", "register")
_RECORD_OF: Final = {kind: f"{_NS}.{kind.title()}" for kind in _KINDS}
_KIND_OF: Final = {name: kind for kind, name in _RECORD_OF.items()}


def _items(county: County, regs: Iterable[Register], day: Callable[[date], Any]) -> Iterator[Item]:
    """The run as (kind, payload) pairs, with dates written by `day`."""
    yield "county", {"name": county.name}
    for s in county.schools:
        yield (
            "school",
            {
                "urn": s.urn,
                "name": s.name,
                "phase": s.phase,
                "pyramid": s.pyramid,
                "zone": s.zone,
                "la_code": s.la_code,
                "establishment": s.establishment,
            },
        )
    for p in county.pupils:
        yield (
            "pupil",
            {
                "upn": p.upn,
                "urn": p.urn,
                "nc_year": p.nc_year,
                "sex": p.sex,
                "month_of_birth": p.month_of_birth,
                "joined_on": day(p.joined_on),
            },
        )
    for r in regs:
        marks = [
            {"upn": m.upn, "date": day(m.date), "session": m.session, "code": m.code}
            for m in r.marks
        ]
        yield "register", {"urn": r.urn, "day": day(r.day), "marks": marks}


def _load(items: Iterable[Item], day: Callable[[Any], date]) -> tuple[County, list[Register]]:
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
            pupils.append(
                Pupil(
                    d["upn"],
                    d["urn"],
                    int(d["nc_year"]),
                    _SEXES[d["sex"]],
                    d["month_of_birth"],
                    day(d["joined_on"]),
                )
            )
        elif kind == "school":
            schools.append(
                School(
                    d["urn"],
                    d["name"],
                    _PHASES[d["phase"]],
                    d["pyramid"],
                    d["zone"],
                    int(d["la_code"]),
                    int(d["establishment"]),
                )
            )
        elif kind == "county":
            name = d["name"]
        else:
            raise ValueError(f"unknown item kind {kind!r}")
    if name is None:
        raise ValueError("not a generator run: no county item")
    return County(name, tuple(schools), tuple(pupils)), regs


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
        for kind, payload in _items(county, regs, lambda d: d):
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

    return _load(items(), lambda d: d)


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
