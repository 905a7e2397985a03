"""The run file record layer: every run item as a (kind, payload) pair, and its Avro schema."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, fields
from typing import Any, Final, get_args

from flagstream.domain.events import Phase, Session, Sex
from flagstream_tools.generator.model import (
    AssessmentRecorded,
    County,
    DayEnded,
    DomesticAbuseNotified,
    EarlyYearsRecorded,
    EnrolmentChanged,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    Pupil,
    RawMark,
    Register,
    School,
    SenProvision,
    SenRecorded,
)

Pair = tuple[str, dict[str, Any]]  # (kind, payload)
Dates = Callable[[Any], Any]  # how a date is written, or read back

_NS: Final = "flagstream.generator"  # Avro namespace of partner files: kept when the package moved
_DATE: Final = {"type": "int", "logicalType": "date"}


def _enum(name: str, literal: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(get_args(literal))}


# Avro type for each annotation the model's dataclasses use (model.py postpones annotations,
# so they arrive as strings); _once defines each enum at its first use.
_AVRO: Final[dict[str, Any]] = {
    "str": "string",
    "str | None": ["null", "string"],
    "int": "int",
    "bool": "boolean",
    "dt.date": _DATE,
    "dt.date | None": ["null", _DATE],
    "tuple[str, ...]": {"type": "array", "items": "string"},
    "Phase": _enum("Phase", Phase),
    "Sex": _enum("Sex", Sex),
    "Session": _enum("Session", Session),
    "SenProvision": _enum("SenProvision", SenProvision),
}
_CHECKS: Final = {k: set(v["symbols"]) for k, v in _AVRO.items() if k[0].isupper()}
SESSIONS: Final[dict[str, Session]] = {s: s for s in get_args(Session)}


_DEFINED: set[str] = set()  # enums already written into SCHEMA, which is built once


def _once(avro: Any) -> Any:
    """An enum's definition the first time SCHEMA uses it, its full name after that."""
    if isinstance(avro, dict) and avro.get("type") == "enum":
        if avro["name"] in _DEFINED:
            return f"{_NS}.{avro['name']}"  # Avro refuses a named type defined twice
        _DEFINED.add(avro["name"])
    return avro


def _record(cls: type[Any]) -> dict[str, Any]:
    """An Avro record schema with one field per dataclass field; a field with a default
    (added later, e.g. a pupil's household) has it in the schema too."""
    fs = [
        {"name": f.name, "type": _once(_AVRO[str(f.type)])}
        | ({} if f.default is MISSING else {"default": f.default})
        for f in fields(cls)
    ]
    return {"type": "record", "name": cls.__name__, "fields": fs}


def _plain(obj: Any, day: Dates) -> dict[str, Any]:
    return {f.name: _convert(str(f.type), getattr(obj, f.name), day, list) for f in fields(obj)}


def _convert(kind: str, value: Any, day: Dates, seq: Callable[[Any], Any]) -> Any:
    if kind == "dt.date" or (kind == "dt.date | None" and value is not None):
        return day(value)
    if kind == "tuple[str, ...]":
        return seq(value)  # JSON and Avro hold lists; the model holds tuples
    if kind in _CHECKS and value not in _CHECKS[kind]:
        raise ValueError(f"{value!r} is not a {kind}")
    return value


def _build(cls: type[Any], d: dict[str, Any], day: Dates) -> Any:
    """The dataclass from its payload; a field with a default may be absent (a file written
    before the field was added)."""
    return cls(
        **{
            f.name: _convert(str(f.type), d[f.name], day, tuple)
            for f in fields(cls)
            if f.name in d or f.default is MISSING
        }
    )


# The partner-source kinds a timeline adds to a register run, by JSONL kind.
_SOURCES: Final[dict[str, type[Any]]] = {
    "sen": SenRecorded,
    "fsm": FsmRecorded,
    "assessment": AssessmentRecorded,
    "family_case": FamilyCaseRecorded,
    "domestic_abuse": DomesticAbuseNotified,
    "day_ended": DayEnded,
    "enrolment_changed": EnrolmentChanged,
    "early_years": EarlyYearsRecorded,
}
_KIND_OF_CLASS: Final = {cls: kind for kind, cls in _SOURCES.items()}

# One container-file record per line of the JSONL form; the `item` branch says which kind.
# New branches go at the end, so register-only runs encode exactly as before.
SCHEMA: Final[dict[str, Any]] = {
    "type": "record",
    "name": "RunItem",
    "namespace": _NS,
    "doc": "One item of a synthetic generator run: county, school, pupil, register or "
    "partner-source record.",
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
                *(_record(cls) for cls in _SOURCES.values()),
            ],
        }
    ],
}
RECORD_OF: Final = {
    **{kind: f"{_NS}.{kind.title()}" for kind in ("county", "school", "pupil", "register")},
    **{kind: f"{_NS}.{cls.__name__}" for kind, cls in _SOURCES.items()},
}
KIND_OF: Final = {name: kind for kind, name in RECORD_OF.items()}


def pairs(county: County, items: Iterable[Item], day: Dates) -> Iterator[Pair]:
    """The run as (kind, payload) pairs, with dates written by `day`."""
    yield "county", {"name": county.name}
    for s in county.schools:
        yield "school", _plain(s, day)
    for p in county.pupils:
        yield "pupil", _plain(p, day)
    for r in items:
        if not isinstance(r, Register):
            yield _KIND_OF_CLASS[type(r)], _plain(r, day)
            continue
        # Spelled out rather than _plain: registers hold nearly all the marks.
        marks = [
            {"upn": m.upn, "date": day(m.date), "session": m.session, "code": m.code}
            for m in r.marks
        ]
        yield "register", {"urn": r.urn, "day": day(r.day), "marks": marks}


def load(items: Iterable[Pair], day: Dates) -> tuple[County, list[Item]]:
    """Rebuild the run from (kind, payload) pairs, reading dates with `day`."""
    name: str | None = None
    schools: list[School] = []
    pupils: list[Pupil] = []
    out: list[Item] = []
    for kind, d in items:
        if kind == "register":
            marks = tuple(
                RawMark(m["upn"], day(m["date"]), SESSIONS[m["session"]], m["code"])
                for m in d["marks"]
            )
            out.append(Register(d["urn"], day(d["day"]), marks))
        elif kind in _SOURCES:
            out.append(_build(_SOURCES[kind], d, day))
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
    return County(name, tuple(schools), tuple(pupils)), out
