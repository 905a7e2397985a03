"""Simulate schools' MIS register submissions: AM/PM marks, late corrections and resends."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from flagstream.domain.codes import CODES_2024
from flagstream.domain.events import Session
from flagstream_tools.generator import propensity
from flagstream_tools.generator.groups import pupil_groups
from flagstream_tools.generator.model import County, RawMark, Register
from flagstream_tools.generator.moves import Move, plan_moves

_FULL_DAY: Final = 0.75  # share of absence taken as whole days: a sick child is off all day
_SPELL: Final = 0.3  # least chance a child off today is off tomorrow too (illness runs on)
_SAME_REASON: Final = 0.8  # chance a spell keeps yesterday's reason
_LATE: Final = 0.02
_TRIP: Final = 0.03  # chance per school day that one year group is out on a visit
_CORRECTION: Final = 0.01  # absences first sent as N, with the reason following next day
_DUPLICATE: Final = 0.02  # registers the MIS sends twice


def _pool(weights: dict[str, int]) -> tuple[str, ...]:
    # Repeating codes by weight makes a draw one index instead of a cumulative search.
    return tuple(code for code, weight in weights.items() for _ in range(weight))


_AUTH_DAY: Final = _pool({"I": 74, "M": 7, "C": 8, "E": 3, "R": 4, "C1": 2, "J1": 2})
_UNAUTH_DAY: Final = _pool({"O": 65, "G": 35})
_AUTH_AM: Final = _pool({"M": 55, "I": 45})  # appointment, or unwell first thing
_UNAUTH_AM: Final = _pool({"U": 60, "O": 40})  # U: arrived after the register closed
_AUTH_PM: Final = _pool({"I": 50, "M": 50})  # sent home ill, or an afternoon appointment
_UNAUTH_PM: Final = ("O",)
# Before 19 August 2024 registers used the earlier code set (domain/codes.py): each code the
# simulation draws that is new in 2024 becomes the old code of the same statistical category,
# so a run from an earlier --start has the same attendance. (J1's forerunner J counted as
# attendance, so an interview drawn as an absence is C, "other authorised circumstances".)
_BEFORE_2024: Final = {"C1": "C", "C2": "C", "J1": "C", "K": "B", "Q": "Y"} | {
    f"Y{n}": "Y" for n in range(1, 8)
}


@dataclass(frozen=True, slots=True)
class _Rates:
    """Day-level chances that produce a given session absence rate."""

    enter: float  # off all day after a day in school
    stay: float  # off all day again after a day off
    half: float  # one session missed on a day otherwise in school
    unauth: float  # share of absences that are unauthorised


def _rates(rate: float, unauth: float) -> _Rates:
    full = _FULL_DAY * rate
    stay = max(_SPELL, full)
    # A two-state Markov chain whose long-run share of days off is `full`; half days
    # make up the rest, so sessions missed average `rate`.
    enter = full * (1 - stay) / (1 - full)
    half = 2 * (rate - full) / (1 - full)
    return _Rates(enter, stay, half, unauth)


@dataclass(slots=True)
class _Child:
    """One pupil's simulation state; mutable because it changes every school day."""

    upn: str
    nc_year: int
    before: _Rates
    after: _Rates
    switch: int  # school-day index from which `after` applies
    off: bool = False
    reason: str = "I"
    moves_on: int = 1 << 30  # school-day index from which the marks go to `to` (never)
    to: str | None = None  # the school the pupil moved to; None once left the county


def school_days(start: date, days: int) -> list[date]:
    """The first `days` weekdays on or after start (bank holidays are not modelled)."""
    out: list[date] = []
    day = start
    while len(out) < days:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def _children(county: County, rng: random.Random, days: int, seed: int) -> dict[str, list[_Child]]:
    lo = days // 3
    hi = max(lo, 2 * days // 3 - 1)
    rolls: dict[str, list[_Child]] = {s.urn: [] for s in county.schools}
    groups = pupil_groups(county, seed)
    for pupil in county.pupils:
        p = propensity.draw(rng, groups[pupil.upn])
        before = _rates(p.before, propensity.unauthorised_share(p.before))
        after = _rates(p.after, propensity.unauthorised_share(p.after))
        switch = rng.randint(lo, hi) if p.collapses else days  # days: never
        rolls[pupil.urn].append(_Child(pupil.upn, pupil.nc_year, before, after, switch))
    return rolls


def _codes(rnd: Callable[[], float], child: _Child, i: int, trip: int) -> tuple[str, str, bool]:
    """(AM code, PM code, any absence) for one child on school day i."""
    r = child.after if i >= child.switch else child.before
    if rnd() < (r.stay if child.off else r.enter):
        if not (child.off and rnd() < _SAME_REASON):
            pool = _UNAUTH_DAY if rnd() < r.unauth else _AUTH_DAY
            child.reason = pool[int(rnd() * len(pool))]
        child.off = True
        return child.reason, child.reason, True
    child.off = False
    if rnd() < r.half:
        unauth = rnd() < r.unauth
        if rnd() < 0.5:
            pool = _UNAUTH_AM if unauth else _AUTH_AM
            return pool[int(rnd() * len(pool))], "\\", True
        pool = _UNAUTH_PM if unauth else _AUTH_PM
        return "/", pool[int(rnd() * len(pool))], True
    if child.nc_year == trip:
        return "V", "V", False
    # One draw covers the rare cases and lateness, which are mutually exclusive here.
    x = rnd()
    if x < 0.003:
        return "P", "P", False  # sporting activity
    if x < 0.005:
        return "B", "B", False  # off-site education
    if x < 0.0055:
        return "Y1", "Y1", False  # transport failed
    if x < 0.007 and child.nc_year == 0:
        return "X", "X", False  # reception child under compulsory school age kept home
    return ("L" if x > 1 - _LATE else "/"), "\\", False


def _session_rate(r: _Rates) -> float:
    """The long-run share of sessions missed that `_rates` built these chances from."""
    full = r.enter / (r.enter + 1 - r.stay) if r.enter else 0.0
    return full + (1 - full) * r.half / 2


def absence_propensity(county: County, days: int, seed: int) -> dict[str, float]:
    """Each pupil's expected share of sessions missed over registers(county, _, days, seed).

    Replays the children that `registers` draws first from its seed, so the registers
    themselves are untouched; other sources use it to correlate with attendance.
    """
    out: dict[str, float] = {}
    for roll in _children(county, random.Random(seed), days, seed).values():
        for child in roll:
            switch = min(max(child.switch, 0), days)
            before, after = _session_rate(child.before), _session_rate(child.after)
            out[child.upn] = (switch * before + (days - switch) * after) / days if days else before
    return out


def registers(
    county: County,
    start: date,
    days: int,
    seed: int,
    moves: Mapping[str, Move] | None = None,
) -> Iterator[Register]:
    """Registers for `days` school days from start: per day, one per school in county order.

    Pupils who move (moves, by default the seed's plan_moves) are marked in their new
    school's register from the day they join it; a leaver's marks stop. Everyone else's
    marks are exactly those of a run without moves.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    rng = random.Random(seed)
    rnd = rng.random
    rolls = _children(county, rng, days, seed)
    dates = school_days(start, days)
    _apply(rolls, plan_moves(county, dates, seed) if moves is None else moves)
    pending: dict[str, list[RawMark]] = {}
    for i, day in enumerate(dates):
        last = i == days - 1
        old_codes = day < CODES_2024
        # A mover is simulated in their first school's place, so every other pupil sees
        # the same random draws as without moves; their marks go to the new school's
        # register, so the day's registers are sent once every school's marks are known.
        own: list[tuple[str, list[RawMark], list[RawMark], bool]] = []
        guests: dict[str, list[RawMark]] = defaultdict(list)
        guest_fixes: dict[str, list[RawMark]] = defaultdict(list)
        for school in county.schools:
            roll = rolls[school.urn]
            trip = roll[int(rnd() * len(roll))].nc_year if roll and rnd() < _TRIP else -1
            marks: list[RawMark] = []
            fixes: list[RawMark] = []
            for child in roll:
                am, pm, absent = _codes(rnd, child, i, trip)
                if old_codes:
                    am, pm = _BEFORE_2024.get(am, am), _BEFORE_2024.get(pm, pm)
                corrected = absent and rnd() < _CORRECTION
                into, into_fixes = marks, fixes
                if i >= child.moves_on:
                    if child.to is None:
                        continue  # left the county
                    into, into_fixes = guests[child.to], guest_fixes[child.to]
                    if am == "V" and child.nc_year == trip:
                        am, pm = "/", "\\"  # the old school's trip is not theirs
                if corrected:
                    # The MIS sends N until the reason is known, then resends the session.
                    sessions: tuple[tuple[Session, str], ...] = (("AM", am), ("PM", pm))
                    for session, code in sessions:
                        if code in ("/", "\\"):
                            into.append(RawMark(child.upn, day, session, code))
                        else:
                            into.append(RawMark(child.upn, day, session, "N"))
                            into_fixes.append(RawMark(child.upn, day, session, code))
                    continue
                into.append(RawMark(child.upn, day, "AM", am))
                into.append(RawMark(child.upn, day, "PM", pm))
            own.append((school.urn, marks, fixes, rnd() < _DUPLICATE))
        for urn, marks, fixes, twice in own:
            marks.extend(guests.pop(urn, ()))
            marks.extend(pending.pop(urn, ()))
            fixes.extend(guest_fixes.pop(urn, ()))
            if last:
                marks.extend(fixes)  # no next register, so the fix follows in this one
            elif fixes:
                pending[urn] = fixes
            register = Register(urn, day, tuple(marks))
            yield register
            if twice:
                yield register


def _apply(rolls: dict[str, list[_Child]], moves: Mapping[str, Move]) -> None:
    """Mark each mover's simulated child with the day they go and where to."""
    for roll in rolls.values():
        for child in roll:
            move = moves.get(child.upn)
            if move is not None and move.kind != "regrouped":
                child.moves_on = move.day
                child.to = move.to if move.kind == "moved" else None


def final_marks(regs: Iterable[Register]) -> dict[tuple[str, date, Session], str]:
    """The last mark sent for each (UPN, date, session), in stream order."""
    out: dict[tuple[str, date, Session], str] = {}
    for register in regs:
        for mark in register.marks:
            out[(mark.upn, mark.date, mark.session)] = mark.code
    return out
