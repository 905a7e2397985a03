"""What a catalogue entry says about a kind of event (flagstream/catalogue.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

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
    # What names the child: "upn", or "nhs_number" for a partner without UPNs (health, early
    # years): keyed by the NHS number's hash until an enrolment links it (docs/families.md).
    key_by: Literal["upn", "nhs_number"] = "upn"


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
    # The fields (setting, zone) placing a child not yet in school (early years), kept per
    # child in the read model's child_places (docs/families.md); None: it places no child.
    place: tuple[str, str] | None = None

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
