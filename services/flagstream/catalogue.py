"""The catalogue of event kinds: each kind is declared here once, and every service reads it.

An entry says what a kind is on the wire (its Avro schema), where it travels (its topic and
the field its messages are keyed by), how it is counted (its metric label, also ingest's
kind name and an API key's scope entry), how it changes a child's state (a domain mutator,
or an `observe` function for a generic stream), which read-model source it refreshes, and,
for a stream ingest accepts generically, how a partner sends it (`Intake`).

Who reads what (docs/architecture.md "The catalogue"):
* the codec: `schemas()` - the classes it builds, by schema name;
* ingest: `labels` and `Intake` - bespoke kinds (registers, enrolments, ...) keep their own
  models and validators under the same label; a kind with an `Intake` is accepted by the
  generic stream endpoint with no ingest code;
* the flagger: `mutator()`, `apply_all()`, `label_of()`, `child_input()`;
* the projector and the read model: `freshness_sources()` and each kind's `Freshness`.

The batch oracle (flagstream_tools/oracle.py) keeps plain code of its own for the built-in
kinds - it must not share the flagger's state code to be worth comparing with - and takes
extension streams, which are pure observations, from the catalogue.

A new stream is one `register()` call, its schema and its rule (docs/adding-a-stream.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from .core_kinds import core_kinds
from .domain import events as ev
from .domain import state as st
from .domain.observations import Observation
from .event_kinds import EventKind, Freshness, Intake, Mutator

__all__ = ["EventKind", "Freshness", "Intake", "Mutator"]

_KINDS: dict[type[Any], EventKind] = {}
_LABELS: dict[str, EventKind] = {}
_GENERATION = [0]  # bumped by every change, so readers may cache what they derive


def generation() -> int:
    """A number that changes whenever a kind is added or removed."""
    return _GENERATION[0]


def register(kind: EventKind) -> EventKind:
    """Add a kind (idempotent for the same entry); every service then handles it."""
    held = _KINDS.get(kind.event_type)
    if held is not None:
        if held == kind or _same_stream(held, kind):
            return held
        raise ValueError(f"{kind.event_type.__name__} is already kind {held.label!r}")
    if kind.label in _LABELS:
        raise ValueError(f"label {kind.label!r} is already {_LABELS[kind.label].schema}")
    _KINDS[kind.event_type] = kind
    _LABELS[kind.label] = kind
    _GENERATION[0] += 1
    return kind


def unregister(kind: EventKind) -> None:
    """Remove an extension kind (tests that add a kind for a while; see `registered`)."""
    if _KINDS.get(kind.event_type) is kind:
        del _KINDS[kind.event_type], _LABELS[kind.label]
        _GENERATION[0] += 1


@contextmanager
def registered(*added: EventKind) -> Iterator[tuple[EventKind, ...]]:
    """The kinds registered for the duration of a with-block (tests)."""
    held = tuple(register(k) for k in added)
    try:
        yield held
    finally:
        for kind in held:
            unregister(kind)


def _same_stream(a: EventKind, b: EventKind) -> bool:
    # Entries built twice by re-importing a module differ only in their generated mutator.
    return replace(a, mutate=None) == replace(b, mutate=None) and a.observe is not None


def kinds() -> Iterator[EventKind]:
    """Every kind, built-in first, in the order registered."""
    return iter(list(_KINDS.values()))


def of(event_type: type[Any]) -> EventKind | None:
    """The entry of an event class, None if it is not catalogued."""
    return _KINDS.get(event_type)


def labelled(label: str) -> EventKind | None:
    """The entry with this label, None if none."""
    return _LABELS.get(label)


def schemas() -> dict[type[Any], str]:
    """Event class -> Avro schema name, for the codec."""
    return {k.event_type: k.schema for k in _KINDS.values()}


def schema_dirs() -> list[Path]:
    """Extension schema folders, besides schemas/."""
    return sorted({k.schemas_dir for k in _KINDS.values() if k.schemas_dir is not None})


def mutator(event_type: type[Any]) -> Mutator | None:
    """How an event type changes a child's state; None if the flagger does not use it."""
    kind = _KINDS.get(event_type)
    return None if kind is None else kind.mutate


def child_input(event_type: type[Any]) -> bool:
    """True for a per-child event the flagger folds into a child's state."""
    kind = _KINDS.get(event_type)
    return kind is not None and kind.mutate is not None and kind.key == "child_key"


def label_of(event_type: type[Any]) -> str:
    """The metric label of an event class ("other" if it is not catalogued)."""
    kind = _KINDS.get(event_type)
    return "other" if kind is None else kind.label


# The topics partners' records reach (through ingest); a kind on them with a key is a record
# ingest's ledger counts under its label.
PARTNER_TOPICS = frozenset({"schools", "enrolments", "attendance", "child_events", "outcomes"})


def ledger_label(event_type: type[Any]) -> str | None:
    """The label ingest's ledger counts a partner record of this class under; None for
    batches, ticks, rules deployments and Flagstream's own output."""
    kind = _KINDS.get(event_type)
    if kind is None or kind.key is None or kind.topic not in PARTNER_TOPICS:
        return None
    return kind.label


def observed_streams() -> dict[str, int]:
    """Generic stream name (label) -> observations kept per child."""
    return {k.label: k.keep for k in _KINDS.values() if k.observe is not None}


def observe(event: Any) -> Observation | None:
    """A generic stream event's observation; None for any other event."""
    kind = _KINDS.get(type(event))
    return None if kind is None or kind.observe is None else kind.observe(event)


def freshness_sources() -> tuple[str, ...]:
    """Every read-model source, in catalogue order (the register's first)."""
    seen: dict[str, None] = {}
    for k in _KINDS.values():
        if k.freshness is not None:
            seen.setdefault(k.freshness.source)
    return tuple(seen)


def apply_all(state: st.ChildState, events: Iterable[object]) -> st.ChildState:
    """Fold events into the state, routed by event type; a run of marks is applied at once."""
    marks: list[ev.AttendanceMarkRecorded] = []
    for event in events:
        if type(event) is ev.AttendanceMarkRecorded:
            marks.append(event)
            continue
        if marks:
            state, marks = st.on_marks(state, marks), []
        apply = mutator(type(event))
        if apply is None:
            raise TypeError(f"{type(event).__name__} does not change a child's state")
        state = apply(state, event)
    return st.on_marks(state, marks) if marks else state


for _kind in core_kinds():
    register(_kind)
# The sources of the built-in kinds: the read model's per-source columns (`last_<source>_at`)
# are these; an extension's source is kept in its rows (child_sources, freshness) only, so it
# needs no migration.
CORE_SOURCES: tuple[str, ...] = freshness_sources()
