"""Synthetic households for the county (docs/families.md): siblings, often at different schools
of one pyramid (a first or primary school and the secondary it feeds), each household with a
fictional reference; enrolments re-sent with it, and family cases opened on a household.

Deterministic from the seed. Share and sizes are rough: about half of pupils have a sibling
of school age (ONS families data put it nearer 60%), households of two or three pupils.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any, Final

from .model import County, Pupil

SHARE: Final = 0.5  # pupils in a household with a school-age sibling
SIZES: Final = (2, 2, 2, 3)  # pupils per household, drawn uniformly


def households(county: County, seed: int = 0, share: float = SHARE) -> dict[str, str]:
    """UPN -> household reference, for the pupils given a sibling; siblings are drawn from one
    pyramid, so many are at two schools (the pyramid's primary and secondary)."""
    rng = random.Random(f"households:{seed}")
    by_pyramid: dict[str, list[Pupil]] = defaultdict(list)
    for pupil in county.pupils:
        by_pyramid[county.school(pupil.urn).pyramid].append(pupil)
    refs: dict[str, str] = {}
    number = 0
    for pyramid in sorted(by_pyramid):
        pool = by_pyramid[pyramid][:]
        rng.shuffle(pool)
        target = int(len(pool) * share)
        taken = 0
        while taken < target and len(pool) >= 2:
            size = min(rng.choice(SIZES), len(pool))
            number += 1
            ref = f"HH-{seed:02d}-{number:06d}"
            for pupil in (pool.pop() for _ in range(size)):
                refs[pupil.upn] = ref
            taken += size
    return refs


def enrolment_json(p: Pupil) -> dict[str, Any]:
    """A pupil's enrolment as a school MIS sends it to ingest's /v1/enrolments (the demo's
    sender adds names, household and NHS number to it)."""
    return {
        "upn": p.upn,
        "urn": p.urn,
        "nc_year": p.nc_year,
        "sex": p.sex,
        "month_of_birth": p.month_of_birth,
        "joined_on": p.joined_on.isoformat(),
    }


def enrolments_with_households(county: County, refs: dict[str, str]) -> list[dict[str, Any]]:
    """The county's enrolments as a school MIS re-sends them, with each pupil's household."""
    return [{**enrolment_json(p), "household_ref": refs.get(p.upn)} for p in county.pupils]


def siblings(refs: dict[str, str]) -> dict[str, list[str]]:
    """Household reference -> its pupils' UPNs, in order."""
    out: dict[str, list[str]] = defaultdict(list)
    for upn, ref in sorted(refs.items()):
        out[ref].append(upn)
    return dict(out)
