"""Attend: persistent and severe absence (raised at one threshold, cleared below a lower one),
an early warning on a sharp drop, and the 10 unauthorised sessions in 10 school weeks marker.
Absence is for the school year to date, as of a date; the school weeks span school years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..register import SessionRegister, register_origin
from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendSettings(FlagSettings):
    """Thresholds from DfE definitions; the early-warning window in calendar weeks, the
    unauthorised one in school weeks (weeks with a possible session in the child's register)."""

    persistent_absence_pct: float = 10.0
    # Once raised, a persistent absence flag stays until absence falls below this (hysteresis).
    persistent_clear_below_pct: float = 9.0
    # ... and stays at least this many days after it was last 10%+ (a minimum time raised).
    persistent_min_raised_days: int = 10
    severe_absence_pct: float = 50.0
    at_risk_pct: float = 5.0  # a band shown on lists, never a flag: at_risk_pct to persistent
    min_possible_sessions: int = 20
    early_warning_weeks: int = 4
    early_warning_drop_points: float = 10.0
    unauthorised_sessions: int = 10
    unauthorised_weeks: int = 10

    def __post_init__(self) -> None:
        if self.persistent_clear_below_pct > self.persistent_absence_pct:
            raise ValueError("persistent_clear_below_pct cannot be above persistent_absence_pct")
        if self.at_risk_pct > self.persistent_absence_pct:
            raise ValueError("at_risk_pct cannot be above persistent_absence_pct")


def _pct(absent: int, possible: int) -> float:
    return 100.0 * absent / possible if possible else 0.0


def band(possible: int, absent: int, s: AttendSettings) -> str:
    """The year-to-date absence band of a child's figures: severe, persistent, at_risk or ''
    (plain thresholds: lists show where a child is today, the flag how it got there)."""
    if possible < s.min_possible_sessions:
        return ""
    pct = _pct(absent, possible)
    if pct >= s.severe_absence_pct:
        return "severe"
    if pct >= s.persistent_absence_pct:
        return "persistent"
    return "at_risk" if pct >= s.at_risk_pct else ""


def attend(state: ChildState, as_of: date, s: AttendSettings) -> Outcome:
    """Tiers in order of severity: severe, persistent, early_warning, unauthorised."""
    register = state.register
    day = timedelta(days=1)
    window_start = as_of - timedelta(weeks=s.early_warning_weeks) + day
    # Unauthorised sessions over the whole register first: the school-week window is found
    # only when there are enough of them to matter.
    t = register.tally(as_of, window_start, register_origin(as_of)) if register else None
    unauthorised = t.unauthorised if t else 0
    since = as_of
    if register is not None and unauthorised >= s.unauthorised_sessions:
        since = register.school_weeks_from(as_of, s.unauthorised_weeks)
        unauthorised = register.unauthorised(since, as_of)
    tiers: list[str] = []
    words: list[str] = []
    if t is None or t.possible < s.min_possible_sessions:
        possible = t.possible if t else 0
        words.append(f"{possible} possible sessions, fewer than {s.min_possible_sessions}")
    else:
        assert register is not None
        _absence(register, t.possible, t.absent, as_of, s, tiers, words)
        _early_warning(t.possible, t.absent, t.recent_possible, t.recent_absent, s, tiers, words)
    if unauthorised >= s.unauthorised_sessions:
        tiers.append("unauthorised")
        words.append(
            f"{unauthorised} unauthorised sessions in {s.unauthorised_weeks} school weeks "
            f"from {since} (penalty notice consideration from {s.unauthorised_sessions})"
        )
    if t is not None and t.possible >= s.min_possible_sessions and not tiers:
        at_risk = band(t.possible, t.absent, s) == "at_risk"
        words.append(
            (f"at risk (absent {s.at_risk_pct:g}%+), " if at_risk else "")
            + f"below persistent absence ({s.persistent_absence_pct:g}%)"
        )
    return Outcome(bool(tiers), "; ".join(words), tiers[0] if tiers else "")


def _absence(
    register: SessionRegister, possible: int, absent: int, as_of: date, s: AttendSettings,
    tiers: list[str], words: list[str],
) -> None:  # fmt: skip
    absent_pct = _pct(absent, possible)
    words.append(
        f"attendance {100.0 - absent_pct:.1f}% ({possible - absent} of {possible} sessions); "
        f"absent {absent_pct:.1f}%"
    )
    if absent_pct >= s.severe_absence_pct:
        tiers.append("severe")
        words.append(f"severe absence from {s.severe_absence_pct:g}%")
    elif absent_pct >= s.persistent_absence_pct:
        tiers.append("persistent")
        words.append(f"persistent absence from {s.persistent_absence_pct:g}%")
    elif absent_pct >= s.persistent_clear_below_pct or _within_reach(possible, absent, s):
        held = register.held_since(
            as_of, s.persistent_absence_pct, s.persistent_clear_below_pct,
            s.min_possible_sessions, s.persistent_min_raised_days,
        )  # fmt: skip
        if held is not None:
            tiers.append("persistent")
            words.append(
                f"persistent absence: {s.persistent_absence_pct:g}%+ on {held}, {_clears(s)}"
            )


def _within_reach(possible: int, absent: int, s: AttendSettings) -> bool:
    """Whether absence can have been persistent_absence_pct on a day in the minimum time
    raised: each day back takes at most two possible sessions off, none absent."""
    kept = s.persistent_min_raised_days
    return kept > 0 and 100.0 * absent >= s.persistent_absence_pct * (possible - 2 * kept)


def _clears(s: AttendSettings) -> str:
    kept, level = s.persistent_min_raised_days, f"{s.persistent_absence_pct:g}%+"
    clear = f"{s.persistent_clear_below_pct:g}%"
    if not kept:
        return f"clears below {clear}"
    return f"clears once it has been below {clear} since it was last {level}, {kept}+ days ago"


def _early_warning(
    possible: int, absent: int, recent: int, recent_absent: int, s: AttendSettings,
    tiers: list[str], words: list[str],
) -> None:  # fmt: skip
    # The rest of the year is what the recent window leaves: the window ends on as_of.
    before, before_absent = possible - recent, absent - recent_absent
    drop = _pct(recent_absent, recent) - _pct(before_absent, before)
    if (
        recent >= s.min_possible_sessions // 2
        and before >= s.min_possible_sessions // 2
        and drop >= s.early_warning_drop_points
        and _pct(recent_absent, recent) >= s.persistent_absence_pct
    ):
        tiers.append("early_warning")
        words.append(
            f"early warning: attendance down {drop:.1f} points over the last "
            f"{s.early_warning_weeks} weeks"
        )


def describe(s: AttendSettings) -> str:
    """The rule in words: when it raises and when it clears."""
    return (
        f"Attend: raised when absent for {s.persistent_absence_pct:g}% or more of possible "
        f"sessions this school year (severe from {s.severe_absence_pct:g}%), once there are "
        f"{s.min_possible_sessions}+ possible sessions; it then {_clears(s)}; early warning "
        f"when absence over the "
        f"last {s.early_warning_weeks} weeks is {s.early_warning_drop_points:g}+ points above "
        f"the rest of the year and at least {s.persistent_absence_pct:g}% (cleared when not); "
        f"also raised (tier 'unauthorised') at {s.unauthorised_sessions}+ unauthorised "
        f"sessions in the last {s.unauthorised_weeks} school weeks (weeks with a possible "
        f"session, across terms and school years), when penalty notices are considered, and "
        f"cleared when fewer. Absent {s.at_risk_pct:g}% to under "
        f"{s.persistent_absence_pct:g}% is shown as at risk on lists, not flagged."
    )


ATTEND = Rule("ATTEND", AttendSettings, attend, describe, reads=("register",))
