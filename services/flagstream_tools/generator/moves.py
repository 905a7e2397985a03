"""Mid-year moves: pupils who change school within the county, leave it, or change year group."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from flagstream_tools.generator.model import County, EnrolmentChanged, Pupil

# Chances per pupil per school day. In-year ("non-standard") mobility in England is a few
# percent of pupils a year, higher among disadvantaged pupils; we take about 1.5% of pupils
# moving to another school in the same county over a 70-day term, and about 0.5% leaving
# it (moving away, independent school, elective home education), spread evenly over the
# term's days. A year-group change on the same roll (moved out of chronological year
# group, or a corrected MIS record) is much rarer: about 0.1% a term.
_MOVE: Final = 0.015 / 70
_LEAVE: Final = 0.005 / 70
_REGROUP: Final = 0.001 / 70
_LOCAL: Final = 0.7  # share of moves to a school in the same zone: most families move locally

MoveKind = Literal["moved", "left", "regrouped"]


@dataclass(frozen=True, slots=True)
class Move:
    """One pupil's mid-year change, in force from school day index `day` (1 or later).

    moved: off urn's roll after day-1, on `to`'s (another school of the kind - mainstream
    or special - that teaches the year group) from day; left: off the roll (and out of
    the county) after day-1; regrouped: in year group nc_year from day, same school.
    """

    pupil: Pupil
    kind: MoveKind
    day: int
    on: date  # the school day `day`
    last: date  # the school day before it: the last day on the old roll
    to: str  # school from `day` on (the pupil's own for "left" and "regrouped")
    nc_year: int


def plan_moves(county: County, dates: Sequence[date], seed: int) -> dict[str, Move]:
    """upn -> move, for the pupils who change during a run over these school days.

    Deterministic by seed and drawn from its own random stream, so registers and every
    other source stay exactly the same for the pupils who stay put.
    """
    if len(dates) < 2:
        return {}  # A change on the first day is indistinguishable from the starting roll.
    rng = random.Random(f"flagstream.generator.moves/{seed}")
    taught = {(p.urn, p.nc_year) for p in county.pupils}  # year groups each school has
    span = len(dates) - 1  # school days on which a change can show
    out: dict[str, Move] = {}
    for pupil in county.pupils:
        u = rng.random()
        if u >= (_MOVE + _LEAVE + _REGROUP) * span:
            continue
        day = rng.randint(1, span)
        if dates[day - 1] < pupil.joined_on:
            continue  # a run starting before the roll's September: nobody leaves unjoined
        kind: MoveKind = (
            "moved" if u < _MOVE * span else "left" if u < (_MOVE + _LEAVE) * span else "regrouped"
        )
        to, year = pupil.urn, pupil.nc_year
        if kind == "moved":
            found = _new_school(rng, county, pupil, taught)
            if found is None:
                continue  # no other school of the kind teaches the year group
            to = found
        elif kind == "regrouped":
            years = [y for y in (year - 1, year + 1) if (to, y) in taught]
            if not years:
                continue
            year = rng.choice(years)
        out[pupil.upn] = Move(pupil, kind, day, dates[day], dates[day - 1], to, year)
    return out


def _new_school(
    rng: random.Random, county: County, pupil: Pupil, taught: set[tuple[str, int]]
) -> str | None:
    here = county.school(pupil.urn)
    special = here.phase == "SPECIAL"
    # Any school of the kind that teaches the year group: in a three-tier area a Year 5
    # pupil may move from a middle school to a primary, or a Year 9 from an upper school
    # to a secondary; special-school pupils move to another special school.
    others = [
        s
        for s in county.schools
        if (s.phase == "SPECIAL") == special
        and s.urn != here.urn
        and (s.urn, pupil.nc_year) in taught
    ]
    local = [s for s in others if s.zone == here.zone]
    pool = local if local and rng.random() < _LOCAL else others
    return rng.choice(pool).urn if pool else None


def enrolment_changes(move: Move) -> Iterator[EnrolmentChanged]:
    """What the schools' MIS send on the day a move takes effect: leaver first, then joiner."""
    p = move.pupil
    if move.kind == "regrouped":
        yield EnrolmentChanged(
            p.upn, p.urn, move.nc_year, p.sex, p.month_of_birth, p.joined_on, None
        )
        return
    yield EnrolmentChanged(p.upn, p.urn, p.nc_year, p.sex, p.month_of_birth, p.joined_on, move.last)
    if move.kind == "moved":
        yield EnrolmentChanged(p.upn, move.to, move.nc_year, p.sex, p.month_of_birth, move.on, None)
