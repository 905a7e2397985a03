"""Family: an open family-support case (the council's Family flag, from Supporting Families
case data). Safeguarding notifications raise SAFEGUARD instead (safeguard.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilySettings(FlagSettings):
    """No settings beyond on/off."""


def family(state: ChildState, as_of: date, s: FamilySettings) -> Outcome:
    """Raised while a family-support case is open on the as-of date."""
    open_cases = [
        c for c in state.cases
        if c.opened_on <= as_of and (c.closed_on is None or c.closed_on > as_of)
    ]  # fmt: skip
    if not open_cases:
        return Outcome(False, "no open family-support case")
    since = min(c.opened_on for c in open_cases)
    return Outcome(True, f"open family-support case since {since}", "case")


def describe(s: FamilySettings) -> str:
    """The rule in words."""
    return "Family: raised while a family-support case is open."


FAMILY = Rule("FAMILY", FamilySettings, family, describe, reads=("cases",))
