"""FSM (currently eligible) and SEN (SEN support, no EHC plan)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class FsmSettings(FlagSettings):
    """FSM has no thresholds: eligible on the as-of date or not."""


def fsm(state: ChildState, as_of: date, _settings: FsmSettings) -> Outcome:
    """Raised while an eligibility period covers the as-of date."""
    for start, end in state.fsm:
        if start <= as_of and (end is None or as_of <= end):
            until = f" until {end}" if end else ""
            return Outcome(True, f"eligible for free school meals from {start}{until}")
    ended = [end for start, end in state.fsm if end is not None and end < as_of]
    return Outcome(False, f"eligibility ended {max(ended)}" if ended else "not eligible")


@dataclass(frozen=True, slots=True, kw_only=True)
class SenSettings(FlagSettings):
    """SEN has no thresholds: provision K (SEN support) without an EHC plan."""


def sen(state: ChildState, as_of: date, _settings: SenSettings) -> Outcome:
    """Raised when the provision in force on the as-of date is K."""
    current = [p for p in state.sen if p[0] <= as_of]
    if not current:
        return Outcome(False, "no SEN provision recorded")
    since, provision = current[-1]
    words = {"N": "no SEN provision", "K": "SEN support (K), no EHC plan", "E": "EHC plan (E)"}
    return Outcome(provision == "K", f"{words[provision]} since {since}")


FSM = Rule(
    "FSM",
    FsmSettings,
    fsm,
    lambda s: "FSM: raised while currently eligible",
    title="FSM",
    reads=("fsm",),
)
SEN = Rule(
    "SEN",
    SenSettings,
    sen,
    lambda s: "SEN: raised for SEN support (K) without an EHC plan",
    title="SEN",
    reads=("sen",),
)
