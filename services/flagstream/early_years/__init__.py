"""Early years and health visiting (0-5), keyed by NHS number: a stream built with the
catalogue as docs/adding-a-stream.md says - one entry, its schema beside this module, one
rule - loaded with FLAGSTREAM_EXTENSIONS=flagstream.early_years in every process.

The partner (an early-years setting, a health-visiting team) knows the child's NHS number,
not a UPN: its records are keyed by the number's keyed hash (`Intake(key_by="nhs_number")`)
until an enrolment brings both numbers; ingest then publishes them, and every later one,
under the child's key (docs/families.md). The rule EY is raised while the child's latest
check found them not on track: not at a good level of development at the EYFS profile, or
below the expected level at the 2-2 1/2 year review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flagstream import catalogue
from flagstream.catalogue import EventKind, Freshness, Intake
from flagstream.domain.events import Event
from flagstream.domain.observations import Observation
from flagstream.domain.rules import register_rule
from flagstream.domain.rules.base import FlagSettings, Outcome, Rule
from flagstream.domain.state import ChildState

STREAM = "early_years"
ON_TRACK, BELOW = "on track", "below"


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlyYearsOutcomeRecorded(Event):
    """An early-years check of a child: where, when, its reference and whether on track."""

    child_key: str
    setting: str  # the early-years setting or health-visiting team (Ofsted URN, e.g. EY123456)
    zone: str  # the Family Partnership Zone the child lives in, as the partner records it
    check_ref: str  # a keyed hash of the partner's reference for the check (ingest makes it)
    checked_on: date
    on_track: bool


def observe(event: EarlyYearsOutcomeRecorded) -> Observation:
    """The check as a dated fact: the same check (ref) corrected replaces the earlier."""
    return Observation(
        STREAM, event.check_ref, event.checked_on, ON_TRACK if event.on_track else BELOW
    )


KIND = catalogue.register(
    EventKind(
        EarlyYearsOutcomeRecorded,
        "EarlyYearsOutcomeRecorded",
        STREAM,
        "child_events",
        observe=observe,
        freshness=Freshness(STREAM, ("checked_on",), urn=None),
        intake=Intake(
            "early-years", pseudonymise=("check_ref",), scope="health", key_by="nhs_number"
        ),
        schemas_dir=Path(__file__).parent,
        place=("setting", "zone"),
    )
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlyYearsSettings(FlagSettings):
    """No settings beyond on/off."""


def early_years(state: ChildState, as_of: date, s: EarlyYearsSettings) -> Outcome:
    """Raised while the latest check on or before the as-of date found the child below."""
    checks = [o for o in state.observed(STREAM) if o.on <= as_of]
    if not checks:
        return Outcome(False, "no early-years check")
    latest = max(checks, key=lambda o: (o.on, o.ref))
    if latest.value == BELOW:
        return Outcome(True, f"not on track at the early-years check of {latest.on}")
    return Outcome(False, f"on track at the early-years check of {latest.on}")


EY = register_rule(
    Rule(
        "EY",
        EarlyYearsSettings,
        early_years,
        lambda s: "EY: raised while the latest early-years check found the child not on track",
        title="Early years",
        reads=("observations",),
    )
)
