"""Family: an open family-support case, or a safeguarding notification within N days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilySettings(FlagSettings):
    """How long a domestic-abuse notification keeps the flag raised."""

    notification_days: int = 28


def family(state: ChildState, as_of: date, s: FamilySettings) -> Outcome:
    """Case tier before notification tier; notification details never enter the reason."""
    open_cases = [
        c for c in state.cases
        if c.opened_on <= as_of and (c.closed_on is None or c.closed_on > as_of)
    ]  # fmt: skip
    since = as_of - timedelta(days=s.notification_days)
    recent = [d for d in state.notifications if since < d <= as_of]
    words = []
    if open_cases:
        words.append(f"open family-support case since {min(c.opened_on for c in open_cases)}")
    if recent:
        words.append(
            f"safeguarding notification within {s.notification_days} days "
            f"(latest {max(recent)}; details restricted)"
        )
    if not words:
        return Outcome(False, "no open case or recent notification")
    return Outcome(True, "; ".join(words), "case" if open_cases else "notification")


def describe(s: FamilySettings) -> str:
    """The rule in words."""
    return (
        "Family: raised while a family-support case is open, or for "
        f"{s.notification_days} days after a domestic-abuse (Operation Encompass) notification."
    )


FAMILY = Rule("FAMILY", FamilySettings, family, describe)
