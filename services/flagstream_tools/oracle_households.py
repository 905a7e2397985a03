"""The oracle's households, in plain code from the log (docs/families.md): who is in each
household, and each household case's latest record; every member then has every case.

It does not trust ingest's copies to have reached the right children: membership comes from
the enrolments and cases that name a household, and a case on a household counts for all its
members whichever child_key the record on the log was addressed to. A member ingest failed
to copy a case to is therefore a disagreement `flagstream reconcile` reports.
"""

from __future__ import annotations

from collections import defaultdict
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
