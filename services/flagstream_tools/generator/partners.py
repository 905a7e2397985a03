"""Partner records per pupil: SEN, FSM, attainment and family cases as at a timeline's start."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from flagstream.domain.events import OUTCOME_AREAS
from flagstream_tools.generator.attainment import year_results
from flagstream_tools.generator.county import _YEARS, SCHOOL_YEAR
from flagstream_tools.generator.groups import Group
from flagstream_tools.generator.model import (
    AssessmentRecorded,
    County,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    Pupil,
    SenProvision,
    SenRecorded,
)

FSM_FACTOR: Final = 2.5  # FSM pupils' extra chance of a family case or a DA notification
_CASE: Final = 0.022  # chance of an open family-support case at the start (not FSM)
# Attainment: ability ~ N(shift, 1); each subject mixes it with noise.
_ABILITY_SHIFT: Final[dict[SenProvision, float]] = {"N": 0.0, "K": -0.8, "E": -1.6}
_FSM_SHIFT: Final = -0.55
_BASE: Final = 0.42  # raises every pupil: tunes the overall share below expected
# Chance of each outcome area on a new case; pupils who miss school have education on more.
_AREA_CHANCE: Final[dict[str, float]] = {
    "education": 0.35,
    "early_years": 0.02,
    "health": 0.35,
    "substance_use": 0.1,
    "family_relationships": 0.5,
    "abuse_exploitation": 0.08,
    "crime": 0.1,
    "domestic_abuse": 0.2,
    "housing": 0.2,
    "finance": 0.3,
}
_PHASES_FOR: Final = {6: ("PRIMARY", "MIDDLE", "SPECIAL"), 11: ("SECONDARY", "UPPER", "SPECIAL")}


@dataclass(slots=True)
class PupilState:
    """One pupil's partner-side state; mutable because sources change it day by day."""

    pupil: Pupil
    absence: float  # expected share of sessions missed over the run
    ability: float
    sen: SenProvision
    fsm_from: date | None  # start of the open FSM period, if any
    case: FamilyCaseRecorded | None = None  # the open family-support case, if any


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (Monday 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _weekday_between(rng: random.Random, lo: date, hi: date) -> date:
    day = lo + timedelta(days=rng.randrange(max(1, (hi - lo).days + 1)))
    return day - timedelta(days=max(0, day.weekday() - 4))  # a weekend moves to Friday


class Partners:
    """Every pupil's partner state and the records that set it up or change it."""

    def __init__(
        self,
        county: County,
        start: date,
        absence: dict[str, float],
        groups: Mapping[str, Group],
        rng: random.Random,
    ) -> None:
        """absence and groups by UPN, as marks.absence_propensity and groups.pupil_groups."""
        self.county = county
        self.start = start
        self.rng = rng
        self.states: list[PupilState] = []
        self.upcoming: list[AssessmentRecorded] = []  # results due on or after the start
        self._case_no = rng.randrange(100_000, 400_000)
        self._police_no = rng.randrange(1_000, 9_000)
        census = self.census_day()
        for pupil in county.pupils:
            x, sen, fsm = absence[pupil.upn], groups[pupil.upn].sen, groups[pupil.upn].fsm
            fsm_from = None
            if fsm:
                # From nursery onwards, in a past school year where the pupil had one.
                lo = date(SCHOOL_YEAR - pupil.nc_year - 1, 9, 1)
                fsm_from = _weekday_between(rng, lo, max(lo, census - timedelta(days=1)))
            ability = rng.gauss(_BASE + _ABILITY_SHIFT[sen] + _FSM_SHIFT * fsm, 1.0)
            self.states.append(PupilState(pupil, x, ability, sen, fsm_from))

    def census_day(self) -> date:
        """1 September of the school year the run starts in."""
        return date(self.start.year - (self.start.month < 9), 9, 1)

    def baseline(self) -> Iterator[Item]:
        """Census-like records as at the start: SEN, FSM, past results, open cases."""
        start, census = self.start, self.census_day()
        for s in self.states:
            yield SenRecorded(s.pupil.upn, s.pupil.urn, s.sen, census)
        for s in self.states:
            if s.fsm_from is not None:
                yield FsmRecorded(s.pupil.upn, s.fsm_from, None)
        for s in self.states:
            past: dict[str, AssessmentRecorded] = {}
            for result in self.results(s):
                if result.assessed_on < start:
                    past[result.assessment] = result  # census-like: each kind's latest
                else:
                    self.upcoming.append(result)
            yield from past.values()
        self.upcoming.sort(key=lambda r: r.assessed_on)  # stable: pupil order within a day
        for s in self.states:
            if self.rng.random() < _CASE * (FSM_FACTOR if s.fsm_from else 1):
                opened = _weekday_between(
                    self.rng, start - timedelta(days=360), start - timedelta(days=7)
                )
                yield self.open_case(s, opened, domestic_abuse=False)

    def results(self, s: PupilState) -> list[AssessmentRecorded]:
        """KS2 (July of Year 6) and KS4 (August of Year 11) results the pupil has or will have,
        then every year group's results of this school year and the two before (attainment.py),
        each kind in date order; the pupil's year group is theirs in the run's school year."""
        out: list[AssessmentRecorded] = []
        rng, year, upn = self.rng, s.pupil.nc_year, s.pupil.upn
        first = self.census_day().year  # the pupil is in Year `year` in the run's school year
        if year >= 6:
            on = nth_weekday(first - year + 7, 7, 1, 2)  # results: second Tuesday of July
            urn = self._school_for(s.pupil, 6)
            for subject in ("KS2_READING", "KS2_MATHS"):
                score = 104 + 7 * (0.8 * s.ability + 0.6 * rng.gauss(0, 1))
                out.append(AssessmentRecorded(upn, urn, subject, str(_clamp(score, 80, 120)), on))
            w = 0.8 * s.ability + 0.6 * rng.gauss(0, 1)
            ta = "WTS" if w < -4 / 7 else "GDS" if w > 1.15 else "EXS"
            out.append(AssessmentRecorded(upn, urn, "KS2_WRITING", ta, on))
        if year >= 11:
            on = nth_weekday(first - year + 12, 8, 3, 3)  # third Thursday of August
            urn = self._school_for(s.pupil, 11)
            for subject in ("KS4_ENGLISH", "KS4_MATHS"):
                grade = 4.6 + 1.9 * (0.8 * s.ability + 0.6 * rng.gauss(0, 1))
                out.append(AssessmentRecorded(upn, urn, subject, str(_clamp(grade, 1, 9)), on))
        out.extend(year_results(s.pupil, s.ability, first, self._school_at))
        return out

    def _school_at(self, pupil: Pupil, group: int, on: date, rng: random.Random) -> str:
        """Where a pupil sat an assessment in a year group: their school if they were on its
        roll then and it teaches that year, else one that does in their pyramid."""
        here = self.county.school(pupil.urn)
        if pupil.joined_on <= on and group in _YEARS.get(here.phase, ()):
            return here.urn
        local = [
            s
            for s in self.county.schools
            if group in _YEARS.get(s.phase, ()) and s.phase != "SPECIAL"
        ]
        near = [s.urn for s in local if s.pyramid == here.pyramid]
        return rng.choice(near or [s.urn for s in local] or [here.urn])

    def _school_for(self, pupil: Pupil, year: int) -> str:
        """The school a pupil most likely sat a key stage at: theirs, or one in their pyramid."""
        phases = _PHASES_FOR[year]
        here = self.county.school(pupil.urn)
        if here.phase in phases:
            return here.urn
        local = [s.urn for s in self.county.schools if s.phase in phases[:2]]
        near = [u for u in local if self.county.school(u).pyramid == here.pyramid]
        return self.rng.choice(near or local or [here.urn])

    def open_case(self, s: PupilState, on: date, *, domestic_abuse: bool) -> FamilyCaseRecorded:
        """Open a family-support case for the pupil and return its record."""
        chance = dict(_AREA_CHANCE)
        if s.absence >= 0.1:
            chance["education"] = 0.8
        if s.pupil.nc_year <= 0:
            chance["early_years"] = 0.3
        if domestic_abuse:
            chance["domestic_abuse"] = 1.0
        areas = tuple(a for a in OUTCOME_AREAS if self.rng.random() < chance[a])
        self._case_no += 1
        s.case = FamilyCaseRecorded(
            s.pupil.upn, f"FS-{self._case_no:06d}", on, None, areas or ("family_relationships",)
        )
        return s.case

    def police_reference(self, incident_on: date) -> str:
        self._police_no += 1
        return f"OE/{incident_on.year}/{self._police_no:06d}"


def _clamp(x: float, lo: int, hi: int) -> int:
    return min(hi, max(lo, round(x)))
