"""The oracle's households and NHS links, in plain code from the log (docs/families.md): who
is in each household, and each household case's latest record; every member then has every
case. And an NHS number's records join the child an enrolment linked the number to.

It does not trust ingest's copies to have reached the right children: membership comes from
the enrolments and cases that name a household, and a case on a household counts for all its
members whichever child_key the record on the log was addressed to. A member ingest failed
to copy a case to is therefore a disagreement `flagstream reconcile` reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flagstream.domain import events as ev

CaseDates = tuple[date, date | None]


@dataclass(slots=True)
class Households:
    """Household facts gathered from a log, in any order."""

    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cases: dict[str, dict[str, tuple[datetime, CaseDates]]] = field(
        default_factory=lambda: defaultdict(dict)
    )

    def note(self, event: Any) -> bool:
        """Take an event's household facts; True if it is a case on a household (its dates
        belong to the household, not only to the child it was addressed to)."""
        household = getattr(event, "household_key", None)
        if not household or not isinstance(event, ev.EnrolmentRecorded | ev.FamilyCaseRecorded):
            return False
        if event.child_key:  # a case naming only its household makes no member
            self.members[household].add(event.child_key)
        if isinstance(event, ev.EnrolmentRecorded):
            return False
        held = self.cases[household].get(event.case_id)
        if held is None or held[0] <= event.recorded_at:  # the latest record of the case
            self.cases[household][event.case_id] = (
                event.recorded_at,
                (event.opened_on, event.closed_on),
            )
        return True

    def cases_of(self) -> dict[str, dict[str, CaseDates]]:
        """child_key -> case_id -> (opened_on, closed_on), from every household it is in."""
        out: dict[str, dict[str, CaseDates]] = defaultdict(dict)
        for household, children in self.members.items():
            for child in children:
                for case_id, (_, dates) in self.cases.get(household, {}).items():
                    out[child][case_id] = dates
        return out


@dataclass(slots=True)
class NhsLinks:
    """Enrolments linking an NHS number's key to a child's key, gathered from a log: the
    first link of each number (by recorded_at) stands, as in ingest."""

    links: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def note(self, event: Any) -> None:
        """Take an enrolment's link, if it brings one."""
        nhs_key = getattr(event, "nhs_key", None)
        if not nhs_key or not isinstance(event, ev.EnrolmentRecorded):
            return
        held = self.links.get(nhs_key)
        if held is None or event.recorded_at < held[0]:
            self.links[nhs_key] = (event.recorded_at, event.child_key)

    def merge(self, facts: MutableMapping[str, Any]) -> None:
        """One child, not two: a linked number's facts (observations of NHS-keyed streams)
        join the child's, whose own record of the same check is the newer, and the number's
        key is no child of its own any more."""
        for nhs_key, (_, child_key) in self.links.items():
            held = facts.pop(nhs_key, None)
            if held is None:
                continue
            observed = facts[child_key].observed
            for ref, observation in held.observed.items():
                observed.setdefault(ref, observation)
