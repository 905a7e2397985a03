"""Demo logins for a generated county: one per role, scoped to its first school and zone."""

from __future__ import annotations

import random

from dashboard.users import DemoUser
from flagstream_tools.generator.model import County


def demo_users(county: County, seed: int | None = None) -> list[DemoUser]:
    """One login per role for a generated county: the first school and first zone are scopes."""
    rng = random.SystemRandom() if seed is None else random.Random(seed)

    def password() -> str:
        return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))

    school = county.schools[0]
    return [
        DemoUser("school", "school.staff", password(), school.urn),
        DemoUser("dsl", "school.dsl", password(), school.urn),
        DemoUser("zone", "zone.staff", password(), school.zone),
        DemoUser("manager", "manager", password(), None),
        DemoUser("admin", "admin", password(), None),
    ]
