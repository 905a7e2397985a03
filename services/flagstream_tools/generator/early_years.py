"""Synthetic early-years records (docs/families.md): children aged 0-4 known to early-years
settings and health visitors by NHS number only, each with a setting in a zone and a check
(the 2-2 1/2 year review or the EYFS profile) on track or not; and the NHS numbers of some
pupils, for enrolments that link a number to a UPN.

NHS numbers are drawn from 999 000 0000 - 999 999 9999, the range NHS England keeps for test
data, with a valid check digit: never a real person's. Rates are rough: about a third of
children are not on track (England's EYFS profile: 67% at a good level of development in
2023/24).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from ingest.nhs import check_digit_ok

from .model import County

BELOW: Final = 0.33  # children not on track at their latest check


@dataclass(frozen=True, slots=True)
class EarlyYearsChild:
    """A child not yet in school: its NHS number, setting, zone and latest check."""

    nhs_number: str
    setting: str
    zone: str
    check_ref: str
    checked_on: date
    on_track: bool


def nhs_number(rng: random.Random) -> str:
    """A synthetic NHS number in the test range, with a valid modulus 11 check digit."""
    while True:
        digits = f"999{rng.randrange(10**7):07d}"[:9]
        for last in "0123456789":
            if check_digit_ok(digits + last):
                return digits + last


def children(
    county: County, count: int, today: date, seed: int = 0, below: float = BELOW
) -> list[EarlyYearsChild]:
    """`count` children not yet in school, spread over the county's zones, two or three
    settings a zone, each checked in the last 180 days."""
    rng = random.Random(f"early-years:{seed}")
    zones = sorted({s.zone for s in county.schools})
    seen: set[str] = set()
    out = []
    for i in range(count):
        number = nhs_number(rng)
        while number in seen:
            number = nhs_number(rng)
        seen.add(number)
        zone = zones[i % len(zones)]
        out.append(
            EarlyYearsChild(
                number,
                f"EY{zones.index(zone) + 1:02d}{rng.randrange(1, 4):04d}",
                zone,
                f"HV-{seed:02d}-{i + 1:06d}",
                today - timedelta(days=rng.randrange(1, 180)),
                rng.random() >= below,
            )
        )
    return out


def records(kids: list[EarlyYearsChild]) -> list[dict[str, Any]]:
    """The records a health-visiting key sends to POST /v1/streams/early_years."""
    return [
        {
            "nhs_number": c.nhs_number,
            "setting": c.setting,
            "zone": c.zone,
            "check_ref": c.check_ref,
            "checked_on": c.checked_on.isoformat(),
            "on_track": "true" if c.on_track else "false",
        }
        for c in kids
    ]
