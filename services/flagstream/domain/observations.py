"""Generic dated facts, so a new data stream needs a schema and a rule, not new state code.

A stream maps each of its events to an Observation (stream name, the partner's reference,
a date and a value); the child's state keeps the latest observation per (stream, ref), the
newest `keep` per stream. Rules for the stream read `state.observed(stream)`. Register a
stream once at import time with `register_stream` (see docs/adding-a-stream.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class Observation:
    """One dated fact from an extension stream, e.g. ('asb', 'INC-42', 2026-10-01, 'youth')."""

    stream: str
    ref: str
    on: date
    value: str


@dataclass(frozen=True, slots=True)
class Stream:
    """An extension data stream: its event type and how an event becomes an observation."""

    name: str
    event_type: type[Any]
    observe: Callable[[Any], Observation]
    keep: int = 50  # Newest observations kept per child: bounds state size.


STREAMS: dict[type[Any], Stream] = {}


def register_stream(stream: Stream) -> Stream:
    """Make the flagger and the oracle accept the stream's events (idempotent)."""
    existing = STREAMS.get(stream.event_type)
    if existing is not None and existing != stream:
        raise ValueError(f"{stream.event_type.__name__} is already stream {existing.name!r}")
    STREAMS[stream.event_type] = stream
    return stream


def merge(held: tuple[Observation, ...], new: Observation, keep: int) -> tuple[Observation, ...]:
    """Latest per (stream, ref) wins; the newest `keep` of the stream are kept."""
    others = [o for o in held if o.stream != new.stream]
    same = {o.ref: o for o in held if o.stream == new.stream}
    same[new.ref] = new
    newest = sorted(same.values(), key=lambda o: (o.on, o.ref))[-keep:]
    return tuple(others + newest)
