"""Save and load a generated run (county plus registers, or a whole timeline) as JSONL or Avro."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, cast, overload

import fastavro

from flagstream_tools.generator.model import County, Item, Register
from flagstream_tools.generator.records import KIND_OF, RECORD_OF, SCHEMA, Pair, load, pairs

__all__ = [
    "SCHEMA",
    "read_avro",
    "read_jsonl",
    "read_run",
    "read_timeline",
    "write_avro",
    "write_jsonl",
    "write_run",
    "write_timeline",
]

PathLike = str | os.PathLike[str]
Run = tuple[County, list[Register]]
Timeline = tuple[County, list[Item]]

_PARSED: Final = fastavro.parse_schema(SCHEMA)


def _same(value: Any) -> Any:
    # Avro's date logical type already reads and writes date objects.
    return value


def _registers_only(path: PathLike, run: Timeline) -> Run:
    county, items = run
    regs = [r for r in items if isinstance(r, Register)]
    if len(regs) != len(items):
        raise ValueError(
            f"{os.fspath(path)!r} is a timeline with partner records, not only registers: "
            "read it with read_timeline (or timeline=True)"
        )
    return county, regs


def write_jsonl(path: PathLike, county: County, regs: Iterable[Item]) -> int:
    """Write the run (registers, or any timeline items) as JSON Lines; returns lines written.

    Dates are ISO strings; each line is an object whose `kind` says what it holds.
    """
    lines = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for kind, payload in pairs(county, regs, date.isoformat):
            f.write(json.dumps({"kind": kind, **payload}, separators=(",", ":")))
            f.write("\n")
            lines += 1
    return lines


@overload
def read_jsonl(path: PathLike, *, timeline: Literal[False] = False) -> Run: ...
@overload
def read_jsonl(path: PathLike, *, timeline: Literal[True]) -> Timeline: ...
def read_jsonl(path: PathLike, *, timeline: bool = False) -> Run | Timeline:
    """Read a run written by write_jsonl; with timeline=True, partner records too."""
    # Marks repeat a handful of dates, so parse each distinct string once.
    parse = lru_cache(maxsize=4096)(date.fromisoformat)

    def items() -> Iterator[Pair]:
        with Path(path).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    yield d.pop("kind"), d

    run = load(items(), parse)
    return run if timeline else _registers_only(path, run)


def write_avro(path: PathLike, county: County, regs: Iterable[Item]) -> int:
    """Write the run (registers, or any timeline items) as an Avro container file.

    Returns the number of records written.
    """
    count = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal count
        for kind, payload in pairs(county, regs, _same):
            count += 1
            yield {"item": (RECORD_OF[kind], payload)}

    with Path(path).open("wb") as f:
        fastavro.writer(f, _PARSED, records(), codec="deflate")
    return count


@overload
def read_avro(path: PathLike, *, timeline: Literal[False] = False) -> Run: ...
@overload
def read_avro(path: PathLike, *, timeline: Literal[True]) -> Timeline: ...
def read_avro(path: PathLike, *, timeline: bool = False) -> Run | Timeline:
    """Read a run written by write_avro; with timeline=True, partner records too."""

    def items() -> Iterator[Pair]:
        with Path(path).open("rb") as f:
            for record in fastavro.reader(f, return_record_name=True):
                # With return_record_name, a union of records reads back as (name, record).
                name, payload = cast(dict[str, tuple[str, dict[str, Any]]], record)["item"]
                yield KIND_OF[name], payload

    run = load(items(), _same)
    return run if timeline else _registers_only(path, run)


_SUFFIXES: Final = (".jsonl", ".avro")


def _format(path: PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(
            f"cannot tell the run format of {os.fspath(path)!r}: "
            f"use a {' or '.join(_SUFFIXES)} suffix, not {suffix or 'none'!r}"
        )
    return suffix


def write_run(path: PathLike, county: County, regs: Iterable[Item]) -> int:
    """Write the run as JSONL or Avro, chosen by the path's suffix; returns items written."""
    write = write_jsonl if _format(path) == ".jsonl" else write_avro
    return write(path, county, regs)


@overload
def read_run(path: PathLike, *, timeline: Literal[False] = False) -> Run: ...
@overload
def read_run(path: PathLike, *, timeline: Literal[True]) -> Timeline: ...
def read_run(path: PathLike, *, timeline: bool = False) -> Run | Timeline:
    """Read a run written by write_run, choosing the format by the path's suffix."""
    jsonl = _format(path) == ".jsonl"
    if timeline:
        return read_jsonl(path, timeline=True) if jsonl else read_avro(path, timeline=True)
    return read_jsonl(path) if jsonl else read_avro(path)


def write_timeline(path: PathLike, county: County, items: Iterable[Item]) -> int:
    """Write a timeline (county, then items in order) as .jsonl or .avro by the suffix."""
    return write_run(path, county, items)


def read_timeline(path: PathLike) -> Timeline:
    """Read a timeline (or a register-only run) written by write_timeline or write_run."""
    return read_run(path, timeline=True)
