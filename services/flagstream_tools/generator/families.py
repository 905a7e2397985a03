"""The family around the child in a generated run (docs/families.md): what `flagstream demo`
adds to a county and its timeline so that households and early years are exercised.

* Each pupil given a sibling by households.py carries the household reference on its
  enrolment (`Pupil.household_ref`), so siblings - often at two schools of a pyramid - are
  linked.
* About half of the family-support cases of a pupil in a household are opened on the
  household (`FamilyCaseRecorded.household_ref`; the open and the close record alike), so
  the case reaches every child of it; a quarter of those name only the household (`upn`
  '', as a family-support team holding no UPN sends them).
* Early-years checks by NHS number (early_years.py): children not yet in school, and some
  Reception pupils whose enrolment brings their NHS number too (`Pupil.nhs_number`), so
  their check joins their state. The checks are in the baseline, before the first school day;
  on each school day a child not yet in school may be checked again (its EY flag raised or
  cleared as the new check says).

Deterministic from the seed. The references and NHS numbers are fictional (NHS numbers in the
999 test range); the run file carries them as it carries UPNs, and ingest and the oracle key
them alike (canonical.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

from .early_years import BELOW, children
from .households import households
from .model import County, DayEnded, EarlyYearsRecorded, FamilyCaseRecorded, Item

HOUSEHOLD_CASES: Final = 0.5  # share of a household pupil's cases opened on the household
HOUSEHOLD_ONLY: Final = 0.25  # of those, the share naming no pupil, only the household
RECEPTION_LINKED: Final = 0.2  # Reception pupils whose enrolment brings an NHS number
NOT_IN_SCHOOL_PER_ZONE: Final = 30  # early-years children known only by NHS number
RECHECK: Final = 0.01  # chance a child not yet in school is checked again on a school day


@dataclass(frozen=True, slots=True)
class Families:
    """What was added, for the demo to say."""

    households: int
    household_pupils: int
    household_cases: int  # distinct cases opened on a household
    household_only: int  # of them, cases naming only the household (no UPN)
    early_years_children: int  # children with an early-years check
    linked_pupils: int  # of them, pupils whose enrolment brings the NHS number
    rechecks: int  # checks again on school days, of children not yet in school


def _setting_in(setting: str, zone_index: int) -> str:
    """The setting code early_years.children draws (`EY<zone><n>`), in the given zone."""
    return f"EY{zone_index + 1:02d}{setting[4:]}"


def _rechecks(first: list[Item], day: date, rng: random.Random) -> list[Item]:
    """The children of these first checks (not yet in school) checked again on `day`."""
    out: list[Item] = []
    for c in first:
        if isinstance(c, EarlyYearsRecorded) and rng.random() < RECHECK:
            ref = f"{c.check_ref}/{day.isoformat()}"
            out.append(replace(c, check_ref=ref, checked_on=day, on_track=rng.random() >= BELOW))
    return out


def _on_household(case_id: str, seed: int) -> tuple[bool, bool]:
    """(on the household, naming only the household) for a case, drawn once per case id."""
    u = random.Random(f"household-case:{seed}:{case_id}").random()
    return u < HOUSEHOLD_CASES, u < HOUSEHOLD_CASES * HOUSEHOLD_ONLY


def add_families(
    county: County,
    items: list[Item],
    seed: int,
    start: date,
    per_zone: int = NOT_IN_SCHOOL_PER_ZONE,
) -> tuple[County, list[Item], Families]:
    """The county with households and NHS numbers on its pupils, and the timeline with
    household cases and early-years checks (each checked in the 180 days before start)."""
    refs = households(county, seed)
    rng = random.Random(f"families:{seed}")
    reception = [p.upn for p in county.pupils if p.nc_year == 0]
    linked = [upn for upn in reception if rng.random() < RECEPTION_LINKED]
    kids = children(county, len(linked) + per_zone * len(county.zones()), start, seed)
    by_upn = dict(zip(linked, kids, strict=False))
    zone_of = {s.urn: s.zone for s in county.schools}
    pupils = tuple(
        replace(
            p,
            household_ref=refs.get(p.upn),
            nhs_number=by_upn[p.upn].nhs_number if p.upn in by_upn else None,
        )
        for p in county.pupils
    )
    zones = {c.nhs_number: c.zone for c in kids}
    for p in county.pupils:
        if p.upn in by_upn:  # a pupil's last check before school was where its school is
            zones[by_upn[p.upn].nhs_number] = zone_of[p.urn]
    names = county.zones()
    checks: list[Item] = [
        EarlyYearsRecorded(
            c.nhs_number,
            _setting_in(c.setting, names.index(zones[c.nhs_number])),
            zones[c.nhs_number],
            c.check_ref,
            c.checked_on,
            c.on_track,
        )
        for c in kids
    ]
    cases: set[str] = set()
    only: set[str] = set()
    out: list[Item] = []
    rechecks = 0
    for item in items:
        if isinstance(item, DayEnded):  # before the day ends, its checks again
            again = _rechecks(checks[len(by_upn) :], item.day, rng)
            rechecks += len(again)
            out.extend(again)
        if isinstance(item, FamilyCaseRecorded) and item.upn in refs:
            on, alone = _on_household(item.case_id, seed)
            if on:
                cases.add(item.case_id)
                item = replace(item, household_ref=refs[item.upn])
            if alone:
                only.add(item.case_id)
                item = replace(item, upn="")
        out.append(item)
    summary = Families(
        len(set(refs.values())),
        len(refs),
        len(cases),
        len(only),
        len(kids),
        len(by_upn),
        rechecks,
    )
    return County(county.name, county.schools, pupils), checks + out, summary
