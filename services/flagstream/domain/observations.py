"""Generic dated facts, so a new data stream needs a schema and a rule, not new state code.

A generic stream maps each of its events to an Observation (stream name = the kind's label
in the catalogue, the partner's reference, a date and a value); the child's state keeps the
latest observation per (stream, ref), the newest `keep` per stream. Rules for the stream
read `state.observed(stream)`. The stream is declared once in the catalogue
(flagstream/catalogue.py, `EventKind(observe=...)`; docs/adding-a-stream.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Observation:
    """One dated fact from an extension stream, e.g. ('asb', 'INC-42', 2026-10-01, 'youth')."""

    stream: str
    ref: str
    on: date
    value: str


def merge(held: tuple[Observation, ...], new: Observation, keep: int) -> tuple[Observation, ...]:
    """Latest per (stream, ref) wins; the newest `keep` of the stream are kept."""
    others = [o for o in held if o.stream != new.stream]
    same = {o.ref: o for o in held if o.stream == new.stream}
    same[new.ref] = new
    newest = sorted(same.values(), key=lambda o: (o.on, o.ref))[-keep:]
    return tuple(others + newest)
