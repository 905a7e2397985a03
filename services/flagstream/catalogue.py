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

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .domain import events as ev
from .domain import state as st
from .domain.observations import Observation, merge

Mutator = Callable[[st.ChildState, Any], st.ChildState]


@dataclass(frozen=True, slots=True)
class Freshness:
    """How an event refreshes its source in the read model: the source's name, the date
    fields giving the day of data (the first one set wins: `left_on` before `joined_on`),
    and the field naming the school (None: the source is not per school)."""

    source: str
    days: tuple[str, ...]
    urn: str | None = "urn"


@dataclass(frozen=True, slots=True)
class Intake:
    """How a partner sends a generic stream to ingest: `POST /v1/streams/<label>` with a
        JSON body `{"records": [...]}` (or CSV), each record the event's own fields with `upn`
        in place of `child_key`. `source` is the partner system (an API key's source); the
        fields in `pseudonymise` hold partner references (e.g. a police incident number) and
        are replaced by a keyed hash before anything is kept or published. A key of scope `all`,
    or of the `scope` named, may send it."""

    source: str
    pseudonymise: tuple[str, ...] = ()
    scope: str = ""  # the API key scope that may send it besides "all" (e.g. "police")


@dataclass(frozen=True, slots=True)
class EventKind:
    """One kind of event, declared once."""

    event_type: type[Any]
    schema: str  # Avro schema name (schemas/<schema>.avsc, or in `schemas_dir`)
    label: str  # metric label, ingest's kind name, an API key's scope entry
    topic: str | None  # the flagstream.topics.Topics property carrying it; None: not canonical
    key: str | None = "child_key"  # the field its messages are keyed by; None: per partition
    mutate: Mutator | None = None  # how it changes a child's state; None: it does not
    freshness: Freshness | None = None
    observe: Callable[[Any], Observation] | None = None  # a generic stream's observation
    keep: int = 50  # a generic stream's newest observations kept per child (bounds state)
    intake: Intake | None = None  # accepted by ingest's generic stream endpoint
    schemas_dir: Path | None = None  # where an extension's .avsc lives
    sensitive: bool = False  # its details are for the DSL only (kept out of shared tables)

    def __post_init__(self) -> None:
        if self.observe is not None and self.mutate is None:
            object.__setattr__(self, "mutate", _observer(self))


def _observer(kind: EventKind) -> Mutator:
    observe, keep = kind.observe, kind.keep
    assert observe is not None

    def on_observed(state: st.ChildState, event: Any) -> st.ChildState:
        new = observe(event)
        observations = merge(state.observations, new, keep)
        return replace(state, observations=observations, as_of=st.later(state.as_of, new.on))

    return on_observed


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


def by_schema() -> dict[str, EventKind]:
    """Avro schema name -> its kind."""
    return {k.schema: k for k in _KINDS.values()}


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


def _built_in() -> None:
    """The kinds of the core partners and of Flagstream's own output."""
    fresh = Freshness
    for kind in (
        EventKind(ev.SchoolRecorded, "SchoolRecorded", "school", "schools", key="urn"),
        EventKind(
            ev.EnrolmentRecorded,
            "EnrolmentRecorded",
            "enrolment",
            "enrolments",
            mutate=st.on_enrolment,
            freshness=fresh("enrolment", ("left_on", "joined_on")),
        ),
        EventKind(
            ev.AttendanceMarkRecorded,
            "AttendanceMarkRecorded",
            "attendance_mark",
            "attendance",
            mutate=st.on_mark,
            freshness=fresh("register", ("date",)),
        ),
        EventKind(
            ev.AttendanceMarksRecorded,
            "AttendanceMarkBatch",
            "attendance_batch",
            "attendance",
            key=None,
        ),
        EventKind(
            ev.ChildEventsRecorded,
            "ChildEventsRecorded",
            "child_events",
            "child_events",
            key=None,
        ),
        EventKind(
            ev.SenProvisionRecorded,
            "SenProvisionRecorded",
            "sen_provision",
            "child_events",
            mutate=st.on_sen,
            freshness=fresh("sen", ("effective_on",)),
        ),
        EventKind(
            ev.FsmEligibilityRecorded,
            "FsmEligibilityRecorded",
            "fsm_eligibility",
            "child_events",
            mutate=st.on_fsm,
            freshness=fresh("fsm", ("eligible_to", "eligible_from"), urn=None),
        ),
        EventKind(
            ev.AssessmentRecorded,
            "AssessmentRecorded",
            "assessment",
            "child_events",
            mutate=st.on_assessment,
            freshness=fresh("assessment", ("assessed_on",)),
        ),
        EventKind(
            ev.FamilyCaseRecorded,
            "FamilyCaseRecorded",
            "family_case",
            "child_events",
            mutate=st.on_case,
            freshness=fresh("family", ("closed_on", "opened_on"), urn=None),
        ),
        EventKind(
            ev.DomesticAbuseNotified,
            "DomesticAbuseNotified",
            "domestic_abuse_notification",
            "child_events",
            mutate=st.on_notification,
            sensitive=True,  # no freshness: police is not a source anyone else may see
        ),
        EventKind(
            ev.DayEnded, "DayEnded", "day_ended", "attendance", key=None, mutate=st.on_day_ended
        ),
        EventKind(ev.RulesDeployed, "RulesDeployed", "rules_deployed", "clock", key=None),
        EventKind(
            ev.OutcomeRecorded,
            "OutcomeRecorded",
            "outcome",
            "outcomes",
            freshness=fresh("outcome", ("recorded_on",)),
        ),
        EventKind(ev.FlagChanged, "FlagChanged", "flag_changed", "flag_changes"),
        EventKind(ev.ChildFlagsSnapshot, "ChildFlagsSnapshot", "child_flags_snapshot", None),
        EventKind(
            ev.ChildFlagsSnapshots, "ChildFlagsSnapshots", "child_flags_snapshots", "child_flags"
        ),
    ):
        register(kind)


_built_in()
# The sources of the built-in kinds: the read model's per-source columns (`last_<source>_at`)
# are these; an extension's source is kept in its rows (child_sources, freshness) only, so it
# needs no migration.
CORE_SOURCES: tuple[str, ...] = freshness_sources()
