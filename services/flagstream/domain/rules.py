"""Flag rules: pure functions of a child's state, evaluated as of an event date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .events import FlagName
from .state import ChildState


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Thresholds for the rules; the version is recorded on every flag change."""

    version: str = "attend-v1"
    persistent_absence_pct: float = 10.0
    min_possible_sessions: int = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether a flag is raised, and the evidence in words either way."""

    raised: bool
    reason: str


def attend(state: ChildState, config: RuleConfig) -> Outcome:
    """Persistent absence: absent >= threshold % of possible sessions, school year to date."""
    possible, absent = state.register.totals() if state.register else (0, 0)
    if possible < config.min_possible_sessions:
        return Outcome(
            False, f"{possible} possible sessions, fewer than {config.min_possible_sessions}"
        )
    absent_pct = 100.0 * absent / possible
    raised = absent_pct >= config.persistent_absence_pct
    return Outcome(
        raised,
        f"attendance {100.0 - absent_pct:.1f}% ({possible - absent} of {possible} sessions); "
        f"absent {absent_pct:.1f}%, persistent absence from {config.persistent_absence_pct:g}%",
    )


RULES: dict[FlagName, Callable[[ChildState, RuleConfig], Outcome]] = {"ATTEND": attend}


def evaluate(state: ChildState, config: RuleConfig) -> dict[FlagName, Outcome]:
    """Each rule's outcome for this child."""
    return {flag: rule(state, config) for flag, rule in RULES.items()}
