"""A council's own stream and flag, as an extension: police anti-social behaviour (ASB)
incidents raise ASB when a child is named in N incidents within D days.

This module is all it takes (docs/adding-a-stream.md): the event class mirroring
AntisocialBehaviourRecorded.avsc beside it, one catalogue entry (how partners send it, how it
becomes an observation, which source it refreshes), and one rule. Load it in every process
with FLAGSTREAM_EXTENSIONS=tests.extensions.asb and switch the flag on in the rules file
with a `[flags.ASB]` table. Nothing in services/ names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flagstream import catalogue
from flagstream.catalogue import EventKind, Freshness, Intake
from flagstream.domain.events import Event
from flagstream.domain.observations import Observation
from flagstream.domain.rules import register_rule
from flagstream.domain.rules.base import FlagSettings, Outcome, Rule
from flagstream.domain.state import ChildState


@dataclass(frozen=True, slots=True, kw_only=True)
class AntisocialBehaviourRecorded(Event):
    """A child named in a police anti-social behaviour incident."""

    child_key: str
    incident_ref: str  # a keyed hash of the police incident number (ingest makes it)
    incident_on: date
    category: str


def observe(event: AntisocialBehaviourRecorded) -> Observation:
    """The incident as a dated fact of the `asb` stream: the same incident is the same ref."""
    return Observation("asb", event.incident_ref, event.incident_on, event.category)


KIND = catalogue.register(
    EventKind(
        AntisocialBehaviourRecorded,
        "AntisocialBehaviourRecorded",
        "asb",
        "child_events",
        observe=observe,
        freshness=Freshness("asb", ("incident_on",), urn=None),
        intake=Intake("police", pseudonymise=("incident_ref",), scope="police"),
        schemas_dir=Path(__file__).parent,
    )
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AsbSettings(FlagSettings):
    """incidents within days raise the flag."""

    incidents: int = 2
    days: int = 90


def asb(state: ChildState, as_of: date, s: AsbSettings) -> Outcome:
    """Raised while the child was named in `incidents` or more incidents in `days` days."""
    recent = [o for o in state.observed("asb") if as_of - timedelta(days=s.days) < o.on <= as_of]
    return Outcome(
        len(recent) >= s.incidents,
        f"{len(recent)} anti-social behaviour incident(s) in {s.days} days "
        f"(flag from {s.incidents})",
    )


ASB = register_rule(
    Rule(
        "ASB",
        AsbSettings,
        asb,
        lambda s: f"ASB: {s.incidents}+ incidents in {s.days} days",
        title="ASB",
    )
)
