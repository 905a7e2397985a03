"""Every partner source as one day-by-day timeline: registers, moves, SEN, FSM, results, cases."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Final

from flagstream_tools.generator.groups import pupil_groups
from flagstream_tools.generator.marks import absence_propensity, registers, school_days
from flagstream_tools.generator.model import (
    AssessmentRecorded,
    County,
    DayEnded,
    DomesticAbuseNotified,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    SenProvision,
    SenRecorded,
)
from flagstream_tools.generator.moves import Move, enrolment_changes, plan_moves
from flagstream_tools.generator.partners import FSM_FACTOR, Partners, PupilState

# Chances per pupil per school day unless noted; FSM pupils' DA and case chances are
# multiplied by FSM_FACTOR.
_DA: Final = 0.00016  # a notified incident, per calendar day since the last school day
_DA_PRESENT: Final = 0.6  # share of incidents the child was present at
_DA_CASE: Final = 0.25  # chance a notification leads to a family case within two weeks
_FSM_START: Final = (0.0002, 0.0006)  # (pupils who attend well, pupils missing >= 7%)
_FSM_END: Final = 0.0002
# SEN reviews: N -> K (support starts), K -> N (no longer needed), K -> E (EHC plan issued).
_SEN_MOVES: Final[dict[SenProvision, tuple[tuple[float, SenProvision], ...]]] = {
    "N": ((0.0002, "K"),),
    "K": ((0.0001, "N"), (0.0001, "E")),
    "E": (),
}
_CASE_OPEN: Final = 0.0001
_CASE_CLOSE: Final = 1 / 150  # cases last about seven months on average
# Fictional, deliberately bland circumstances: Operation Encompass keeps these brief.
_CIRCUMSTANCES: Final = (
    "Verbal argument between adults at the home address; no injuries reported.",
    "Neighbour reported shouting late in the evening; officers attended.",
    "Adult arrested following a dispute at the family home.",
    "Former partner attended the address in breach of a court order.",
    "Argument between parents escalated; property damaged.",
    "Raised voices reported by a caller; parties separated by officers.",
    "Adult left the home overnight after a dispute; safety advice given.",
    "Dispute at a child-contact handover; no arrests made.",
)


def _since(day: date, previous: date | None) -> list[date]:
    """Calendar days whose incidents are notified on `day`: since the last school day."""
    first = previous if previous is not None else day - timedelta(days=1)
    return [first + timedelta(days=k) for k in range((day - first).days)]


def timeline(county: County, start: date, days: int, seed: int) -> Iterator[Item]:
    """All sources for `days` school days from start, deterministic by seed.

    First the baseline as at the start (SEN, FSM, past assessment results, open family
    cases); then for each school day its registers, exactly as registers(county, start, days,
    seed) yields them, that day's enrolment changes (plan_moves: a mover's leaving record
    then their joining record, a leaver's, a year-group change), that day's other partner
    records, and DayEnded(day). Pupils who left the county get no records after they left.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    rng = random.Random(f"flagstream.generator.sources/{seed}")
    groups = pupil_groups(county, seed)
    partners = Partners(county, start, absence_propensity(county, days, seed), groups, rng)
    yield from partners.baseline()
    dates = school_days(start, days)
    moves = plan_moves(county, dates, seed)
    due: dict[int, list[Move]] = defaultdict(list)  # school-day index -> moves, pupil order
    for move in moves.values():
        due[move.day].append(move)
    states = {s.pupil.upn: s for s in partners.states}
    gone: set[str] = set()  # left the county
    regs = registers(county, start, days, seed, moves)
    pending = next(regs, None)
    cases_due: dict[int, list[PupilState]] = defaultdict(list)  # school-day index -> pupils
    previous: date | None = None
    for i, day in enumerate(dates):
        while pending is not None and pending.day == day:
            yield pending
            pending = next(regs, None)
        for move in due.pop(i, ()):
            yield from enrolment_changes(move)
            _follow(states[move.pupil.upn], move, gone)
        # Other sources keep drawing for leavers, so nobody else's records change.
        yield from (x for x in _results(partners, day) if x.upn not in gone)
        changes = _day(partners, i, day, _since(day, previous), cases_due)
        yield from (x for x in changes if x.upn not in gone)
        yield DayEnded(day)
        previous = day


def _follow(state: PupilState, move: Move, gone: set[str]) -> None:
    """Later partner records carry the pupil's new school or year group."""
    if move.kind == "left":
        gone.add(move.pupil.upn)
    else:
        state.pupil = replace(state.pupil, urn=move.to, nc_year=move.nc_year)


def _results(partners: Partners, day: date) -> Iterator[AssessmentRecorded]:
    """Results published by today (KS2 in July, KS4 in August), in date then pupil order."""
    due = partners.upcoming
    n = 0
    while n < len(due) and due[n].assessed_on <= day:
        n += 1
    yield from due[:n]
    del due[:n]


def _day(
    partners: Partners,
    i: int,
    day: date,
    incident_days: list[date],
    cases_due: dict[int, list[PupilState]],
) -> Iterator[DomesticAbuseNotified | FsmRecorded | SenRecorded | FamilyCaseRecorded]:
    """One school day's changes, pupil by pupil; one draw per pupil on almost every day."""
    rnd = partners.rng.random
    da_chance = _DA * len(incident_days)
    for s in partners.states:
        upn, fsm = s.pupil.upn, s.fsm_from is not None
        factor = FSM_FACTOR if fsm else 1.0
        u = rnd()
        # Walk the pupil's chances in turn; u lands in at most one of them.
        if u < (h := da_chance * factor):
            on = incident_days[int(rnd() * len(incident_days))]
            yield DomesticAbuseNotified(
                upn,
                s.pupil.urn,
                on,
                rnd() < _DA_PRESENT,
                partners.police_reference(on),
                _CIRCUMSTANCES[int(rnd() * len(_CIRCUMSTANCES))],
            )
            if s.case is None and rnd() < _DA_CASE:
                cases_due[i + 1 + int(rnd() * 10)].append(s)
            continue
        u -= h
        if u < (h := _FSM_END if fsm else _FSM_START[s.absence >= 0.07]):
            if s.fsm_from is not None:
                yield FsmRecorded(upn, s.fsm_from, day)
                s.fsm_from = None
            else:
                s.fsm_from = day
                yield FsmRecorded(upn, day, None)
            continue
        u -= h
        for chance, to in _SEN_MOVES[s.sen]:
            if u < chance:
                s.sen = to
                yield SenRecorded(upn, s.pupil.urn, to, day)
                break
            u -= chance
        else:
            if s.case is not None and u < _CASE_CLOSE:
                yield replace(s.case, closed_on=day)
                s.case = None
            elif s.case is None and u < _CASE_OPEN * factor:
                yield partners.open_case(s, day, domestic_abuse=False)
    for s in cases_due.pop(i, ()):
        if s.case is None:  # unless one opened meanwhile
            yield partners.open_case(s, day, domestic_abuse=True)
