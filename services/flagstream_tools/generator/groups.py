"""Each pupil's group as at the start of a run: phase, FSM eligibility and SEN provision.

The absence model (marks.py) and the partner sources (partners.py) both read these, so a
pupil whose FSM or SEN record the sources send is also the pupil who misses more school.
Siblings (households.py) share FSM eligibility, as a household's benefits decide it.
Shares are calibrated against reference/absence_autumn_2024_25.toml.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal

from flagstream.domain.events import Phase
from flagstream_tools.generator.households import households
from flagstream_tools.generator.model import County, SenProvision

PhaseGroup = Literal["primary", "secondary", "special"]

# The DfE's school phases: first schools are primary; Dorset-style middle schools (Years 4-7)
# are "deemed primary"; upper schools are secondary.
PHASE_GROUP: Final[dict[Phase, PhaseGroup]] = {
    "PRIMARY": "primary",
    "FIRST": "primary",
    "MIDDLE": "primary",
    "SECONDARY": "secondary",
    "UPPER": "secondary",
    "SPECIAL": "special",
}
# Share of pupils eligible for FSM, and with SEN support / an EHC plan, by phase.
_FSM: Final[dict[PhaseGroup, float]] = {"primary": 0.247, "secondary": 0.259, "special": 0.493}
_SEN_K: Final[dict[PhaseGroup, float]] = {"primary": 0.145, "secondary": 0.13, "special": 0.02}
_SEN_E: Final[dict[PhaseGroup, float]] = {"primary": 0.032, "secondary": 0.03, "special": 0.98}
# FSM pupils are more often on SEN support or have a plan (an assumption: about 1.8 times).
_SEN_FSM_RATIO: Final = 1.8


@dataclass(frozen=True, slots=True)
class Group:
    """The groups one pupil belongs to at the start of the run."""

    phase: PhaseGroup
    fsm: bool
    sen: SenProvision


def _sen_chance(share: float, fsm_share: float, fsm: bool) -> float:
    # Split a phase's share between FSM and other pupils so the phase keeps its share.
    other = share / (1 + (_SEN_FSM_RATIO - 1) * fsm_share)
    return other * _SEN_FSM_RATIO if fsm else other


def pupil_groups(county: County, seed: int) -> dict[str, Group]:
    """Each pupil's group by UPN, deterministic by seed (its own random stream)."""
    rng = random.Random(f"flagstream.generator.groups/{seed}")
    homes = households(county, seed)
    draws: dict[str, float] = {}  # household -> the FSM draw its pupils share
    out: dict[str, Group] = {}
    for pupil in county.pupils:
        phase = PHASE_GROUP[county.school(pupil.urn).phase]
        u = rng.random()
        home = homes.get(pupil.upn)
        # One draw per household against each pupil's own phase share: siblings agree
        # unless their phases' shares straddle it, and every phase keeps its share.
        fsm = (u if home is None else draws.setdefault(home, u)) < _FSM[phase]
        e = _sen_chance(_SEN_E[phase], _FSM[phase], fsm) if phase != "special" else _SEN_E[phase]
        k = _sen_chance(_SEN_K[phase], _FSM[phase], fsm) if phase != "special" else _SEN_K[phase]
        y = rng.random()
        sen: SenProvision = "E" if y < e else "K" if y < e + k else "N"
        out[pupil.upn] = Group(phase, fsm, sen)
    return out
