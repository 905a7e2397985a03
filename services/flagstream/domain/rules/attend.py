"""Attend: persistent and severe absence, an early warning on a sharp drop, and the
10-unauthorised-sessions-in-10-weeks marker. School year to date, as of a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..register import school_year_start
from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendSettings(FlagSettings):
    """Thresholds from DfE definitions; windows in calendar weeks."""

    persistent_absence_pct: float = 10.0
    severe_absence_pct: float = 50.0
    min_possible_sessions: int = 20
    early_warning_weeks: int = 4
    early_warning_drop_points: float = 10.0
    unauthorised_sessions: int = 10
    unauthorised_weeks: int = 10


def _pct(absent: int, possible: int) -> float:
    return 100.0 * absent / possible if possible else 0.0


def attend(state: ChildState, as_of: date, s: AttendSettings) -> Outcome:
    """Tiers in order of severity: severe, persistent, early_warning, unauthorised."""
    register = state.register
    if register is not None and register.year_start < school_year_start(as_of):
        register = None  # A new school year with no marks yet.
    day = timedelta(days=1)
    window_start = as_of - timedelta(weeks=s.early_warning_weeks) + day
    since = as_of - timedelta(weeks=s.unauthorised_weeks) + day
    t = register.tally(as_of, window_start, since) if register else None
    if t is None or t.possible < s.min_possible_sessions:
        possible = t.possible if t else 0
        return Outcome(False, f"{possible} possible sessions, fewer than {s.min_possible_sessions}")
    possible, absent = t.possible, t.absent
    absent_pct = _pct(absent, possible)
    words = [
        f"attendance {100.0 - absent_pct:.1f}% ({possible - absent} of {possible} sessions); "
        f"absent {absent_pct:.1f}%"
    ]
    tiers: list[str] = []
    if absent_pct >= s.severe_absence_pct:
        tiers.append("severe")
        words.append(f"severe absence from {s.severe_absence_pct:g}%")
    elif absent_pct >= s.persistent_absence_pct:
        tiers.append("persistent")
        words.append(f"persistent absence from {s.persistent_absence_pct:g}%")
    # The rest of the year is what the recent window leaves: the window ends on as_of.
    recent, recent_absent = t.recent_possible, t.recent_absent
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
    if t.unauthorised >= s.unauthorised_sessions:
        tiers.append("unauthorised")
        words.append(
            f"{t.unauthorised} unauthorised sessions in {s.unauthorised_weeks} weeks "
            f"(penalty notice consideration from {s.unauthorised_sessions})"
        )
    if not tiers:
        words.append(f"below persistent absence ({s.persistent_absence_pct:g}%)")
    return Outcome(bool(tiers), "; ".join(words), tiers[0] if tiers else "")


def describe(s: AttendSettings) -> str:
    """The rule in words."""
    return (
        f"Attend: raised when absent for {s.persistent_absence_pct:g}% or more of possible "
        f"sessions this school year (severe from {s.severe_absence_pct:g}%), once there are "
        f"{s.min_possible_sessions}+ possible sessions; early warning when absence over the "
        f"last {s.early_warning_weeks} weeks is {s.early_warning_drop_points:g}+ points above "
        f"the rest of the year and at least {s.persistent_absence_pct:g}%; also raised "
        f"(tier 'unauthorised') at {s.unauthorised_sessions}+ unauthorised sessions in "
        f"{s.unauthorised_weeks} weeks, when penalty notices are considered."
    )


ATTEND = Rule("ATTEND", AttendSettings, attend, describe)
