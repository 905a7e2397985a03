"""How much school a pupil misses, by group: each pupil's chance of missing a session.

A pupil's rate is log-normal around a median set by their phase, FSM eligibility and SEN
provision (absence is skewed: most pupils miss little, a long tail misses a lot); a few
pupils, more often in the groups that miss most, attend until a mid-period day and then
mostly stop (the "collapse" the early-warning tier looks for). The constants are
calibrated against reference/absence_autumn_2024_25.toml over a 70-day autumn term.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from flagstream_tools.generator.groups import Group, PhaseGroup

_MEDIAN: Final = 0.012  # a primary pupil without FSM or SEN
_PHASE: Final[dict[PhaseGroup, float]] = {"primary": 1.0, "secondary": 1.62, "special": 1.15}
_FSM: Final = 2.5
_SEN: Final = {"N": 1.0, "K": 1.7, "E": 2.0}
_SPREAD: Final = {"N": 1.42, "K": 1.48, "E": 1.7}  # standard deviation of the log rate
_FSM_SPREAD: Final = 0.85  # FSM pupils' absence is higher but less spread out
_CAP: Final = 0.8  # nobody misses every session for a whole term by propensity alone
_COLLAPSE: Final = 0.02  # share of the lowest-risk group that collapses; grows with risk
_COLLAPSE_RATE: Final = (0.40, 0.60)


@dataclass(frozen=True, slots=True)
class Propensity:
    """A pupil's session absence rate before and after an optional collapse."""

    before: float
    after: float
    collapses: bool


def _median(group: Group) -> float:
    return _MEDIAN * _PHASE[group.phase] * (_FSM if group.fsm else 1.0) * _SEN[group.sen]


def draw(rng: random.Random, group: Group) -> Propensity:
    """One pupil's propensity; always three draws from rng, so pupils keep their streams."""
    median = _median(group)
    z, x, u = rng.gauss(0.0, 1.0), rng.random(), rng.random()
    spread = _SPREAD[group.sen] * (_FSM_SPREAD if group.fsm else 1.0)
    before = min(_CAP, median * math.exp(spread * z))
    if x < _COLLAPSE * math.sqrt(median / _MEDIAN):
        low, high = _COLLAPSE_RATE
        return Propensity(before, max(before, low + (high - low) * u), True)
    return Propensity(before, before, False)


def unauthorised_share(rate: float) -> float:
    """Share of a pupil's absences that are unauthorised: more among those who miss more."""
    return min(0.5, 0.07 + 1.3 * rate)
